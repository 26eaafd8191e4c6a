import { describe, expect, it } from 'vitest';
import { MEMORY_TIERS, nextTier, policyFor, TIER_THRESHOLDS, tierName } from '../../src/control/index.js';

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
  it('engages the tiers in order as usage rises 50→65→75→85→95→105%', () => {
    expect(walk([0.5, 0.65, 0.75, 0.85, 0.95, 1.05])).toEqual([
      'normal',
      'drop_noise',
      'drop_standard',
      'sample_important',
      'critical_only',
      'refuse_input',
    ]);
  });

  it('engages exactly at each threshold', () => {
    for (let t = 1; t < TIER_THRESHOLDS.length; t++) {
      expect(nextTier(0, TIER_THRESHOLDS[t]!, H)).toBe(t);
      expect(nextTier(0, TIER_THRESHOLDS[t]! - 1e-9, H)).toBe(t - 1);
    }
  });

  it('hysteresis holds drop_noise at 58% after 61%, and drops back to normal at 54%', () => {
    expect(walk([0.61, 0.58, 0.56, 0.54])).toEqual(['drop_noise', 'drop_noise', 'drop_noise', 'normal']);
    expect(walk([0.61, 0.58], 0)).toEqual(['drop_noise', 'normal']);
  });

  it('jumps straight from 50% to 95% into critical_only, and can drop several tiers at once', () => {
    expect(walk([0.5, 0.95])).toEqual(['normal', 'critical_only']);
    expect(walk([0.95, 0.3])).toEqual(['critical_only', 'normal']);
    // 72% is below 90-5 but still holds drop_standard (70-5)
    expect(walk([0.95, 0.72])).toEqual(['critical_only', 'drop_standard']);
    expect(walk([0.95, 0.67])).toEqual(['critical_only', 'drop_standard']);
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
