/**
 * Anomaly scoring: pure functions over typed arrays. No I/O, no clock (the
 * caller passes `nowMs`), no allocation per row. The same functions run inline
 * on the main thread and inside scoring workers (workers/score.ts).
 *
 * Per row, against the row's state slot:
 * - each valid sample (finite, >= 0) updates the EWMA mean and variance of CPU
 *   and RSS; NaN or negative values (counter resets, pid reuse, unreadable
 *   files) are skipped: they never update a baseline and never alarm;
 * - a departure is a rise of at least the absolute floor (minCpu / minRss)
 *   that is also a relative jump (x >= mean * (1 + relativeJump)) or, once
 *   minSamples samples are in, a z-score >= zThreshold, where the standard
 *   deviation is taken as at least noiseFraction x mean (RSS and CPU wander
 *   by a few percent; a short history underestimates that);
 * - a process that started since the previous scan and is already at or
 *   above newCpu or newRss is promoted as `new`;
 * - a promotion holds until nowMs + holdMs; a new departure extends it.
 */
import type { ScoreParams } from './params.js';

/** Reasons, stored per slot and reported per row (0 = not promoted). */
export const REASON_NONE = 0;
export const REASON_CPU = 1;
export const REASON_MEMORY = 2;
export const REASON_NEW = 3;
export const REASONS = ['', 'cpu', 'memory', 'new'] as const;
export type Reason = (typeof REASONS)[number];

/** Row flag: the process started since the previous scan. */
export const ROW_BORN = 1;

/** Output bit: the promotion started (or restarted) in this cycle. */
export const OUT_PROMOTED_NOW = 0x80;
export const OUT_REASON_MASK = 0x03;

/** The per-slot scoring state (columns of the state table). */
export interface SlotState {
  cpuMean: Float64Array;
  cpuVar: Float64Array;
  rssMean: Float64Array;
  rssVar: Float64Array;
  /** valid samples seen per metric */
  cpuN: Int32Array;
  rssN: Int32Array;
  /** ms (the injected clock) until which the slot is promoted */
  holdUntil: Float64Array;
  reason: Uint8Array;
}

/** The rows to score; `slot[i]` is distinct for every row. */
export interface ScoreInput {
  count: number;
  slot: Int32Array;
  /** fraction of one core, NaN when unknown */
  cpu: Float64Array;
  /** bytes, NaN when unknown */
  rss: Float64Array;
  flags: Uint8Array;
}

const valid = (x: number): boolean => x >= 0 && x < Number.POSITIVE_INFINITY; // false for NaN

/**
 * Is `x` a departure from (mean, variance) with n samples? Pure; exported for
 * tests and documentation of the rule.
 */
export function departs(
  x: number,
  mean: number,
  variance: number,
  n: number,
  floor: number,
  p: Pick<ScoreParams, 'relativeJump' | 'zThreshold' | 'minSamples' | 'noiseFraction'>,
): boolean {
  if (n < 1 || !valid(x)) return false;
  const rise = x - mean;
  if (!(rise >= floor) || rise <= 0) return false;
  if (x >= mean * (1 + p.relativeJump)) return true;
  if (n >= p.minSamples) {
    const sd = Math.max(Math.sqrt(variance), p.noiseFraction * mean);
    if (sd > 0 && rise / sd >= p.zThreshold) return true;
  }
  return false;
}

/** One EWMA step; returns nothing, writes mean and variance at index s. */
function ewma(mean: Float64Array, variance: Float64Array, count: Int32Array, s: number, x: number, alpha: number) {
  const n = count[s]!;
  if (n === 0) {
    mean[s] = x;
    variance[s] = 0;
  } else {
    const d = x - mean[s]!;
    const inc = alpha * d;
    mean[s] = mean[s]! + inc;
    variance[s] = (1 - alpha) * (variance[s]! + d * inc);
  }
  count[s] = n + 1;
}

/**
 * Score rows [from, to) of `input` against `st`, write one byte per row into
 * `out[i - from]`: the held reason (0 = none) | OUT_PROMOTED_NOW when the
 * promotion starts in this cycle.
 */
export function scoreRows(
  st: SlotState,
  input: ScoreInput,
  p: ScoreParams,
  nowMs: number,
  out: Uint8Array,
  from = 0,
  to = input.count,
): void {
  const { slot, cpu, rss, flags } = input;
  for (let i = from; i < to; i++) {
    const s = slot[i]!;
    const c = cpu[i]!;
    const r = rss[i]!;
    const cOk = valid(c);
    const rOk = valid(r);
    const cn = st.cpuN[s]!;
    const rn = st.rssN[s]!;
    let reason = REASON_NONE;
    if (cn === 0 && rn === 0) {
      // first sample of this identity
      if ((flags[i]! & ROW_BORN) !== 0 && ((cOk && c >= p.newCpu) || (rOk && r >= p.newRss))) reason = REASON_NEW;
    } else if (cOk && departs(c, st.cpuMean[s]!, st.cpuVar[s]!, cn, p.minCpu, p)) {
      reason = REASON_CPU;
    } else if (rOk && departs(r, st.rssMean[s]!, st.rssVar[s]!, rn, p.minRss, p)) {
      reason = REASON_MEMORY;
    }
    if (cOk) ewma(st.cpuMean, st.cpuVar, st.cpuN, s, c, p.alpha);
    if (rOk) ewma(st.rssMean, st.rssVar, st.rssN, s, r, p.alpha);

    const held = st.holdUntil[s]! > nowMs;
    let o = 0;
    if (reason !== REASON_NONE) {
      if (!held) o = OUT_PROMOTED_NOW;
      st.holdUntil[s] = nowMs + p.holdMs;
      st.reason[s] = reason;
    } else if (!held) {
      st.reason[s] = REASON_NONE;
    }
    out[i - from] = o | st.reason[s]!;
  }
}
