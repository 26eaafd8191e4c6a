/**
 * A plant for the budget controller's tests: a host whose cost and
 * visibility per profile and knob scale are known, under a load that can
 * change. Injected clock only: each cycle is 10 s of simulated time.
 */
import { loadConfig } from '../../../src/config/load.js';
import { type LoopConfig, loopSchema } from '../../../src/control/loop/config.js';
import type { BudgetController, Move, Setting, Unmet } from '../../../src/control/loop/controller.js';

const defaults = loadConfig().config.control.loop;
export const loop = (over: Partial<LoopConfig> = {}): LoopConfig => loopSchema.parse({ ...defaults, ...over });

/** USD per hour at load 1 and full scale; the knob saves up to 60% of a profile's cost. */
export const BASE: Record<string, number> = { conservative: 1.0, balanced: 0.5, aggressive: 0.15, emergency: 0.04 };
/** Visibility at full scale; the knob loses up to 15% of it (so it is not monotone along the ladder). */
export const VIS: Record<string, number> = { conservative: 1.0, balanced: 0.97, aggressive: 0.8, emergency: 0.45 };

export type Plant = (
  s: Setting,
  load: number,
) => { usdPerHour: number; pointsPerMinute: number; series: number; visibility: number };

export const plant: Plant = (s, load) => ({
  usdPerHour: BASE[s.profile]! * (0.4 + 0.6 * s.scale) * load,
  pointsPerMinute: 0,
  series: 0,
  visibility: VIS[s.profile]! * (0.85 + 0.15 * s.scale),
});

const LADDER = ['conservative', 'balanced', 'aggressive'];

/** The ladder position of `s` (min_knob 0.1): profile index + log(scale) / log(0.1). */
export function position(s: Setting): number {
  const i = LADDER.indexOf(s.profile);
  return (i < 0 ? LADDER.length : i) + (s.scale < 1 ? Math.log(s.scale) / Math.log(0.1) : 0);
}

/**
 * The same costs, with visibility falling in a straight line along the
 * ladder from `top` (`perStep` a profile), as a host whose visibility the loop can
 * predict; the emergency profile well under any floor the tests set.
 */
export const linearPlant =
  (perStep: number, top = 1): Plant =>
  (s, load) => ({
    ...plant(s, load),
    visibility: s.profile === 'emergency' ? 0.3 : top - perStep * position(s),
  });

export interface Run {
  moves: { cycle: number; move: Move }[];
  ratios: number[];
  settings: Setting[];
  visibility: number[];
  unmet: (Unmet | undefined)[];
}

export function run(
  c: BudgetController,
  cycles: number,
  load: (cycle: number) => number,
  budget: number,
  p: Plant = plant,
  t0 = 0,
): Run {
  const r: Run = { moves: [], ratios: [], settings: [], visibility: [], unmet: [] };
  let s = c.setting;
  for (let k = 0; k < cycles; k++) {
    const o = p(s, load(k));
    r.ratios.push(o.usdPerHour / budget);
    r.settings.push(s);
    r.visibility.push(o.visibility);
    const m = c.observe({ nowMs: t0 + k * 10_000, ...o }, { usd_per_hour: budget });
    r.unmet.push(c.unmet);
    if (m) {
      r.moves.push({ cycle: k, move: m });
      s = m.after;
    }
  }
  return r;
}

/** Direction changes among the moves (cheaper then richer then cheaper ... ) after `from`. */
export function reversals(r: Run, from = 0): number {
  const dirs = r.moves
    .filter((m) => m.cycle >= from)
    .map((m) => (m.move.kind === 'richer' || m.move.kind === 'recover' || m.move.kind === 'floor' ? -1 : 1));
  let n = 0;
  for (let i = 1; i < dirs.length; i++) if (dirs[i] !== dirs[i - 1]) n++;
  return n;
}
