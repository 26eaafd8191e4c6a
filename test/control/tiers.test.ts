import { describe, expect, it } from 'vitest';
import {
  CRITICAL_ONLY_TIER,
  MAX_TIER,
  MEMORY_TIERS,
  nextTier,
  policyFor,
  TIER_THRESHOLDS,
  tierName,
} from '../../src/control/index.js';

const H = 0.05;

/** Feed readings one after another from tier 0; return the tier names after each. */
function walk(readings: number[], hysteresis = H): string[] {
  let t = 0;
  return readings.map((u) => {
    t = nextTier(t, u, hysteresis);
    return MEMORY_TIERS[t]!;
  });
}

describe('nextTier', () => {
  it('engages the tiers in order as usage rises 50→65→75→85→92→105%', () => {
    expect(walk([0.5, 0.65, 0.75, 0.85, 0.92, 1.05])).toEqual([
      'normal',
      'drop_noise',
      'drop_standard',
      'sample_important',
      'critical_only',
      'refuse_input',
    ]);
  });

  it('engages exactly at each threshold, one tier up from the one below', () => {
    for (let t = 1; t < TIER_THRESHOLDS.length; t++) {
      expect(nextTier(t - 1, TIER_THRESHOLDS[t]!, H)).toBe(t);
      expect(nextTier(t - 1, TIER_THRESHOLDS[t]! - 1e-9, H)).toBe(t - 1);
    }
    expect(TIER_THRESHOLDS[MAX_TIER]).toBeLessThan(1);
  });

  it('hysteresis holds drop_noise at 58% after 61%, and drops back to normal at 54%', () => {
    expect(walk([0.61, 0.58, 0.56, 0.54])).toEqual(['drop_noise', 'drop_noise', 'drop_noise', 'normal']);
    expect(walk([0.61, 0.58], 0)).toEqual(['drop_noise', 'normal']);
  });

  it('moves one tier per reading: 50% then 120% steps through every tier to refuse_input', () => {
    expect(walk([0.5, 1.2, 1.2, 1.2, 1.2, 1.2, 1.2])).toEqual([
      'normal',
      'drop_noise',
      'drop_standard',
      'sample_important',
      'critical_only',
      'refuse_input',
      'refuse_input',
    ]);
  });

  it('comes down one tier per reading, each only below its threshold minus the hysteresis', () => {
    // from refuse_input (95%): 30% steps down one tier per reading
    let t = MAX_TIER;
    const down: string[] = [];
    for (let i = 0; i < 6; i++) {
      t = nextTier(t, 0.3, H);
      down.push(MEMORY_TIERS[t]!);
    }
    expect(down).toEqual(['critical_only', 'sample_important', 'drop_standard', 'drop_noise', 'normal', 'normal']);
    // 72% leaves critical_only (90-5) and sample_important (80-5) but holds drop_standard (70-5)
    const held: string[] = [];
    t = CRITICAL_ONLY_TIER;
    for (let i = 0; i < 4; i++) {
      t = nextTier(t, 0.72, H);
      held.push(MEMORY_TIERS[t]!);
    }
    expect(held).toEqual(['sample_important', 'drop_standard', 'drop_standard', 'drop_standard']);
    // a reading inside the hysteresis band of the tier below never moves it
    expect(nextTier(2, 0.66, H)).toBe(2);
    expect(nextTier(2, 0.6499, H)).toBe(1);
  });

  it('never moves more than one tier, from any tier, on any reading', () => {
    for (let cur = 0; cur <= MAX_TIER; cur++) {
      for (let u = 0; u <= 1.5; u += 0.01) {
        expect(Math.abs(nextTier(cur, u, H) - cur)).toBeLessThanOrEqual(1);
      }
    }
  });

  it('keeps the tier on a NaN reading', () => {
    expect(nextTier(3, Number.NaN, H)).toBe(3);
  });
});

describe('policyFor', () => {
  it('sheds noise, then standard, then samples important, then keeps critical only, then refuses input', () => {
    const rows = MEMORY_TIERS.map((_, t) => {
      const p = policyFor(t);
      return [[...p.dropTiers].sort(), p.importantKeep, p.criticalOnly, p.refuseInput];
    });
    expect(rows).toEqual([
      [[], 1, false, false],
      [['noise'], 1, false, false],
      [['noise', 'standard'], 1, false, false],
      [['noise', 'standard'], 0.5, false, false],
      [['important', 'noise', 'standard'], 0, true, false],
      [['important', 'noise', 'standard'], 0, true, true],
    ]);
  });

  it('never drops critical processes at any tier', () => {
    for (let t = 0; t < MEMORY_TIERS.length; t++) expect(policyFor(t).dropTiers.has('critical')).toBe(false);
  });

  it('refuses tiers out of range', () => {
    expect(() => policyFor(6)).toThrow(RangeError);
    expect(() => policyFor(-1)).toThrow(RangeError);
    expect(() => policyFor(1.5)).toThrow(RangeError);
    expect(tierName(4)).toBe('critical_only');
  });
});
