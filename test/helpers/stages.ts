/**
 * The pipeline's first stages outside an engine, for tests that need what
 * the engine computes for a batch (tiers, CPU rates) without exporting it.
 */
import type { Config } from '../../src/config/schema.js';
import { Frame } from '../../src/core/frame.js';
import { IdentityTable } from '../../src/core/identity.js';
import type { ProcessBatch } from '../../src/sources/batch.js';
import { ClassifyStage } from '../../src/stages/classify/index.js';
import { RatesStage } from '../../src/stages/rates/index.js';

/** Feeds batches through identity assignment, classification (when given a config) and rates. */
export class StageRunner {
  readonly ids = new IdentityTable();
  readonly rates = new RatesStage(this.ids);
  private readonly classify?: ClassifyStage;
  private cycle = 0;

  constructor(classification?: Config['classification']) {
    if (classification) this.classify = new ClassifyStage(this.ids, classification);
  }

  /** One cycle over `b`: the frame with its identities, tiers (if classifying) and rates. */
  step(b: ProcessBatch, nowMs = 0): Frame {
    const f = new Frame(b, false, ++this.cycle, nowMs, this.ids.assign(b));
    this.classify?.process(f);
    this.rates.process(f);
    this.ids.sweep();
    return f;
  }
}
