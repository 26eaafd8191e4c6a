/**
 * `nrdot simulate` through the built CLI: two profiles over two simulated
 * hours of a small host, as JSON; and bad flags exit 2 naming the flag.
 */
import { describe, expect, it } from 'vitest';
import { nrdot } from '../../helpers/cli.js';

describe('nrdot simulate', () => {
  it('reports cost, reduction, coverage and visibility per profile, cheaper profiles cheaper', async () => {
    const r = await nrdot([
      'simulate',
      ...['--duration', '2h', '--step', '2m', '--processes', '300', '--profile', 'conservative,aggressive', '--json'],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      results: {
        profile: string;
        cycles: number;
        usd: { perHour: number };
        reduction: { points: number };
        coverage: { criticalMin: number; anomalyMin: number };
        visibility: { min: number; mean: number };
        throughput: number;
      }[];
    };
    expect(out.results.map((x) => x.profile)).toEqual(['conservative', 'aggressive']);
    const [c, a] = out.results;
    expect(c!.cycles).toBe(60);
    for (const x of out.results) {
      expect(x.coverage.criticalMin).toBe(1);
      expect(x.coverage.anomalyMin).toBe(1);
      expect(x.visibility.min).toBeGreaterThan(0);
      expect(x.throughput).toBeGreaterThan(0);
    }
    expect(a!.usd.perHour).toBeLessThan(c!.usd.perHour);
    expect(a!.reduction.points).toBeGreaterThan(c!.reduction.points);
    expect(c!.visibility.mean).toBeGreaterThanOrEqual(a!.visibility.mean);
  });

  it('bad flags exit 2 naming the flag', async () => {
    const d = await nrdot(['simulate', '--duration', '0d']);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('--duration');
    const b = await nrdot(['simulate', '--duration', '1h', '--budget', '-1']);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--budget');
    const p = await nrdot(['simulate', '--duration', '1h', '--profile', 'nope']);
    expect(p.code).toBe(2);
    expect(p.stderr).toContain("unknown profile 'nope'");
  });
});
