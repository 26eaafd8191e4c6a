/**
 * Routine starts. A process that starts busy is promoted as `new`, unless
 * starting busy is what its executable does: once `new_routine_after`
 * processes of one executable name were seen starting (compilers on a build
 * host, short-lived workers of a pool), a busy start of that executable is
 * `new` only when it stands out from their usual start (a slow EWMA of the
 * mean and variance of the CPU and RSS at its starts) by both the profile's
 * `relative_jump` and its `z_threshold`. A start judged
 * routine stays routine for the identity's life; it is still promoted when
 * it later departs from its own baseline (`cpu` or `memory`).
 *
 * The per-executable averages are not checkpointed: after a restart the
 * first starts of each executable count again.
 */
import type { Frame } from '../../core/frame.js';
import type { Column, IdentityTable } from '../../core/identity.js';
import type { ScoreParams } from './params.js';
import { OUT_REASON_MASK, REASON_NEW } from './score.js';

interface Starts {
  n: number;
  cpu: number;
  cpuVar: number;
  rss: number;
  rssVar: number;
}

/** weight of one start in its executable's averages (many starts per cycle: a slow average) */
const ALPHA = 0.05;

/** x stands out from the usual starts: a relative jump AND a z-score over them */
function standsOut(x: number, mean: number, variance: number, floor: number, p: ScoreParams): boolean {
  if (!(x >= floor) || !(x >= mean * (1 + p.relativeJump))) return false;
  const sd = Math.max(Math.sqrt(variance), p.noiseFraction * mean);
  return sd <= 0 || (x - mean) / sd >= p.zThreshold;
}

function learn(mean: number, variance: number, x: number): [number, number] {
  const d = x - mean;
  const inc = ALPHA * d;
  return [mean + inc, (1 - ALPHA) * (variance + d * inc)];
}

/** executable names remembered at most (the oldest half is forgotten beyond) */
const MAX_NAMES = 20_000;

export class RoutineStarts {
  private readonly routine: Column<Uint8Array>;
  private readonly starts = new Map<string, Starts>();

  /** checkpointed with the scoring baselines: a routine start stays routine after a restart */
  get column(): Column<Uint8Array> {
    return this.routine;
  }

  constructor(private readonly ids: IdentityTable) {
    this.routine = ids.u8('score.routine');
  }

  /**
   * Learn this cycle's starts and clear `new` from the rows whose start was
   * routine. Returns the rows cleared. `out` is the scorer's output.
   */
  apply(f: Frame, out: Uint8Array, p: ScoreParams, after: number): number {
    const routine = this.routine.data;
    let cleared = 0;
    for (let i = 0; i < f.n; i++) {
      const s = f.slot[i]!;
      if (f.born[i] === 1 && after > 0) {
        const name = this.ids.name[s] ?? '';
        let st = this.starts.get(name);
        const c = f.cpuCores[i]!;
        const r = f.batch.rssBytes[i]!;
        const cOk = Number.isFinite(c) && c >= 0;
        const rOk = Number.isFinite(r) && r >= 0;
        if (st && st.n >= after && (out[i]! & OUT_REASON_MASK) === REASON_NEW) {
          const out_ =
            (cOk && standsOut(c, st.cpu, st.cpuVar, p.newCpu, p)) ||
            (rOk && standsOut(r, st.rss, st.rssVar, p.newRss, p));
          if (!out_) routine[s] = 1;
        }
        if (!st) {
          if (this.starts.size >= MAX_NAMES) this.forgetOldest();
          st = { n: 0, cpu: cOk ? c : 0, cpuVar: 0, rss: rOk ? r : 0, rssVar: 0 };
          this.starts.set(name, st);
        } else {
          if (cOk) [st.cpu, st.cpuVar] = learn(st.cpu, st.cpuVar, c);
          if (rOk) [st.rss, st.rssVar] = learn(st.rss, st.rssVar, r);
        }
        st.n++;
      }
      if (routine[s] === 1 && (out[i]! & OUT_REASON_MASK) === REASON_NEW) {
        out[i] = 0;
        cleared++;
      }
    }
    return cleared;
  }

  private forgetOldest(): void {
    let k = 0;
    for (const name of this.starts.keys()) {
      if (k++ >= MAX_NAMES / 2) break;
      this.starts.delete(name);
    }
  }
}
