import { describe, expect, it } from 'vitest';
import { allocBatch } from '../../../src/sources/batch.js';
import { applyMemoryCut } from '../../../src/stages/memory-cut/cut.js';
import { identityUnit, sampleRate, sampleRolledUp } from '../../../src/stages/sample/sampling.js';

const host = {
  hostname: 'h',
  bootTimeSec: 0,
  uptimeSec: 1000,
  cpuCount: 2,
  memTotalBytes: 1e9,
  clkTck: 100,
  pageSize: 4096,
};

function batch(n: number) {
  const b = allocBatch(n, host);
  b.count = n;
  for (let i = 0; i < n; i++) {
    b.pid[i] = 1000 + i;
    b.startTicks[i] = 5000 + i * 17;
  }
  return b;
}

describe('sampling arithmetic', () => {
  it('identityUnit is stable, in [0,1) and roughly uniform', () => {
    let below = 0;
    for (let pid = 1; pid <= 20000; pid++) {
      const u = identityUnit(pid, pid * 31);
      expect(u).toBeGreaterThanOrEqual(0);
      expect(u).toBeLessThan(1);
      expect(identityUnit(pid, pid * 31)).toBe(u);
      if (u < 0.25) below++;
    }
    expect(below / 20000).toBeGreaterThan(0.22);
    expect(below / 20000).toBeLessThan(0.28);
    // a reused pid with a new start time is a different identity
    expect(identityUnit(42, 100)).not.toBe(identityUnit(42, 101));
  });

  it('sampleRate is a power of two that keeps the candidates within the budget', () => {
    expect(sampleRate(0, 100)).toBe(0);
    expect(sampleRate(100, 50)).toBe(1);
    expect(sampleRate(100, 100)).toBe(1);
    expect(sampleRate(100, 101)).toBe(0.5);
    expect(sampleRate(100, 1000)).toBe(1 / 16);
    for (const c of [150, 999, 12345, 1e6]) expect(sampleRate(100, c) * c).toBeLessThanOrEqual(100);
    expect(sampleRate(1, 1e9)).toBe(0);
  });
});

describe('sampleRolledUp', () => {
  it('samples only rolled-up rows of the given tiers, within the budget, the same rows every time', () => {
    const n = 4000;
    const b = batch(n);
    const keep = new Uint8Array(n);
    const tier = new Uint8Array(n);
    const series = new Uint8Array(n).fill(10);
    for (let i = 0; i < n; i++) {
      tier[i] = i % 4;
      keep[i] = i % 7 === 0 ? 1 : 0;
    }
    const r = sampleRolledUp(b, keep, tier, series, new Set([2]), 1000);
    expect(r.points).toBeLessThanOrEqual(1000);
    expect(r.points).toBeGreaterThan(250); // the power-of-two rate wastes at most half
    expect(r.count * 10).toBe(r.points);
    for (let i = 0; i < n; i++) {
      if (r.sampled[i] === 1) {
        expect(keep[i]).toBe(0);
        expect(tier[i]).toBe(2);
      }
    }
    const again = sampleRolledUp(b, keep, tier, series, new Set([2]), 1000);
    expect(again.sampled).toEqual(r.sampled);
    // a halved rate picks a subset of the rows picked before
    const half = sampleRolledUp(b, keep, tier, series, new Set([2]), 500);
    expect(half.rate).toBe(r.rate / 2);
    for (let i = 0; i < n; i++) if (half.sampled[i] === 1) expect(r.sampled[i]).toBe(1);
  });
});

describe('applyMemoryCut', () => {
  const n = 400;
  const b = batch(n);
  const tier = Uint8Array.from({ length: n }, (_, i) => i % 4);
  const forced = Uint8Array.from({ length: n }, (_, i) => (i % 10 === 3 ? 1 : 0));

  it('never cuts critical or forced rows, at any policy', () => {
    const keep = new Uint8Array(n).fill(1);
    const series = new Uint8Array(n).fill(15);
    const cut = applyMemoryCut(
      b,
      keep,
      tier,
      forced,
      { dropTiers: new Set(['critical', 'important', 'standard', 'noise']), importantKeep: 0, criticalOnly: true },
      series,
    );
    for (let i = 0; i < n; i++) {
      if (tier[i] === 0 || forced[i] === 1) expect(keep[i]).toBe(1);
      else expect(keep[i]).toBe(0);
    }
    expect(cut.rows).toBe([...keep].filter((k) => k === 0).length);
    expect(cut.points).toBe(cut.rows * 15);
  });

  it('drops the named tiers and samples important at the keep rate', () => {
    const keep = new Uint8Array(n).fill(1);
    applyMemoryCut(b, keep, tier, undefined, {
      dropTiers: new Set(['noise', 'standard']),
      importantKeep: 0.5,
      criticalOnly: false,
    });
    let important = 0;
    let importantKept = 0;
    for (let i = 0; i < n; i++) {
      if (tier[i] === 2 || tier[i] === 3) expect(keep[i]).toBe(0);
      if (tier[i] === 1) {
        important++;
        importantKept += keep[i]!;
      }
    }
    expect(importantKept / important).toBeGreaterThan(0.3);
    expect(importantKept / important).toBeLessThan(0.7);
  });

  it('does nothing at the normal tier', () => {
    const keep = new Uint8Array(n).fill(1);
    expect(
      applyMemoryCut(b, keep, tier, forced, { dropTiers: new Set(), importantKeep: 1, criticalOnly: false }),
    ).toEqual({ rows: 0, points: 0 });
    expect(keep.every((k) => k === 1)).toBe(true);
  });
});

describe('sampling budget', () => {
  it('is the smaller of budget_points and budget_share of the hostmetrics default for every process', async () => {
    const { samplingBudget } = await import('../../../src/stages/sample/index.js');
    // 7 points per process in the hostmetrics default
    expect(samplingBudget({ budget_share: 0.02 }, 2000)).toBe(280);
    expect(samplingBudget({ budget_points: 1000, budget_share: 0.02 }, 2000)).toBe(280);
    expect(samplingBudget({ budget_points: 1000, budget_share: 0.02 }, 100_000)).toBe(1000);
    expect(samplingBudget({ budget_points: 50 }, 100_000)).toBe(50);
    expect(samplingBudget({}, 100)).toBe(0);
  });

  it('a sampling section without a budget is refused, naming the key', async () => {
    const { loadConfig } = await import('../../../src/config/load.js');
    const { configSchema } = await import('../../../src/config/schema.js');
    const { config } = loadConfig();
    const bad = structuredClone(config);
    bad.profiles.balanced!.sampling = { tiers: ['standard'] };
    const r = configSchema.safeParse(bad);
    expect(r.success).toBe(false);
    const issue = r.error!.issues[0]!;
    expect(issue.path.join('.')).toBe('profiles.balanced.sampling');
    expect(issue.message).toBe('needs budget_points, budget_share or both');
  });
});
