/**
 * The profile decision: which processes are exported at full resolution.
 * Pure function over columns; no I/O, no clocks.
 *
 * 1. critical (and forced, e.g. anomalies) rows are always kept;
 * 2. a row is a candidate when its tier is in `full_resolution_tiers` or it
 *    passes a threshold (CPU % of one core, or RSS);
 * 3. candidates are capped per tier by `top_n`, most active first (equal
 *    activity: the lower row first; NaN activity ranks last), with a bounded
 *    heap per tier (`topNByTier`): O(count + candidates log top_n), no sort
 *    of the whole tier;
 * 4. the survivors fill the `max_series` budget in tier order (important,
 *    standard, noise), most active first; critical rows count against the
 *    budget but are never removed by it. The survivors come out of step 3
 *    already in that order, so nothing is sorted here.
 */
import type { ProfileConfig } from '../../config/schema.js';
import { TIER_CRITICAL, TIER_IMPORTANT, TIER_NOISE, TIER_STANDARD, TIERS } from '../../telemetry/names.js';
import { topNByTier } from './topn.js';

export interface PolicyInput {
  count: number;
  /** tier index per row (0 = critical) */
  tier: Uint8Array;
  /** CPU as a fraction of ONE core (1.0 = a full core) */
  cpuCores: Float64Array;
  rssBytes: Float64Array;
  /** ranking key, larger = more active */
  activity: Float64Array;
  /** data-point series a kept row costs */
  seriesPerRow: Uint8Array;
  /** rows that must be kept whatever their tier (anomalies: non-zero); optional */
  forced?: Uint8Array;
}

export interface PolicyDecision {
  /** 1 = exported at full resolution, 0 = rolled up */
  keep: Uint8Array;
  kept: number;
  keptSeries: number;
  /** rows dropped by each rule, for the logs and self-telemetry */
  droppedBy: { threshold: number; topN: number; maxSeries: number };
  /** data points (series) of the rows each rule dropped */
  droppedPoints: { threshold: number; topN: number; maxSeries: number };
}

const MIB = 1024 * 1024;

export function decide(input: PolicyInput, profile: ProfileConfig): PolicyDecision {
  const { count, tier, cpuCores, rssBytes, activity, seriesPerRow, forced } = input;
  const keep = new Uint8Array(count);
  const full = new Uint8Array(TIERS.length);
  for (const t of profile.full_resolution_tiers) full[TIERS.indexOf(t)] = 1;
  const cpuMin =
    profile.thresholds.cpu_percent === null ? Number.POSITIVE_INFINITY : profile.thresholds.cpu_percent / 100;
  const rssMin = profile.thresholds.rss_mib === null ? Number.POSITIVE_INFINITY : profile.thresholds.rss_mib * MIB;
  // the tier of each candidate row; 0 (critical, never a candidate) for the others
  const candTier = new Uint8Array(count);
  const candidates = new Int32Array(TIERS.length);
  let series = 0;
  let kept = 0;
  const droppedBy = { threshold: 0, topN: 0, maxSeries: 0 };
  const droppedPoints = { threshold: 0, topN: 0, maxSeries: 0 };
  const candidateSeries = new Float64Array(TIERS.length);

  for (let i = 0; i < count; i++) {
    const t = tier[i]!;
    if (t === TIER_CRITICAL || (forced !== undefined && forced[i] !== 0)) {
      keep[i] = 1;
      kept++;
      series += seriesPerRow[i]!;
    } else if (full[t] === 1 || cpuCores[i]! >= cpuMin || rssBytes[i]! >= rssMin) {
      candTier[i] = t;
      candidates[t]!++;
      candidateSeries[t]! += seriesPerRow[i]!;
    } else {
      droppedBy.threshold++;
      droppedPoints.threshold += seriesPerRow[i]!;
    }
  }

  const topN = [0, profile.top_n.important, profile.top_n.standard, profile.top_n.noise];
  for (const t of [TIER_IMPORTANT, TIER_STANDARD, TIER_NOISE]) {
    const list = topCandidates(activity, candTier, t, candidates[t]!, topN[t]!);
    droppedBy.topN += candidates[t]! - list.length;
    let listSeries = 0;
    for (let j = 0; j < list.length; j++) {
      const i = list[j]!;
      const cost = seriesPerRow[i]!;
      listSeries += cost;
      if (series + cost > profile.max_series) {
        droppedBy.maxSeries++;
        droppedPoints.maxSeries += cost;
        continue;
      }
      keep[i] = 1;
      kept++;
      series += cost;
    }
    droppedPoints.topN += candidateSeries[t]! - listSeries;
  }
  return { keep, kept, keptSeries: series, droppedBy, droppedPoints };
}

/**
 * The `cap` most active of the `n` candidate rows of tier `t`, best first
 * (activity descending, the lower row first on ties). The candidates are
 * gathered in row order, so topNByTier's tie-break on position is the
 * tie-break on row. The gather reads rows up to the tier's last candidate,
 * the heap holds `cap` entries: O(count + n log cap), and only the kept rows
 * are sorted.
 */
function topCandidates(activity: Float64Array, candTier: Uint8Array, t: number, n: number, cap: number): Int32Array {
  if (n === 0 || cap <= 0) return new Int32Array(0);
  const rows = new Int32Array(n);
  const values = new Float64Array(n);
  for (let i = 0, j = 0; j < n; i++) {
    if (candTier[i] === t) {
      rows[j] = i;
      values[j++] = activity[i]!;
    }
  }
  const best = topNByTier(values, new Uint8Array(n), n, cap, 1)[0]!;
  for (let j = 0; j < best.length; j++) best[j] = rows[best[j]!]!;
  return best;
}
