/**
 * Per-identity counter memory: the previous cumulative values of every
 * process, so CPU utilization is a rate over the tree's own clock (`uptime`)
 * and roll-ups can add exactly what dropped processes consumed since the last
 * cycle. Persisted by the state store so two `--once` runs continue.
 */
import type { ProcessBatch } from '../../sources/batch.js';

/** Cumulative counters kept per process, in this order. */
export const COUNTERS = [
  'user',
  'system',
  'wait',
  'readBytes',
  'writeBytes',
  'minFaults',
  'majFaults',
  'volCtx',
  'involCtx',
] as const;
export const NCOUNTERS = COUNTERS.length;

export interface PrevEntry {
  start: number;
  uptime: number;
  values: Float64Array; // NCOUNTERS, -1 = unknown
  /** step() generation that last saw this identity */
  seen?: number;
}

/** Read row i's counters into `out`. */
export function rowCounters(b: ProcessBatch, i: number, out: Float64Array): Float64Array {
  out[0] = b.utimeSec[i]!;
  out[1] = b.stimeSec[i]!;
  out[2] = b.iowaitSec[i]!;
  out[3] = b.readBytes[i]!;
  out[4] = b.writeBytes[i]!;
  out[5] = b.minFaults[i]!;
  out[6] = b.majFaults[i]!;
  out[7] = b.volCtx[i]!;
  out[8] = b.involCtx[i]!;
  return out;
}

export interface CounterStep {
  /** CPU as a fraction of one core, per row */
  cpuCores: Float64Array;
  /**
   * Increase of each counter since the previous cycle, row-major
   * (row * NCOUNTERS + k); 0 when unknown or not observable.
   */
  deltas: Float64Array;
}

export class CounterMemory {
  prev = new Map<number, PrevEntry>();
  /** uptime of the previous observation of the whole tree, -1 before the first */
  lastUptime = -1;
  /** boot time the memory belongs to (a different boot invalidates it) */
  bootTimeSec = -1;
  private gen = 0;

  /**
   * Compute rates and deltas for a batch and remember its counters.
   * - a known identity: delta = now - before (a counter that went backwards
   *   counts 0, never negative);
   * - a new identity that started after the previous cycle: everything it
   *   consumed is new;
   * - a new identity that was already running (first cycle, or missed):
   *   its past is unknown, delta 0, and its CPU rate is its lifetime average.
   */
  step(b: ProcessBatch): CounterStep {
    const n = b.count;
    const { clkTck, uptimeSec, bootTimeSec } = b.host;
    if (this.bootTimeSec !== -1 && Math.abs(this.bootTimeSec - bootTimeSec) > 2) {
      // rebooted (or another host): nothing carries over
      this.prev.clear();
      this.lastUptime = -1;
    }
    this.bootTimeSec = bootTimeSec;
    const cpuCores = new Float64Array(n);
    const deltas = new Float64Array(n * NCOUNTERS);
    const gen = ++this.gen;
    const cur = new Float64Array(NCOUNTERS);
    for (let i = 0; i < n; i++) {
      rowCounters(b, i, cur);
      const pid = b.pid[i]!;
      const start = b.startTicks[i]!;
      const p = this.prev.get(pid);
      const cpuNow = cur[0]! + cur[1]!;
      const base = i * NCOUNTERS;
      if (p && p.start === start) {
        const dt = uptimeSec - p.uptime;
        const dcpu = cpuNow - (p.values[0]! + p.values[1]!);
        if (dt > 0) cpuCores[i] = dcpu > 0 ? dcpu / dt : 0;
        else {
          // the tree's clock did not move (a static synthetic tree): lifetime average
          const age = uptimeSec - start / clkTck;
          cpuCores[i] = age > 0 ? cpuNow / age : 0;
        }
        for (let k = 0; k < NCOUNTERS; k++) {
          const a = cur[k]!;
          const bv = p.values[k]!;
          deltas[base + k] = a >= 0 && bv >= 0 && a > bv ? a - bv : 0;
        }
      } else {
        const age = uptimeSec - start / clkTck;
        cpuCores[i] = age > 0 ? cpuNow / age : 0;
        const startedSinceLast = this.lastUptime >= 0 && start / clkTck >= this.lastUptime;
        if (startedSinceLast) for (let k = 0; k < NCOUNTERS; k++) deltas[base + k] = Math.max(0, cur[k]!);
      }
      if (p && p.start === start) {
        // update in place: no per-process allocation in steady state
        p.uptime = uptimeSec;
        p.values.set(cur);
        p.seen = gen;
      } else {
        this.prev.set(pid, { start, uptime: uptimeSec, values: Float64Array.from(cur), seen: gen });
      }
    }
    // forget processes that are gone (only they are left with an older gen)
    if (this.prev.size > n) for (const [pid, e] of this.prev) if (e.seen !== gen) this.prev.delete(pid);
    this.lastUptime = uptimeSec;
    return { cpuCores, deltas };
  }
}
