import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { decide } from '../../../src/stages/profile/policy.js';

const { config } = loadConfig();
const MIB = 1024 * 1024;

function input(rows: { tier: number; cpu?: number; rssMib?: number }[]) {
  const n = rows.length;
  const tier = Uint8Array.from(rows.map((r) => r.tier));
  const cpuCores = Float64Array.from(rows.map((r) => r.cpu ?? 0));
  const rssBytes = Float64Array.from(rows.map((r) => (r.rssMib ?? 0) * MIB));
  const activity = Float64Array.from(rows.map((r) => (r.cpu ?? 0) + (r.rssMib ?? 0) / 1e5));
  return { count: n, tier, cpuCores, rssBytes, activity, seriesPerRow: new Uint8Array(n).fill(15) };
}

describe('profile decision', () => {
  it('keeps every critical process in every profile, even past max_series', () => {
    const rows = Array.from({ length: 100 }, () => ({ tier: 0 }));
    for (const name of Object.keys(config.profiles)) {
      const d = decide(input(rows), { ...config.profiles[name]!, max_series: 15 });
      expect(d.kept).toBe(100);
    }
  });

  it('balanced keeps important, and standard only past a threshold', () => {
    const d = decide(
      input([
        { tier: 1 }, // important: full resolution
        { tier: 2, cpu: 0.01 }, // standard, idle: rolled up
        { tier: 2, cpu: 0.06 }, // standard, 6% of a core: kept
        { tier: 2, rssMib: 150 }, // standard, 150 MiB: kept
        { tier: 3, cpu: 0.5 }, // noise but busy: kept
        { tier: 3 }, // noise idle: rolled up
      ]),
      config.profiles.balanced!,
    );
    expect(Array.from(d.keep)).toEqual([1, 0, 1, 1, 1, 0]);
    expect(d.droppedBy.threshold).toBe(2);
  });

  it('top_n keeps the most active of a tier', () => {
    const rows = [0.1, 0.9, 0.5, 0.3].map((cpu) => ({ tier: 2, cpu }));
    const p = { ...config.profiles.balanced!, top_n: { important: 10, standard: 2, noise: 0 } };
    const d = decide(input(rows), p);
    expect(Array.from(d.keep)).toEqual([0, 1, 1, 0]);
    expect(d.droppedBy.topN).toBe(2);
  });

  it('max_series fills important before standard', () => {
    const rows = [{ tier: 2, cpu: 0.9 }, { tier: 1 }, { tier: 1 }];
    const p = { ...config.profiles.balanced!, max_series: 30 };
    const d = decide(input(rows), p);
    expect(Array.from(d.keep)).toEqual([0, 1, 1]);
    expect(d.keptSeries).toBe(30);
    expect(d.droppedBy.maxSeries).toBe(1);
  });

  it('emergency keeps only critical and forced rows', () => {
    const rows = [{ tier: 0 }, { tier: 1, cpu: 3 }, { tier: 2, rssMib: 9000 }, { tier: 3 }];
    const inp = { ...input(rows), forced: Uint8Array.from([0, 0, 0, 1]) };
    const d = decide(inp, config.profiles.emergency!);
    expect(Array.from(d.keep)).toEqual([1, 0, 0, 1]);
  });
});
