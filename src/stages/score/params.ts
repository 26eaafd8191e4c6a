/**
 * Scoring parameters in base units (fraction of one core, bytes, ms), derived
 * once from a profile's `anomaly` config so the hot loop does no unit work.
 */
import { type AnomalyConfig, durationMs } from '../../config/schema.js';

const MIB = 1024 * 1024;

export interface ScoreParams {
  /** EWMA weight of the newest sample */
  alpha: number;
  zThreshold: number;
  /** valid samples needed before the z-score rule applies */
  minSamples: number;
  /** x >= mean * (1 + relativeJump) is a jump */
  relativeJump: number;
  /** the baseline's standard deviation is taken as at least this fraction of its mean */
  noiseFraction: number;
  /** minimum CPU rise over the baseline, fraction of one core */
  minCpu: number;
  /** minimum RSS rise over the baseline, bytes */
  minRss: number;
  /** a new process at or above this CPU (fraction of one core) is promoted */
  newCpu: number;
  /** a new process at or above this RSS (bytes) is promoted */
  newRss: number;
  /** how long a promotion lasts */
  holdMs: number;
}

export function scoreParams(a: AnomalyConfig): ScoreParams {
  return {
    alpha: a.alpha,
    zThreshold: a.z_threshold,
    minSamples: a.min_samples,
    relativeJump: a.relative_jump,
    noiseFraction: a.noise_fraction,
    minCpu: a.min_cpu_percent / 100,
    minRss: a.min_rss_mib * MIB,
    newCpu: a.new_cpu_percent / 100,
    newRss: a.new_rss_mib * MIB,
    holdMs: durationMs(a.hold),
  };
}
