/**
 * rates: CPU utilization as a rate over the tree's own clock (`uptime`), and
 * how much each cumulative counter grew since the last cycle (what the
 * roll-ups add). The previous counters live at each identity's slot and are
 * checkpointed, so two `--once` runs continue.
 *
 * - a known identity: delta = now - before (a counter that went backwards
 *   counts 0, never negative);
 * - a new identity that started after the previous cycle: everything it
 *   consumed is new;
 * - a new identity that was already running (first cycle, or missed): its
 *   past is unknown, delta 0, and its CPU rate is its lifetime average.
 */
import type { Frame } from '../../core/frame.js';
import type { Column, IdentityTable } from '../../core/identity.js';
import type { Stage } from '../../pipeline/stage.js';
import type { Stateful } from '../../state/checkpoint.js';
import { NCOUNTERS, rowCounters } from './counters.js';

export { COUNTERS, NCOUNTERS } from './counters.js';

/** A counter as read (-1 = unknown), small enough to be exported as an int64. */
export const isCounter = (v: number): boolean => v === -1 || (v >= 0 && v < 2 ** 63);

export class RatesStage implements Stage, Stateful {
  readonly name = 'rates';
  readonly stateName = 'rates';
  /** previous counters per slot, COUNTERS order (-1 = unknown) */
  private readonly prev: Column<Float64Array>;
  /** the tree's uptime when the slot's counters were read */
  private readonly uptime: Column<Float64Array>;
  /** 1 when `prev` holds a reading of this identity */
  private readonly has: Column<Uint8Array>;
  /** uptime of the previous observation of the whole tree, -1 before the first */
  lastUptime = -1;
  /** boot time the counters belong to (another boot invalidates them) */
  bootTimeSec = -1;
  private scratch = new Float64Array(0);
  private stateScratch = new Float64Array(0);

  constructor(ids: IdentityTable) {
    this.prev = ids.f64('rates.prev', { width: NCOUNTERS, valid: isCounter });
    this.uptime = ids.f64('rates.uptime', { valid: (v) => v >= 0 && v < 1e10 });
    this.has = ids.u8('rates.has', { valid: (v) => v === 0 || v === 1 });
  }

  process(f: Frame): void {
    const b = f.batch;
    const n = f.n;
    const { clkTck, uptimeSec, bootTimeSec } = b.host;
    if (this.bootTimeSec !== -1 && Math.abs(this.bootTimeSec - bootTimeSec) > 2) {
      // rebooted (or another host): nothing carries over, and nothing counts as started since
      this.has.clear();
      this.lastUptime = -1;
    }
    this.bootTimeSec = bootTimeSec;
    // the previous observation's uptime: a process that started since then is `born`
    const since = this.lastUptime;
    if (this.scratch.length < n * NCOUNTERS) this.scratch = new Float64Array(n * NCOUNTERS);
    const deltas = this.scratch.subarray(0, n * NCOUNTERS);
    deltas.fill(0);
    f.deltas = deltas;
    if (this.stateScratch.length < n * 3) this.stateScratch = new Float64Array(n * 3);
    const cpuState = this.stateScratch.subarray(0, n * 3);
    cpuState.fill(Number.NaN);
    f.cpuState = cpuState;
    const prev = this.prev.data;
    const up = this.uptime.data;
    const has = this.has.data;
    const cur = new Float64Array(NCOUNTERS);
    for (let i = 0; i < n; i++) {
      rowCounters(b, i, cur);
      const s = f.slot[i]!;
      const start = b.startTicks[i]!;
      // started since the previous cycle (scoring's `new` rule; all its counters are new)
      const born = since >= 0 && start / clkTck >= since;
      if (born) f.born[i] = 1;
      const cpuNow = cur[0]! + cur[1]!;
      const base = i * NCOUNTERS;
      const p = s * NCOUNTERS;
      if (has[s] === 1) {
        const dt = uptimeSec - up[s]!;
        const dcpu = cpuNow - (prev[p]! + prev[p + 1]!);
        if (dt > 0) {
          f.cpuCores[i] = dcpu > 0 ? dcpu / dt : 0;
          // per state (user, system, wait), as the utilization metric reports it
          for (let k = 0; k < 3; k++) {
            const d = cur[k]! - prev[p + k]!;
            cpuState[i * 3 + k] = d > 0 ? d / dt : 0;
          }
        } else {
          // the tree's clock did not move (a static synthetic tree): lifetime average
          const age = uptimeSec - start / clkTck;
          f.cpuCores[i] = age > 0 ? cpuNow / age : 0;
        }
        for (let k = 0; k < NCOUNTERS; k++) {
          const a = cur[k]!;
          const bv = prev[p + k]!;
          deltas[base + k] = a >= 0 && bv >= 0 && a > bv ? a - bv : 0;
        }
      } else {
        const age = uptimeSec - start / clkTck;
        f.cpuCores[i] = age > 0 ? cpuNow / age : 0;
        if (born) for (let k = 0; k < NCOUNTERS; k++) deltas[base + k] = Math.max(0, cur[k]!);
      }
      up[s] = uptimeSec;
      prev.set(cur, p);
      has[s] = 1;
    }
    this.lastUptime = uptimeSec;
  }

  columns(): Column[] {
    return [this.prev, this.uptime, this.has];
  }

  saveExtra(): unknown {
    return { lastUptime: this.lastUptime, bootTimeSec: this.bootTimeSec };
  }

  restoreExtra(v: unknown): string | undefined {
    const o = v as { lastUptime?: unknown; bootTimeSec?: unknown } | null;
    if (typeof o !== 'object' || o === null) return 'not an object';
    const { lastUptime, bootTimeSec } = o;
    if (typeof lastUptime !== 'number' || !(lastUptime >= -1 && lastUptime < 1e10)) return 'lastUptime';
    if (typeof bootTimeSec !== 'number' || !(bootTimeSec >= -1 && bootTimeSec < 1e11)) return 'bootTimeSec';
    this.lastUptime = lastUptime;
    this.bootTimeSec = bootTimeSec;
    return undefined;
  }
}
