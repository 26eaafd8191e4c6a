/**
 * The search of `optimize suggest` over a model of how cost and visibility
 * follow the knob (monotone, as the pipeline's are; the real pipeline is
 * searched in test/cli/optimize.test.ts): it finds the smallest knob that
 * keeps the floor to within the bisection's resolution, skips profiles that
 * miss the floor at full scale, and ranks meeting-every-target first.
 */
import { describe, expect, it } from 'vitest';
import { type Evaluation, judge, search } from '../../../src/control/optimize/search.js';

/** cost = base x scale, visibility = vis x (0.5 + 0.5 scale) */
const model: Record<string, { base: number; vis: number }> = {
  rich: { base: 10, vis: 1 },
  mid: { base: 4, vis: 0.96 },
  thin: { base: 1, vis: 0.6 },
};

function evaluate(profile: string, scale: number): Promise<Evaluation> {
  const m = model[profile]!;
  const v = m.vis * (0.5 + 0.5 * scale);
  return Promise.resolve({
    profile,
    scale,
    usdPerHour: m.base * scale,
    pointsPerMinute: m.base * scale * 1000,
    visibilityMin: v,
    visibilityMean: v,
    reduction: 1 - m.base * scale * 0.05,
    criticalMin: 1,
    anomalyMin: 1,
  });
}

describe('optimize search', () => {
  it('the cheapest knob meeting the floor, to the bisection resolution; the runners-up ranked', async () => {
    const seen: string[] = [];
    const r = await search({
      profiles: ['rich', 'mid', 'thin'],
      targets: { usdPerHour: 5, minVisibility: 0.9 },
      minScale: 0.1,
      steps: 6,
      evaluate: (p, s) => {
        seen.push(`${p}@${s}`);
        return evaluate(p, s);
      },
    });
    // rich meets 0.9 down to scale 0.8, mid down to 0.875: rich 0.8 costs 8, mid 0.875 costs 3.5
    expect(r.best?.profile).toBe('mid');
    expect(r.best!.scale).toBeGreaterThanOrEqual(0.875);
    expect(r.best!.scale - 0.875).toBeLessThan(0.9 / 2 ** 6 + 0.001);
    expect(r.best!.visibilityMin).toBeGreaterThanOrEqual(0.9);
    expect(judge(r.best!, { usdPerHour: 5, minVisibility: 0.9 }).meets).toBe(true);
    // thin misses the floor at full scale: evaluated once, not bisected
    expect(seen.filter((s) => s.startsWith('thin'))).toEqual(['thin@1']);
    // rich keeps the floor and is only too dear: ranked before thin, which is cheap but misses the floor
    expect(r.runnersUp.map((e) => [e.profile, e.meets, e.misses])).toEqual([
      ['rich', false, ['cost']],
      ['thin', false, ['visibility']],
    ]);
    expect(r.runnersUp[0]!.scale).toBeLessThan(0.9);
  });

  it('no configuration meets every target: no best, the closest first', async () => {
    const r = await search({
      profiles: ['rich', 'thin'],
      targets: { pointsPerMinute: 500, minVisibility: 0.99 },
      minScale: 0.1,
      evaluate,
    });
    expect(r.best).toBeUndefined();
    expect(r.runnersUp.every((e) => !e.meets)).toBe(true);
    expect(r.runnersUp[0]!.misses.length).toBeLessThanOrEqual(r.runnersUp[1]!.misses.length);
  });

  it('a profile whose smallest knob keeps the floor stops there', async () => {
    const seen: number[] = [];
    const r = await search({
      profiles: ['rich'],
      targets: { usdPerHour: 100, minVisibility: 0.5 },
      minScale: 0.25,
      evaluate: (p, s) => {
        seen.push(s);
        return evaluate(p, s);
      },
    });
    expect(seen).toEqual([1, 0.25]);
    expect(r.best?.scale).toBe(0.25);
  });
});
