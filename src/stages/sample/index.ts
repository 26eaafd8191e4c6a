/**
 * sample: of the rows being rolled up in the profile's `sampling.tiers`, a
 * stable subset is also exported on the sampled path, within
 * `sampling.budget_points` and `budget_share` (a power-of-two rate over a
 * hash of the identity).
 * Off under memory pressure: the sampled path is extra data.
 */
import type { Frame } from '../../core/frame.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import { TIERS } from '../../telemetry/names.js';
import { HOSTMETRICS_DEFAULT, maskPoints } from '../build/metrics.js';
import { sampleRolledUp } from './sampling.js';

/** The hostmetrics scraper's default points per process (Linux): the baseline `budget_share` is a share of. */
const HOSTMETRICS_POINTS = maskPoints(HOSTMETRICS_DEFAULT);

/** Points per cycle for the sampled path: the smaller of the two budgets that are set. */
export function samplingBudget(s: { budget_points?: number; budget_share?: number }, processes: number): number {
  let budget = Number.POSITIVE_INFINITY;
  if (s.budget_points !== undefined) budget = s.budget_points;
  if (s.budget_share !== undefined)
    budget = Math.min(budget, Math.floor(s.budget_share * processes * HOSTMETRICS_POINTS));
  return Number.isFinite(budget) ? budget : 0;
}

export class SampleStage implements Stage {
  readonly name = 'sample';

  process(f: Frame, ctx: CycleContext): void {
    const sampling = ctx.profile.sampling;
    if (!sampling) return;
    const budget = samplingBudget(sampling, f.n);
    if (budget <= 0) return;
    if (ctx.memory !== undefined && ctx.memory.tier !== 0) return;
    const r = sampleRolledUp(
      f.batch,
      f.keep,
      f.tier,
      f.series,
      new Set(sampling.tiers.map((t) => TIERS.indexOf(t))),
      budget,
    );
    f.sampled.set(r.sampled);
    f.facts.sampleRate = r.rate;
  }
}
