/**
 * group: every row not exported at full resolution goes into its tier's
 * roll-up (sampled rows included, so host totals stay exact). The roll-ups'
 * cumulative counters and their start time are checkpointed.
 */
import type { Frame } from '../../core/frame.js';
import type { Column } from '../../core/identity.js';
import type { Stage } from '../../pipeline/stage.js';
import type { Stateful } from '../../state/checkpoint.js';
import { TIERS } from '../../telemetry/names.js';
import { NCOUNTERS } from '../rates/counters.js';
import { RollupMemory, rollUp } from './rollup.js';

export { RollupMemory, rollUp } from './rollup.js';

export class GroupStage implements Stage, Stateful {
  readonly name = 'rollup';
  readonly stateName = 'rollup';
  memory: RollupMemory;

  constructor(startMs: number) {
    this.memory = new RollupMemory(startMs);
  }

  process(f: Frame): void {
    f.groups = rollUp(f.batch, f.keep, f.tier, f.cpuCores, f.deltas, this.memory);
    f.facts.rollupGroups = f.groups.length;
  }

  columns(): Column[] {
    return [];
  }

  saveExtra(): unknown {
    return { startMs: this.memory.startMs, cumulative: this.memory.cumulative.map((c) => Array.from(c)) };
  }

  restoreExtra(v: unknown): string | undefined {
    const o = v as { startMs?: unknown; cumulative?: unknown } | null;
    if (typeof o !== 'object' || o === null) return 'not an object';
    const { startMs, cumulative } = o;
    if (typeof startMs !== 'number' || !Number.isFinite(startMs) || startMs < 0 || startMs > 8.64e15) return 'startMs';
    if (!Array.isArray(cumulative) || cumulative.length !== TIERS.length) return 'cumulative';
    for (const [t, c] of cumulative.entries()) {
      if (!Array.isArray(c) || c.length !== NCOUNTERS) return `cumulative[${t}]`;
      for (const [k, x] of c.entries()) {
        if (typeof x !== 'number' || !(x >= 0 && x < 2 ** 63)) return `cumulative[${t}][${k}]`;
      }
    }
    const m = new RollupMemory(startMs);
    m.cumulative = cumulative.map((c: number[]) => Float64Array.from(c));
    this.memory = m;
    return undefined;
  }
}
