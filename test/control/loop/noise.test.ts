/**
 * The floor is a promise for every cycle while the loop steers on smoothed
 * visibility: on a host whose visibility is noisy from cycle to cycle, the
 * loop keeps the smoothed value a margin of that noise above the floor, so
 * single cycles do not fall under it. Plants in plant.ts; injected clock
 * only (a cycle is 10 s of simulated time).
 */
import { describe, expect, it } from 'vitest';
import { BudgetController } from '../../../src/control/loop/controller.js';
import { linearPlant, loop, type Plant, run } from './plant.js';

const FLOOR = 0.8;

/** linearPlant(0.12), with visibility `amp` over and under it on alternate cycles (churn), the mean unchanged. */
function noisy(amp: number): Plant {
  const base = linearPlant(0.12);
  let k = 0;
  return (s, load) => {
    const o = base(s, load);
    return { ...o, visibility: o.visibility + (k++ % 2 === 0 ? amp : -amp) };
  };
}

describe('visibility noise and the floor', () => {
  it('a budget only reachable under the floor: no cycle falls under it once settled, with noise of 4 points a cycle', () => {
    const c = new BudgetController(loop({ visibility_floor: FLOOR }));
    c.adopt({ profile: 'conservative', scale: 1 });
    // a budget the host meets only past the floor (visibility 0.8 at x = 1.67, the budget near x = 2)
    const r = run(c, 3000, () => 1, 0.2, noisy(0.04));
    const settled = r.visibility.slice(1000);
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(FLOOR);
    // and not by going back to the richest setting: a margin of the noise over the floor (the richest setting dips only to 0.96)
    expect(Math.min(...settled)).toBeLessThanOrEqual(FLOOR + 0.1);
    expect(c.unmet?.reason).toBe('visibility_floor');
  });

  it('without noise the same budget settles just over the floor (the margin is the noise, not a constant)', () => {
    const c = new BudgetController(loop({ visibility_floor: FLOOR }));
    c.adopt({ profile: 'conservative', scale: 1 });
    const r = run(c, 3000, () => 1, 0.2, noisy(0));
    const settled = r.visibility.slice(1000);
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(FLOOR);
    expect(Math.min(...settled)).toBeLessThanOrEqual(FLOOR + 0.03);
  });
});
