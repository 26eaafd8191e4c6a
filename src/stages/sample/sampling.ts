/**
 * The sampled path's arithmetic: a stable per-identity hash, and a rate that
 * moves in powers of two so the sampled set is stable while the population
 * wanders (a process sampled at rate 1/4 is still sampled at 1/2).
 */

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
