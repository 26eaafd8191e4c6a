/**
 * The budget controller against a plant (plant.ts): a host whose cost per
 * profile and knob scale is known, with a load that can change. Injected
 * clock only: each cycle is 10 s of simulated time.
 */
import { describe, expect, it } from 'vitest';
import { BudgetController } from '../../../src/control/loop/controller.js';
import { loop, plant, reversals, run } from './plant.js';

describe('BudgetController', () => {
  it('settles inside a profile with the knob, within the hysteresis band', () => {
    // far over budget at the start: no breach jump here (breach_ratio 100), steering only
    const c = new BudgetController(loop({ visibility_floor: 0, breach_ratio: 100 }));
    c.adopt({ profile: 'conservative', scale: 1 });
    const r = run(c, 2000, () => 1, 0.35);
    const tail = r.ratios.slice(-200);
    for (const x of tail) expect(Math.abs(x - 1)).toBeLessThanOrEqual(0.1 + 1e-9);
    expect(r.settings.at(-1)!.profile).toBe('balanced');
    expect(r.settings.at(-1)!.scale).toBeLessThan(1);
    expect(reversals(r)).toBeLessThanOrEqual(1);
  });

  it('a step of load x4 converges in a bounded number of cycles without oscillating', () => {
    const c = new BudgetController(loop({ visibility_floor: 0 }));
    c.adopt({ profile: 'conservative', scale: 1 });
    const step = 1500;
    const r = run(c, 6000, (k) => (k < step ? 1 : 4), 0.35);
    // converged after the step: every later cycle within the band, and no move
    const settled = r.ratios.findIndex(
      (x, k) => k > step && r.ratios.slice(k).every((y) => Math.abs(y - 1) <= 0.1 + 1e-9),
    );
    expect(settled).toBeGreaterThan(step);
    expect(settled - step).toBeLessThan(2000);
    expect(r.moves.filter((m) => m.cycle > settled).length).toBe(0);
    expect(reversals(r, step)).toBeLessThanOrEqual(2); // cheaper (the emergency jump), then back richer
    expect(r.moves.some((m) => m.cycle >= step && m.move.kind === 'emergency')).toBe(true);
  });

  it('between two profiles whose knob ranges do not meet, it settles on the cheaper one instead of flipping', () => {
    // balanced at min knob costs 0.5 x 0.46 = 0.23 > 0.2; aggressive at full scale 0.15 < 0.2 - 10%
    const c = new BudgetController(loop({ visibility_floor: 0, min_knob: 0.1, breach_ratio: 100 }));
    c.adopt({ profile: 'balanced', scale: 1 });
    const r = run(c, 3000, () => 1, 0.2);
    expect(r.settings.at(-1)).toEqual({ profile: 'aggressive', scale: 1 });
    expect(reversals(r)).toBe(0);
  });

  it('holds min_dwell between changes and at most max_changes_per_hour in any hour', () => {
    const cfg = loop({ visibility_floor: 0, min_dwell: '5m', max_changes_per_hour: 3, breach_ratio: 100 });
    const c = new BudgetController(cfg);
    c.adopt({ profile: 'conservative', scale: 1 });
    // a load that keeps moving, so the loop always wants to move
    const r = run(c, 8000, (k) => 1 + 3 * (0.5 + 0.5 * Math.sin(k / 200)), 0.3);
    const times = r.moves.filter((m) => m.move.kind !== 'emergency').map((m) => m.cycle * 10_000);
    expect(times.length).toBeGreaterThan(5);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(300_000);
    const all = r.moves.map((m) => m.cycle * 10_000);
    for (const t of all) expect(all.filter((u) => u > t - 3_600_000 && u <= t).length).toBeLessThanOrEqual(3);
  });

  it('never crosses the visibility floor while steering, and says the budget is unmet', () => {
    // 10x the budget from the first cycle: a breach too, which the floor keeps from the emergency profile (breach.test.ts)
    const c = new BudgetController(loop({ visibility_floor: 0.9 }));
    c.adopt({ profile: 'conservative', scale: 1 });
    const r = run(c, 3000, () => 1, 0.1);
    expect(Math.min(...r.visibility)).toBeGreaterThanOrEqual(0.9);
    expect(c.unmet?.reason).toBe('visibility_floor');
  });

  it('a breach of budget x 1.2 jumps to the emergency profile at once, dwell or not', () => {
    const c = new BudgetController(loop({ visibility_floor: 0, min_dwell: '1h', breach_cycles: 2 }));
    c.adopt({ profile: 'balanced', scale: 1 });
    // 2.5x the budget: a first step cheaper (cycle 0), still over 1.2x on the next cycle: emergency inside the dwell
    const r = run(c, 10, () => 1, 0.2);
    expect(r.moves.map((m) => [m.cycle, m.move.kind])).toEqual([
      [0, 'cheaper'],
      [1, 'emergency'],
    ]);
    expect(r.moves[1]!.move.after).toEqual({ profile: 'emergency', scale: 1 });
  });

  it('noise of +-20% per cycle (heartbeats, churn) is not a breach, and the loop keeps its change cap', () => {
    const c = new BudgetController(loop({ visibility_floor: 0.5 }));
    c.adopt({ profile: 'conservative', scale: 1 });
    let seed = 7;
    const noise = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return 0.8 + 0.4 * (seed / 2 ** 31);
    };
    const moves: { t: number; kind: string }[] = [];
    let s = c.setting;
    // a cycle every 5 minutes for two days, load steady: a budget between balanced and aggressive
    for (let k = 0; k < 576; k++) {
      const p = plant(s, 1);
      const m = c.observe(
        { nowMs: k * 300_000, ...p, usdPerHour: p.usdPerHour * noise(), visibility: p.visibility },
        { usd_per_hour: 0.25 },
      );
      if (m) {
        moves.push({ t: k * 300_000, kind: m.kind });
        s = m.after;
      }
    }
    const late = moves.filter((m) => m.t >= 6 * 3_600_000);
    expect(late.filter((m) => m.kind === 'emergency')).toEqual([]);
    for (const m of late) {
      expect(late.filter((u) => u.t > m.t - 3_600_000 && u.t <= m.t).length).toBeLessThanOrEqual(4);
    }
  });

  it('when even the emergency profile is over budget, it holds there and says so', () => {
    const c = new BudgetController(loop({ visibility_floor: 0 }));
    c.adopt({ profile: 'aggressive', scale: 1 });
    const r = run(c, 400, () => 1, 0.01);
    expect(r.settings.at(-1)!.profile).toBe('emergency');
    expect(c.unmet?.reason).toBe('emergency');
  });
});
