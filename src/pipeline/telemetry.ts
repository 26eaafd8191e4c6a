/**
 * Counting done once for the whole pipeline: the cumulative totals that
 * nrdot's self-telemetry reports (since the agent started), fed from each
 * cycle's batch counters, the stages' facts and the exporters' outcomes.
 */
import type { FrameFacts } from '../core/frame.js';
import type { ScanCounters } from '../sources/batch.js';
import { EXCLUDE_REASONS } from '../telemetry/self.js';
import type { ExportOutcome } from './types.js';

export class PipelineTotals {
  vanished = 0;
  denied = 0;
  promoted = { cpu: 0, memory: 0, new: 0 };
  excluded: Record<(typeof EXCLUDE_REASONS)[number], number> = {
    max_processes: 0,
    name: 0,
    cpu: 0,
    rss: 0,
    age: 0,
  };
  /** failed deliveries per exporter since start */
  exportErrors: Record<string, number> = {};
  /** failures already reported in a cycle report */
  private errorsReported = 0;

  /** At the start of a cycle: what the scan counted. */
  scanned(c: ScanCounters): void {
    this.vanished += c.vanished;
    this.denied += c.denied;
    const ex = c.excluded;
    if (ex) for (const r of EXCLUDE_REASONS) this.excluded[r] += ex[r];
  }

  /** After scoring: new promotions. */
  promotions(facts: FrameFacts): void {
    this.promoted.cpu += facts.promoted.cpu;
    this.promoted.memory += facts.promoted.memory;
    this.promoted.new += facts.promoted.new;
  }

  /**
   * After the export: outcomes, and the sink's own failure counts (queued
   * exporters fail while draining). Returns the failures since the previous
   * cycle's report.
   */
  exported(outcomes: readonly ExportOutcome[], counts?: Record<string, number>): number {
    for (const e of outcomes) {
      if (!e.ok) this.exportErrors[e.exporter] = (this.exportErrors[e.exporter] ?? 0) + 1;
      else this.exportErrors[e.exporter] ??= 0;
    }
    if (counts) for (const [k, v] of Object.entries(counts)) this.exportErrors[k] = v;
    let now = 0;
    for (const v of Object.values(this.exportErrors)) now += v;
    const since = now - this.errorsReported;
    this.errorsReported = now;
    return since;
  }
}
