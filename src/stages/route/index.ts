/**
 * route: the path each exported row takes. Sampled rows go on the sampled
 * path; critical processes and anomalies on the critical path (small
 * requests, drained first); every other kept row on the standard path (where
 * the heartbeat stage may skip it). The route also tells the next scan which
 * rows to read in full (`scan.detail: exported`) and which rows no bound may
 * exclude (critical and anomalous ones).
 */
import { type Frame, LANE_CRITICAL, LANE_SAMPLED, LANE_STANDARD } from '../../core/frame.js';
import type { Stage } from '../../pipeline/stage.js';
import type { ScanBounds } from '../../sources/bounds.js';
import type { ScanOptions } from '../../sources/scanner.js';
import { TIER_CRITICAL } from '../../telemetry/names.js';

/** What the next scan is asked to do, from this cycle's decisions. */
export interface NextScan {
  /** pids to read `status`, `io` and `fd/` for; undefined = every process */
  detail?: Int32Array;
  /** pids no scan bound may exclude */
  keep?: Int32Array;
}

export class RouteStage implements Stage {
  readonly name = 'route';
  /** what this cycle's decisions ask of the next scan */
  next: NextScan = {};
  /** the options handed to the scanner, reused from scan to scan */
  private readonly scan: ScanOptions = {};

  constructor(
    /** scan.detail: exported */
    private readonly detailExported: boolean,
    /** the scan's bounds (bounded discovery); undefined when off */
    private readonly bounds?: ScanBounds,
  ) {}

  /** What the next scan reads: full detail for the exported pids, the bounds and the pids they must keep. */
  scanOptions(): ScanOptions {
    const next = this.next;
    const o = this.scan;
    if (next.detail) o.detail = next.detail;
    if (this.bounds) {
      o.bounds = this.bounds;
      if (next.keep) o.keep = next.keep;
    }
    return o;
  }

  process(f: Frame): void {
    const b = f.batch;
    const facts = f.facts;
    const bounded = this.bounds !== undefined;
    const keepPids: number[] = [];
    const detailPids: number[] = [];
    for (let i = 0; i < f.n; i++) {
      const critical = f.tier[i] === TIER_CRITICAL;
      const anomalous = f.anomaly[i] !== 0;
      if (critical) facts.criticalPresent++;
      if (bounded && (critical || anomalous)) keepPids.push(b.pid[i]!);
      const sampled = f.sampled[i] === 1;
      if (f.keep[i] !== 1 && !sampled) continue;
      if (this.detailExported) detailPids.push(b.pid[i]!);
      if (sampled) {
        f.lane[i] = LANE_SAMPLED;
      } else if (critical || anomalous) {
        f.lane[i] = LANE_CRITICAL;
        if (critical) facts.criticalExported++;
        if (anomalous) facts.anomaliesExported++;
      } else {
        f.lane[i] = LANE_STANDARD;
      }
    }
    this.next = {
      detail: this.detailExported ? Int32Array.from(detailPids) : undefined,
      keep: bounded ? Int32Array.from(keepPids) : undefined,
    };
  }
}
