/**
 * sample: of the rows being rolled up in the profile's `sampling.tiers`, a
 * stable subset is also exported on the sampled path, within
 * `sampling.budget_points` (a power-of-two rate over a hash of the identity).
 * Off under memory pressure: the sampled path is extra data.
 */
import type { Frame } from '../../core/frame.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import { TIERS } from '../../telemetry/names.js';
import { sampleRolledUp } from './sampling.js';

export class SampleStage implements Stage {
  readonly name = 'sample';

  process(f: Frame, ctx: CycleContext): void {
    const sampling = ctx.profile.sampling;
    if (!sampling || sampling.budget_points <= 0) return;
    if (ctx.memory !== undefined && ctx.memory.tier !== 0) return;
    const r = sampleRolledUp(
      f.batch,
      f.keep,
      f.tier,
      f.series,
      new Set(sampling.tiers.map((t) => TIERS.indexOf(t))),
      sampling.budget_points,
    );
    f.sampled.set(r.sampled);
    f.facts.sampleRate = r.rate;
  }
}
