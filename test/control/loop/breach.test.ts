/**
 * A breach (cost over budget x breach_ratio) against the visibility floor:
 * with a floor set the breach goes to the cheapest position seen keeping
 * it, never to the emergency profile across it; with no floor (0), or none
 * known to keep it, to the emergency profile. Plants in plant.ts; injected
 * clock only (a cycle is 10 s of simulated time).
 */
import { describe, expect, it } from 'vitest';
import { BudgetController } from '../../../src/control/loop/controller.js';
import { linearPlant, loop, position, run } from './plant.js';

/** Visibility 1 at conservative's full scale, 0.12 less per profile along the ladder; the emergency profile 0.3. */
const host = linearPlant(0.12);
const FLOOR = 0.8;
/** Where `host` meets FLOOR: balanced at scale 0.1^(2/3) = 0.215 */
const FLOOR_X = (1 - FLOOR) / 0.12;

/** Load 1, with a churn burst of x3 for 3 cycles at cycle 1500. */
const burst = (k: number) => (k >= 1500 && k < 1503 ? 3 : 1);

describe('a breach and the visibility floor', () => {
  it('a breach while the loop sits at the floor does not cross it, and is reported as unmet for the floor', () => {
    const c = new BudgetController(loop({ visibility_floor: FLOOR }));
    c.adopt({ profile: 'conservative', scale: 1 });
    // a budget the loop meets a little richer than the floor, within the hysteresis band
    const r = run(c, 2000, burst, 0.27, host);
    expect(Math.abs(r.ratios[1499]! - 1)).toBeLessThanOrEqual(0.1);
    expect(position(r.settings[1499]!)).toBeGreaterThan(FLOOR_X - 0.3);
    // the burst: cost at 300% of the budget for 3 cycles, a breach (2 cycles over 1.2x)
    expect(r.moves.filter((m) => m.move.kind === 'emergency' || m.move.kind === 'breach')).toEqual([]);
    expect(Math.min(...r.visibility.slice(1000))).toBeGreaterThanOrEqual(FLOOR);
    const during = r.unmet.slice(1501, 1503);
    for (const u of during) {
      expect(u?.reason).toBe('visibility_floor');
      expect(u?.detail).toMatch(/over 1.2x.*emergency profile would cross it/);
    }
  });

  it('with no floor (0) the same burst jumps to the emergency profile, as the breach rule says', () => {
    const c = new BudgetController(loop({ visibility_floor: 0 }));
    c.adopt({ profile: 'conservative', scale: 1 });
    const r = run(c, 2000, burst, 0.27, host);
    const jumps = r.moves.filter((m) => m.cycle >= 1500 && m.cycle < 1503);
    expect(jumps.map((m) => m.move.kind)).toContain('emergency');
    expect(jumps.find((m) => m.move.kind === 'emergency')!.move.after).toEqual({ profile: 'emergency', scale: 1 });
  });

  it('with a floor that no setting was seen keeping, a breach jumps to the emergency profile and stays there an hour', () => {
    // visibility 0.85 at the richest setting, the floor 0.9: nothing keeps it
    const c = new BudgetController(loop({ visibility_floor: 0.9 }));
    c.adopt({ profile: 'conservative', scale: 1 });
    const r = run(c, 1500, (k) => (k < 500 ? 1 : 5), 1.0, linearPlant(0.12, 0.85));
    const emergency = r.moves.filter((m) => m.move.kind === 'emergency');
    expect(emergency[0]?.cycle).toBeLessThan(503);
    // back after an hour, to the richest setting (the floor before the cost), and no more than the cap in any hour
    const recover = r.moves.find((m) => m.move.kind === 'recover');
    expect(recover!.cycle - emergency[0]!.cycle).toBeGreaterThanOrEqual(360);
    expect(recover!.move.after).toEqual({ profile: 'conservative', scale: 1 });
    for (const m of r.moves) {
      expect(r.moves.filter((u) => u.cycle > m.cycle - 360 && u.cycle <= m.cycle).length).toBeLessThanOrEqual(4);
    }
  });

  it('a cost runaway (x5) with a floor ends at the cheapest position keeping it within a bounded number of cycles', () => {
    const c = new BudgetController(loop({ visibility_floor: FLOOR }));
    c.adopt({ profile: 'conservative', scale: 1 });
    // on budget at conservative's full scale, then x5 for good
    const step = 1000;
    const r = run(c, 3000, (k) => (k < step ? 1 : 5), 1.0, host);
    expect(r.moves.filter((m) => m.cycle < step)).toEqual([]);
    expect(r.moves.filter((m) => m.move.kind === 'emergency')).toEqual([]);
    expect(Math.min(...r.visibility)).toBeGreaterThanOrEqual(FLOOR);
    // settled within two hours (720 cycles: six steps at four changes an hour), then no move
    const last = r.moves.at(-1)!;
    expect(last.cycle - step).toBeLessThanOrEqual(720);
    // at the floor: within 2 points of visibility of where the host meets it
    const end = r.settings.at(-1)!;
    expect(host(end, 1).visibility).toBeGreaterThanOrEqual(FLOOR);
    expect(host(end, 1).visibility).toBeLessThanOrEqual(FLOOR + 0.02);
    expect(position(end)).toBeGreaterThan(FLOOR_X - 0.2);
    // still over budget there: it says so
    expect(r.ratios.at(-1)!).toBeGreaterThan(1.1);
    expect(c.unmet?.reason).toBe('visibility_floor');
  });

  it('a breach jumps at once (dwell and the hourly cap do not hold it) to the cheapest position seen keeping the floor', () => {
    const c = new BudgetController(loop({ visibility_floor: FLOOR, max_changes_per_hour: 2 }));
    c.adopt({ profile: 'conservative', scale: 1 });
    // settled near the floor; the load falls (the loop goes richer, using its two changes), then a runaway
    const r = run(c, 2200, (k) => (k < 1500 ? 1 : k < 1700 ? 0.3 : 5), 0.25, host);
    const richer = r.moves.filter((m) => m.cycle >= 1500 && m.cycle < 1700);
    expect(richer.length).toBe(2);
    expect(richer.every((m) => m.move.kind === 'richer')).toBe(true);
    const jump = r.moves.find((m) => m.cycle >= 1700);
    expect(jump?.move.kind).toBe('breach');
    expect(jump!.cycle).toBeLessThanOrEqual(1701);
    // the cheapest position seen keeping the floor (and its margin) in the last hour: cheaper than where the load sent it
    expect(position(jump!.move.after)).toBeGreaterThan(position(richer.at(-1)!.move.after));
    expect(position(jump!.move.after)).toBeGreaterThanOrEqual(position(richer[0]!.move.after) - 1e-9);
    expect(host(jump!.move.after, 1).visibility).toBeGreaterThanOrEqual(FLOOR);
    expect(Math.min(...r.visibility.slice(1500))).toBeGreaterThanOrEqual(FLOOR);
  });
});
