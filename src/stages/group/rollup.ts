/**
 * Roll-up: processes a profile drops are not lost. Their gauges (RSS, threads,
 * fds, CPU utilization) are summed per tier each cycle, and their cumulative
 * counters grow by exactly what they consumed since the previous cycle, so
 * host totals stay correct: rate(kept) + rate(roll-up) = rate(all).
 */
import type { RollupGroup } from '../../core/frame.js';
import type { ProcessBatch } from '../../sources/batch.js';
import { TIERS } from '../../telemetry/names.js';
import { NCOUNTERS } from '../rates/counters.js';

export class RollupMemory {
  /** start time of the cumulative roll-up series, ms since epoch */
  startMs: number;
  /** per tier, cumulative sums in COUNTERS order */
  cumulative: Float64Array[];

  constructor(startMs: number) {
    this.startMs = startMs;
    this.cumulative = TIERS.map(() => new Float64Array(NCOUNTERS));
  }
}

export function rollUp(
  b: ProcessBatch,
  keep: Uint8Array,
  tier: Uint8Array,
  cpuCores: Float64Array,
  deltas: Float64Array,
  mem: RollupMemory,
): RollupGroup[] {
  const groups: RollupGroup[] = TIERS.map((_, t) => ({
    tier: t,
    count: 0,
    cpuCores: 0,
    rssBytes: 0,
    vsizeBytes: 0,
    threads: 0,
    fds: 0,
    cumulative: mem.cumulative[t]!,
    startMs: mem.startMs,
  }));
  for (let i = 0; i < b.count; i++) {
    if (keep[i] === 1) continue;
    const g = groups[tier[i]!]!;
    g.count++;
    g.cpuCores += cpuCores[i]!;
    g.rssBytes += b.rssBytes[i]!;
    g.vsizeBytes += b.vsizeBytes[i]!;
    g.threads += b.threads[i]!;
    if (b.fds[i]! > 0) g.fds += b.fds[i]!;
    const base = i * NCOUNTERS;
    const c = g.cumulative;
    for (let k = 0; k < NCOUNTERS; k++) c[k]! += deltas[base + k]!;
  }
  return groups.filter((g) => g.count > 0);
}
