/**
 * Efficacy on the project's own synthetic workload (bench/score-efficacy.ts):
 * injected anomalies captured within 2 cycles under aggressive, and few false
 * promotions over steady cycles under every profile. Two seeds and two sizes;
 * the per-profile figures are printed (and recorded in docs/BENCHMARKS.md).
 */
import { describe, expect, it } from 'vitest';
import { measureEfficacy } from '../../../bench/score-efficacy.js';

const PROFILES = ['conservative', 'balanced', 'aggressive', 'emergency'];

describe.each([
  { processes: 1200, seed: 3, profiles: PROFILES },
  { processes: 2000, seed: 8, profiles: ['aggressive'] },
])('scoring efficacy on a $processes-process host (seed $seed)', ({ processes, seed, profiles }) => {
  it('captures >= 99% within 2 cycles under aggressive; false positives < 2% over steady cycles', {
    timeout: 120_000,
  }, async () => {
    const results = await measureEfficacy({ profiles, processes, seed, steadyCycles: 4, rounds: 5, anomalies: 5 });
    for (const r of results) {
      console.log(
        `${r.profile} ${processes}/${seed}: captured ${r.caughtWithin2}/${r.injected} within 2 cycles ` +
          `(${r.caughtFirstCycle} in the first), steady false promotions ${r.steadyPromoted}/${r.steadyProcesses} ` +
          `(${(100 * r.falsePositiveRate).toFixed(2)}%)`,
      );
      expect(r.injected).toBe(25);
      expect(r.falsePositiveRate, `${r.profile} false-positive rate`).toBeLessThan(0.02);
    }
    const aggressive = results.find((r) => r.profile === 'aggressive')!;
    expect(aggressive.missed).toEqual([]);
    expect(aggressive.captureRate).toBeGreaterThanOrEqual(0.99);
  });
});
