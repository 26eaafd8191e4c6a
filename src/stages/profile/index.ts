/**
 * profile: which rows are exported at full resolution (`keep`), by the
 * active profile's tiers, thresholds, per-tier top-N and series budget
 * (policy.ts). Critical rows and anomalies are always kept. Rows are ranked
 * by activity: their share of the host's CPU plus their share of its memory.
 */
import type { Frame } from '../../core/frame.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import { decide } from './policy.js';

export class ProfileStage implements Stage {
  readonly name = 'profile';

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
    const activity = new Float64Array(n);
    const cpus = b.host.cpuCount;
    for (let i = 0; i < n; i++) activity[i] = f.cpuCores[i]! / cpus + b.rssBytes[i]! / mem;
    const forced = new Uint8Array(n);
    for (let i = 0; i < n; i++) if (f.anomaly[i] !== 0) forced[i] = 1;
    const d = decide(
      {
        count: n,
        tier: f.tier,
        cpuCores: f.cpuCores,
        rssBytes: b.rssBytes,
        activity,
        seriesPerRow: f.series,
        forced,
      },
      ctx.profile,
    );
    f.keep.set(d.keep);
    const facts = f.facts;
    facts.kept = d.kept;
    facts.droppedBy.threshold = d.droppedBy.threshold;
    facts.droppedBy.topN = d.droppedBy.topN;
    facts.droppedBy.maxSeries = d.droppedBy.maxSeries;
    facts.droppedPoints.threshold = d.droppedPoints.threshold;
    facts.droppedPoints.topN = d.droppedPoints.topN;
    facts.droppedPoints.maxSeries = d.droppedPoints.maxSeries;
  }
}
