/**
 * What happens between the profile decision and the encoder: the memory
 * governor's cuts, the sampled path, and the standard path's heartbeat.
 * Pure functions over the batch's columns.
 */

import { FLAG_DETAIL, type ProcessBatch } from '../../sources/batch.js';
import { TIER_CRITICAL, TIER_IMPORTANT, TIERS } from '../../telemetry/names.js';
import { identityUnit, sampleRate } from '../sample/sampling.js';

/** The part of a memory-governor tier policy the router applies. */
export interface MemoryCut {
  /** tier names whose processes are rolled up instead of exported */
  dropTiers: ReadonlySet<string>;
  /** keep probability for important processes (1 = all) */
  importantKeep: number;
  /** only critical processes and anomalies are exported */
  criticalOnly: boolean;
}

/**
 * Roll up what the memory governor says to drop. Critical rows and forced
 * rows (anomalies) are never touched. Mutates `keep`; returns the rows cut and their data points.
 */
export function applyMemoryCut(
  b: Pick<ProcessBatch, 'count' | 'pid' | 'startTicks'>,
  keep: Uint8Array,
  tier: Uint8Array,
  forced: Uint8Array | undefined,
  cut: MemoryCut,
  /** series per row: when given, `points` sums the cut rows' series */
  seriesPerRow?: Uint8Array,
): { rows: number; points: number } {
  if (!cut.criticalOnly && cut.dropTiers.size === 0 && cut.importantKeep >= 1) return { rows: 0, points: 0 };
  const drop = new Uint8Array(TIERS.length);
  for (const [t, name] of TIERS.entries()) if (cut.dropTiers.has(name) && t !== TIER_CRITICAL) drop[t] = 1;
  let n = 0;
  let points = 0;
  for (let i = 0; i < b.count; i++) {
    if (keep[i] !== 1) continue;
    const t = tier[i]!;
    if (t === TIER_CRITICAL || (forced !== undefined && forced[i] === 1)) continue;
    if (
      cut.criticalOnly ||
      drop[t] === 1 ||
      (t === TIER_IMPORTANT && identityUnit(b.pid[i]!, b.startTicks[i]!) >= cut.importantKeep)
    ) {
      keep[i] = 0;
      n++;
      points += seriesPerRow?.[i] ?? 0;
    }
  }
  return { rows: n, points };
}

export interface SampleResult {
  /** 1 = row exported on the sampled path (it stays in the roll-up too) */
  sampled: Uint8Array;
  /** the rate used (power of two), 0 when nothing is sampled */
  rate: number;
  candidates: number;
  candidatePoints: number;
  count: number;
  points: number;
}

/**
 * The sampled path: of the rolled-up rows in `tiers`, pick a stable subset
 * whose data points stay within `budgetPoints`. The same identity is picked
 * every cycle while the rate holds, so sampled series are continuous.
 */
export function sampleRolledUp(
  b: Pick<ProcessBatch, 'count' | 'pid' | 'startTicks'>,
  keep: Uint8Array,
  tier: Uint8Array,
  seriesPerRow: Uint8Array,
  tiers: ReadonlySet<number>,
  budgetPoints: number,
): SampleResult {
  const sampled = new Uint8Array(b.count);
  let candidates = 0;
  let candidatePoints = 0;
  for (let i = 0; i < b.count; i++) {
    if (keep[i] === 1 || !tiers.has(tier[i]!)) continue;
    candidates++;
    candidatePoints += seriesPerRow[i]!;
  }
  const rate = candidates === 0 ? 0 : sampleRate(budgetPoints, candidatePoints);
  let count = 0;
  let points = 0;
  if (rate > 0) {
    for (let i = 0; i < b.count; i++) {
      if (keep[i] === 1 || !tiers.has(tier[i]!)) continue;
      if (identityUnit(b.pid[i]!, b.startTicks[i]!) < rate) {
        sampled[i] = 1;
        count++;
        points += seriesPerRow[i]!;
      }
    }
  }
  return { sampled, rate, candidates, candidatePoints, count, points };
}

/** Per-identity memory of what was last sent on the standard path. */
export interface HeartbeatState {
  /** cycle the process was last sent; 0 = never */
  hbCycle: number;
  hbCpu: number;
  hbRss: number;
  /** read + write bytes: both only grow, so the sum changes when either does */
  hbIo: number;
  /** minor + major faults, voluntary + involuntary switches (monotonic, as above) */
  hbCounts: number;
  /** gauges compared one by one */
  hbThreads: number;
  hbFds: number;
}

export function newHeartbeatState(): HeartbeatState {
  return {
    hbCycle: 0,
    hbCpu: Number.NaN,
    hbRss: Number.NaN,
    hbIo: Number.NaN,
    hbCounts: Number.NaN,
    hbThreads: Number.NaN,
    hbFds: Number.NaN,
  };
}

/**
 * Standard-path dedup: send row `i` this cycle? A process whose values are
 * unchanged since it was last sent (CPU time, RSS, I/O, threads, fds,
 * context switches, faults) is idle and is sent only every `every` cycles
 * as a heartbeat; any change sends it at once. Updates `s` when it is sent.
 */
export function heartbeatDue(s: HeartbeatState, b: ProcessBatch, i: number, cycle: number, every: number): boolean {
  const cpu = b.utimeSec[i]! + b.stimeSec[i]! + b.iowaitSec[i]!;
  const rss = b.rssBytes[i]!;
  const detail = (b.flags[i]! & FLAG_DETAIL) !== 0;
  // rows read stat-only carry no io/fd/ctx values: compare what was read
  const io = detail ? b.readBytes[i]! + b.writeBytes[i]! : s.hbIo;
  const fds = detail ? b.fds[i]! : s.hbFds;
  const counts = b.minFaults[i]! + b.majFaults[i]! + (detail ? b.volCtx[i]! + b.involCtx[i]! : 0);
  const threads = b.threads[i]!;
  const unchanged =
    cpu === s.hbCpu &&
    rss === s.hbRss &&
    io === s.hbIo &&
    counts === s.hbCounts &&
    threads === s.hbThreads &&
    fds === s.hbFds;
  if (every > 1 && unchanged && s.hbCycle > 0 && cycle - s.hbCycle < every) return false;
  s.hbCycle = cycle;
  s.hbCpu = cpu;
  s.hbRss = rss;
  s.hbIo = io;
  s.hbCounts = counts;
  s.hbThreads = threads;
  s.hbFds = fds;
  return true;
}
