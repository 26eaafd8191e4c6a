/**
 * The profile decision: which processes are exported at full resolution.
 * Pure function over columns; no I/O, no clocks.
 *
 * 1. critical (and forced, e.g. anomalies) rows are always kept;
 * 2. a row is a candidate when its tier is in `full_resolution_tiers` or it
 *    passes a threshold (CPU % of one core, or RSS);
 * 3. candidates are capped per tier by `top_n`, most active first;
 * 4. the survivors fill the `max_series` budget in tier order (important,
 *    standard, noise), most active first; critical rows count against the
 *    budget but are never removed by it.
 */
import type { ProfileConfig } from '../config/schema.js';
import { TIER_CRITICAL, TIER_IMPORTANT, TIER_NOISE, TIER_STANDARD, TIERS } from '../telemetry/names.js';

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
  /** rows that must be kept whatever their tier (anomalies); optional */
  forced?: Uint8Array;
}

export interface PolicyDecision {
  /** 1 = exported at full resolution, 0 = rolled up */
  keep: Uint8Array;
  kept: number;
  keptSeries: number;
  /** rows dropped by each rule, for the logs and self-telemetry */
  droppedBy: { threshold: number; topN: number; maxSeries: number };
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
  const candidates: number[][] = [[], [], [], []];
  let series = 0;
  let kept = 0;
  const droppedBy = { threshold: 0, topN: 0, maxSeries: 0 };

  for (let i = 0; i < count; i++) {
    const t = tier[i]!;
    if (t === TIER_CRITICAL || (forced !== undefined && forced[i] === 1)) {
      keep[i] = 1;
      kept++;
      series += seriesPerRow[i]!;
    } else if (full[t] === 1 || cpuCores[i]! >= cpuMin || rssBytes[i]! >= rssMin) {
      candidates[t]!.push(i);
    } else {
      droppedBy.threshold++;
    }
  }

  const topN = [Number.POSITIVE_INFINITY, profile.top_n.important, profile.top_n.standard, profile.top_n.noise];
  const byActivity = (a: number, b: number) => activity[b]! - activity[a]! || a - b;
  for (const t of [TIER_IMPORTANT, TIER_STANDARD, TIER_NOISE]) {
    const list = candidates[t]!;
    const cap = topN[t]!;
    if (list.length === 0) continue;
    list.sort(byActivity);
    if (list.length > cap) {
      droppedBy.topN += list.length - cap;
      list.length = cap;
    }
    for (const i of list) {
      const cost = seriesPerRow[i]!;
      if (series + cost > profile.max_series) {
        droppedBy.maxSeries++;
        continue;
      }
      keep[i] = 1;
      kept++;
      series += cost;
    }
  }
  return { keep, kept, keptSeries: series, droppedBy };
}
