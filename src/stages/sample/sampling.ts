/**
 * The sampled path's arithmetic: a stable per-identity hash, and a rate that
 * moves in powers of two so the sampled set is stable while the population
 * wanders (a process sampled at rate 1/4 is still sampled at 1/2).
 */
import type { ProcessBatch } from '../../sources/batch.js';

/** A hash of (pid, start ticks) uniform in [0, 1): the same identity always gets the same value. */
export function identityUnit(pid: number, startTicks: number): number {
  // 32-bit finaliser (murmur3 fmix) over pid mixed with the start time's bits
  let h = (pid ^ Math.imul((startTicks % 4294967296) | 0, 0x9e3779b1)) | 0;
  h ^= Math.floor(startTicks / 4294967296) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/**
 * The sampling rate that keeps `candidatePoints` under `budgetPoints`,
 * rounded down to a power of two (1, 1/2, 1/4, ...); 0 when the budget is 0.
 * Rates below 2^-20 are 0.
 */
export function sampleRate(budgetPoints: number, candidatePoints: number): number {
  if (!(budgetPoints > 0)) return 0;
  if (candidatePoints <= budgetPoints) return 1;
  const k = Math.ceil(Math.log2(candidatePoints / budgetPoints));
  return k > 20 ? 0 : 2 ** -k;
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
