/**
 * group: every row not exported at full resolution rolls up into its group
 * (aggregate.ts): sampled rows included, so host totals stay exact. Each
 * group's cumulative series (and `_other_`'s) is kept by name and
 * checkpointed; a group with no members for a while ends its series.
 */
import type { Frame } from '../../core/frame.js';
import type { GroupCatalog } from '../../core/groups.js';
import type { Column } from '../../core/identity.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import type { Stateful } from '../../state/checkpoint.js';
import { NCOUNTERS } from '../rates/counters.js';
import { aggregate, forgetIdle, type GroupSeries, Sums } from './aggregate.js';

/** cycles without members before a group's series ends */
const IDLE_CYCLES = 30;
/** series kept in a checkpoint at most (the most recently seen) */
const CHECKPOINT_SERIES = 20_000;

export class GroupStage implements Stage, Stateful {
  readonly name = 'rollup';
  readonly stateName = 'rollup';
  private series = new Map<string, GroupSeries>();
  private cycle = 0;
  /** point time of the previous cycle: a new group's series starts there */
  private lastTimeMs = -1;
  private readonly sums = new Sums();

  constructor(private readonly catalog: GroupCatalog) {}

  process(f: Frame, ctx: CycleContext): void {
    const cycle = ++this.cycle;
    const now = f.batch.scannedAtMs;
    const start = this.lastTimeMs >= 0 && this.lastTimeMs <= now ? this.lastTimeMs : now;
    f.groups = aggregate(
      f,
      this.catalog,
      ctx.profile.groups.budget,
      this.series,
      cycle,
      start,
      ctx.profile.groups.min_members,
      this.sums,
    );
    f.facts.rollupGroups = f.groups.length;
    forgetIdle(this.series, cycle, IDLE_CYCLES);
    this.lastTimeMs = now;
  }

  columns(): Column[] {
    return [];
  }

  saveExtra(): unknown {
    const list = [...this.series].sort((a, b) => b[1].seen - a[1].seen).slice(0, CHECKPOINT_SERIES);
    return {
      cycle: this.cycle,
      lastTimeMs: this.lastTimeMs,
      series: list.map(([name, s]) => [name, s.startMs, s.seen, ...s.cumulative]),
    };
  }

  restoreExtra(v: unknown): string | undefined {
    const o = v as { cycle?: unknown; lastTimeMs?: unknown; series?: unknown } | null;
    if (typeof o !== 'object' || o === null) return 'not an object';
    const { cycle, lastTimeMs, series } = o;
    if (typeof cycle !== 'number' || !Number.isSafeInteger(cycle) || cycle < 0) return 'cycle';
    if (typeof lastTimeMs !== 'number' || !(lastTimeMs >= -1 && lastTimeMs < 8.64e15)) return 'lastTimeMs';
    if (!Array.isArray(series)) return 'series';
    const out = new Map<string, GroupSeries>();
    for (const [i, e] of series.entries()) {
      if (!Array.isArray(e) || e.length !== 3 + NCOUNTERS) return `series[${i}]`;
      const [name, startMs, seen, ...cum] = e as unknown[];
      if (typeof name !== 'string' || name === '') return `series[${i}].name`;
      if (typeof startMs !== 'number' || !(startMs >= 0 && startMs < 8.64e15)) return `series[${i}].startMs`;
      if (typeof seen !== 'number' || !Number.isSafeInteger(seen) || seen < 0 || seen > cycle) {
        return `series[${i}].seen`;
      }
      for (const [k, x] of cum.entries()) {
        if (typeof x !== 'number' || !(x >= 0 && x < 2 ** 63)) return `series[${i}].cumulative[${k}]`;
      }
      out.set(name, { startMs, seen, cumulative: Float64Array.from(cum as number[]) });
    }
    this.cycle = cycle;
    this.lastTimeMs = lastTimeMs;
    this.series = out;
    return undefined;
  }
}
