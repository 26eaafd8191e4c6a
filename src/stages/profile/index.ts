/**
 * profile: which rows are exported at full resolution (`keep`), by the
 * active profile's tiers, thresholds, per-tier top-N and series budget
 * (policy.ts), then at most `pools.top_k` workers of each pool (the busiest).
 * Critical rows and anomalies are always kept. Rows are ranked by activity:
 * their share of the host's CPU plus their share of its memory.
 */
import type { Frame } from '../../core/frame.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import { TIER_CRITICAL } from '../../telemetry/names.js';
import { decide } from './policy.js';

export class ProfileStage implements Stage {
  readonly name = 'profile';
  /** per row, reused from cycle to cycle: activity, and the pool cap's scratch */
  private activity = new Float64Array(0);
  private rows = new Int32Array(0);

  process(f: Frame, ctx: CycleContext): void {
    const b = f.batch;
    const n = f.n;
    // received data has no MemTotal: rank memory against the batch's total instead
    let mem = b.host.memTotalBytes;
    if (!(mem > 0)) {
      mem = 0;
      for (let i = 0; i < n; i++) if (b.rssBytes[i]! > 0) mem += b.rssBytes[i]!;
      if (!(mem > 0)) mem = 1;
    }
    if (this.activity.length < n) {
      const m = Math.max(n, Math.ceil(this.activity.length * 1.5));
      this.activity = new Float64Array(m);
      this.rows = new Int32Array(m);
    }
    const activity = this.activity.subarray(0, n);
    const cpus = b.host.cpuCount;
    // an unknown rss (-1) adds nothing
    for (let i = 0; i < n; i++) activity[i] = f.cpuCores[i]! / cpus + Math.max(0, b.rssBytes[i]!) / mem;
    const d = decide(
      {
        count: n,
        tier: f.tier,
        cpuCores: f.cpuCores,
        rssBytes: b.rssBytes,
        activity,
        seriesPerRow: f.series,
        forced: f.anomaly,
      },
      ctx.profile,
    );
    f.keep.set(d.keep);
    const facts = f.facts;
    const capped = capPools(f, activity, ctx.profile.pools.top_k, this.rows);
    d.kept -= capped.rows;
    d.droppedBy.topN += capped.rows;
    d.droppedPoints.topN += capped.points;
    facts.kept = d.kept;
    facts.droppedBy.threshold = d.droppedBy.threshold;
    facts.droppedBy.topN = d.droppedBy.topN;
    facts.droppedBy.maxSeries = d.droppedBy.maxSeries;
    facts.droppedPoints.threshold = d.droppedPoints.threshold;
    facts.droppedPoints.topN = d.droppedPoints.topN;
    facts.droppedPoints.maxSeries = d.droppedPoints.maxSeries;
  }
}

/**
 * Of each pool, keep at most `topK` workers (the most active; equal activity:
 * the lower row), besides critical and anomalous ones, which are always kept.
 * The others roll up into their group. Goes over the pool stage's layout of
 * the pools (`frame.poolStart`, `frame.poolRows`); `scratch` holds at least
 * `f.n` rows. Returns the rows and points unkept.
 */
export function capPools(
  f: Frame,
  activity: Float64Array,
  topK: number,
  scratch: Int32Array,
): { rows: number; points: number } {
  const { poolStart, poolRows } = f;
  const byActivity = (a: number, b: number) => activity[b]! - activity[a]! || a - b;
  let rows = 0;
  let points = 0;
  for (let p = 0; p < f.facts.pools; p++) {
    let m = 0;
    for (let j = poolStart[p]!; j < poolStart[p + 1]!; j++) {
      const i = poolRows[j]!;
      if (f.keep[i] !== 1 || f.worker[i] !== 1) continue;
      if (f.tier[i] === TIER_CRITICAL || f.anomaly[i] !== 0) continue;
      scratch[m++] = i;
    }
    if (m <= topK) continue;
    const list = scratch.subarray(0, m).sort(byActivity);
    for (let j = topK; j < m; j++) {
      const i = list[j]!;
      f.keep[i] = 0;
      rows++;
      points += f.series[i]!;
    }
  }
  return { rows, points };
}
