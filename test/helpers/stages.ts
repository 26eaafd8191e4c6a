/**
 * The pipeline's first stages outside an engine, for tests that need what
 * the engine computes for a batch (tiers, CPU rates) without exporting it.
 */
import type { Config } from '../../src/config/schema.js';
import { Frame } from '../../src/core/frame.js';
import { GroupCatalog } from '../../src/core/groups.js';
import { IdentityTable } from '../../src/core/identity.js';
import type { HostInfo, ProcessBatch } from '../../src/sources/batch.js';
import { ImportantPids } from '../../src/stages/classify/floor.js';
import { ClassifyStage } from '../../src/stages/classify/index.js';
import { PoolStage } from '../../src/stages/pool/index.js';
import { RatesStage } from '../../src/stages/rates/index.js';

/** A small host for hand-written batches: one CPU, up 100 s, booted at 1 s past the epoch. */
export const TINY_HOST: HostInfo = {
  hostname: 'h',
  bootTimeSec: 1,
  uptimeSec: 100,
  cpuCount: 1,
  memTotalBytes: 1,
  clkTck: 100,
  pageSize: 4096,
};

/** Feeds batches through identity assignment, classification and pools (when given a config) and rates. */
export class StageRunner {
  readonly ids = new IdentityTable();
  readonly rates = new RatesStage(this.ids);
  readonly catalog = new GroupCatalog();
  private readonly classify?: ClassifyStage;
  readonly pool?: PoolStage;
  private cycle = 0;

  /** `important`: pids at least important (discovered services), read once per step */
  constructor(config?: Pick<Config, 'classification' | 'groups'>, important?: () => ReadonlySet<number>) {
    if (config) {
      const floor = important ? new ImportantPids(important) : undefined;
      this.classify = new ClassifyStage(this.ids, config.classification, floor);
      this.pool = new PoolStage(this.ids, this.catalog, config, floor);
    }
  }

  /** One cycle over `b`: the frame with its identities, tiers (if classifying) and rates. */
  step(b: ProcessBatch, nowMs = 0): Frame {
    const f = new Frame(b, false, ++this.cycle, nowMs, this.ids.assign(b));
    this.classify?.process(f);
    this.pool?.process(f);
    this.rates.process(f);
    this.ids.sweep();
    return f;
  }
}
