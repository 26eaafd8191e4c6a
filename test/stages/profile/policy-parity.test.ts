/**
 * Parity: decide() (bounded heaps per tier, no full sort) must take exactly
 * the decision the previous implementation took (every tier's candidates
 * sorted by activity): same kept rows, same kept series, same droppedBy
 * counts, same tie-breaking, on many seeded random inputs.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { ProfileConfig } from '../../../src/config/schema.js';
import { decide, type PolicyDecision, type PolicyInput } from '../../../src/stages/profile/policy.js';
import { TIER_CRITICAL, TIER_IMPORTANT, TIER_NOISE, TIER_STANDARD, TIERS } from '../../../src/telemetry/names.js';

const { config } = loadConfig();
const MIB = 1024 * 1024;

// ---- reference: the previous decide(), verbatim but for its name ----

function decideReference(input: PolicyInput, profile: ProfileConfig): PolicyDecision {
  const { count, tier, cpuCores, rssBytes, activity, seriesPerRow, forced } = input;
  const keep = new Uint8Array(count);
  const full = new Uint8Array(TIERS.length);
  for (const t of profile.full_resolution_tiers) full[TIERS.indexOf(t)] = 1;
  const cpuMin =
    profile.thresholds.cpu_percent === null ? Number.POSITIVE_INFINITY : profile.thresholds.cpu_percent / 100;
  const rssMin = profile.thresholds.rss_mib === null ? Number.POSITIVE_INFINITY : profile.thresholds.rss_mib * MIB;
  const candidates: number[][] = [[], [], [], []];
  let series = 0;
  let kept = 0;
  const droppedBy = { threshold: 0, topN: 0, maxSeries: 0 };

  for (let i = 0; i < count; i++) {
    const t = tier[i]!;
    if (t === TIER_CRITICAL || (forced !== undefined && forced[i] === 1)) {
      keep[i] = 1;
      kept++;
      series += seriesPerRow[i]!;
    } else if (full[t] === 1 || cpuCores[i]! >= cpuMin || rssBytes[i]! >= rssMin) {
      candidates[t]!.push(i);
    } else {
      droppedBy.threshold++;
    }
  }

  const topN = [Number.POSITIVE_INFINITY, profile.top_n.important, profile.top_n.standard, profile.top_n.noise];
  const byActivity = (a: number, b: number) => activity[b]! - activity[a]! || a - b;
  for (const t of [TIER_IMPORTANT, TIER_STANDARD, TIER_NOISE]) {
    const list = candidates[t]!;
    const cap = topN[t]!;
    if (list.length === 0) continue;
    list.sort(byActivity);
    if (list.length > cap) {
      droppedBy.topN += list.length - cap;
      list.length = cap;
    }
    for (const i of list) {
      const cost = seriesPerRow[i]!;
      if (series + cost > profile.max_series) {
        droppedBy.maxSeries++;
        continue;
      }
      keep[i] = 1;
      kept++;
      series += cost;
    }
  }
  return { keep, kept, keptSeries: series, droppedBy };
}

// ---- seeded inputs ----

/** xorshift32 over a scrambled seed (neighbouring seeds give unrelated streams), uniform in [0, 1) */
function rng(seed: number): () => number {
  let s = Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < 8; i++) next();
  return next;
}

const profileNames = Object.keys(config.profiles);

interface Case {
  input: PolicyInput;
  profile: ProfileConfig;
}

function makeCase(seed: number, maxRows: number): Case {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const count = Math.min(maxRows, pick([0, 1, 2, 3, 5, 8, 20, 60, 200, 700, 2000, maxRows]));

  // tier mix: some tiers may be absent
  const weights = TIERS.map(() => (r() < 0.2 ? 0 : r()));
  const total = weights.reduce((a, b) => a + b, 0) || 1;
  const tierOf = () => {
    let x = r() * total;
    for (let t = 0; t < TIERS.length; t++) {
      x -= weights[t]!;
      if (x < 0) return t;
    }
    return TIER_NOISE;
  };

  // activity: many ties, continuous, or with infinities and signed zeros
  const mode = pick(['few-values', 'continuous', 'all-equal', 'extremes', 'integers'] as const);
  const few = [0, 0.001, 0.25, 0.5, 1];
  const activityOf = (): number => {
    switch (mode) {
      case 'few-values':
        return pick(few);
      case 'continuous':
        return r();
      case 'all-equal':
        return 0.5;
      case 'extremes':
        return pick([
          Number.POSITIVE_INFINITY,
          Number.NEGATIVE_INFINITY,
          0,
          -0,
          -1,
          Number.MAX_VALUE,
          Number.MIN_VALUE,
          r(),
        ]);
      case 'integers':
        return int(0, 5);
    }
  };
  // CPU and RSS straddle the shipped thresholds, exact values included
  const cpuOf = () => pick([0, 0, 0.009, 0.01, 0.05, 0.2, 0.3, r() * 0.5, r() * 2]);
  const rssOf = () => pick([0, 0, 10, 50, 100, 200, r() * 400]) * MIB;

  const tier = new Uint8Array(count);
  const cpuCores = new Float64Array(count);
  const rssBytes = new Float64Array(count);
  const activity = new Float64Array(count);
  const seriesPerRow = new Uint8Array(count);
  const forcedRate = pick([0, 0.02, 0.2]);
  const forced = forcedRate > 0 ? new Uint8Array(count) : undefined;
  for (let i = 0; i < count; i++) {
    tier[i] = tierOf();
    cpuCores[i] = cpuOf();
    rssBytes[i] = rssOf();
    activity[i] = activityOf();
    seriesPerRow[i] = r() < 0.1 ? int(0, 15) : pick([14, 15]);
    if (forced && r() < forcedRate) forced[i] = 1;
  }
  const input: PolicyInput = { count, tier, cpuCores, rssBytes, activity, seriesPerRow };
  if (forced) input.forced = forced;

  // a shipped profile, as is or with its caps and thresholds varied
  const profile: ProfileConfig = structuredClone(config.profiles[pick(profileNames)]!);
  if (r() < 0.75) {
    const cap = () => pick([0, 1, 2, int(0, 10), int(0, count), int(0, count), count, 1000]);
    profile.top_n = { important: cap(), standard: cap(), noise: cap() };
    profile.max_series = pick([1, 15, 16, int(1, 15 * count + 1), 15 * count, 1_000_000]) || 1;
    if (r() < 0.3) profile.full_resolution_tiers = TIERS.filter(() => r() < 0.5);
    if (r() < 0.3) {
      profile.thresholds = { cpu_percent: pick([null, 0, 1, 5, 20]), rss_mib: pick([null, 0, 50, 100, 200]) };
    }
  }
  return { input, profile };
}

/**
 * A kept candidate and a dropped candidate of the same tier have the same
 * activity: the decision depended on the tie-break.
 */
function tieAtCut(input: PolicyInput, profile: ProfileConfig, keep: Uint8Array): boolean {
  const cpuMin =
    profile.thresholds.cpu_percent === null ? Number.POSITIVE_INFINITY : profile.thresholds.cpu_percent / 100;
  const rssMin = profile.thresholds.rss_mib === null ? Number.POSITIVE_INFINITY : profile.thresholds.rss_mib * MIB;
  const kept = TIERS.map(() => new Set<number>());
  const dropped = TIERS.map(() => new Set<number>());
  for (let i = 0; i < input.count; i++) {
    const t = input.tier[i]!;
    if (t === TIER_CRITICAL || input.forced?.[i] === 1) continue;
    const candidate =
      profile.full_resolution_tiers.includes(TIERS[t]!) || input.cpuCores[i]! >= cpuMin || input.rssBytes[i]! >= rssMin;
    if (candidate) (keep[i] === 1 ? kept : dropped)[t]!.add(input.activity[i]!);
  }
  return kept.some((k, t) => [...k].some((a) => dropped[t]!.has(a)));
}

describe('decide() parity with the full-sort implementation', () => {
  it('takes the same decision on 3000 seeded random inputs up to 3000 rows', () => {
    const seen = { threshold: 0, topN: 0, maxSeries: 0, partial: 0, tieAtCut: 0 };
    for (let seed = 1; seed <= 3000; seed++) {
      const { input, profile } = makeCase(seed, 3000);
      const want: PolicyDecision = decideReference(input, profile);
      const got = decide(input, profile);
      if (
        got.kept !== want.kept ||
        got.keptSeries !== want.keptSeries ||
        got.droppedBy.threshold !== want.droppedBy.threshold ||
        got.droppedBy.topN !== want.droppedBy.topN ||
        got.droppedBy.maxSeries !== want.droppedBy.maxSeries ||
        !Buffer.from(got.keep).equals(Buffer.from(want.keep))
      ) {
        // the full comparison, with the seed to reproduce it
        const { droppedPoints: _, ...rest } = got;
        expect({ seed, ...rest }).toEqual({ seed, ...want });
      }
      expectDroppedPoints(input, got);
      if (want.droppedBy.threshold > 0) seen.threshold++;
      if (want.droppedBy.topN > 0) seen.topN++;
      if (want.droppedBy.maxSeries > 0) seen.maxSeries++;
      if (want.kept > 0 && want.kept < input.count) seen.partial++;
      if (tieAtCut(input, profile, want.keep)) seen.tieAtCut++;
    }
    // the inputs exercise every rule, not just "keep all" or "drop all"
    expect(seen.threshold).toBeGreaterThan(1000);
    expect(seen.topN).toBeGreaterThan(700);
    expect(seen.maxSeries).toBeGreaterThan(500);
    expect(seen.partial).toBeGreaterThan(1500);
    expect(seen.tieAtCut).toBeGreaterThan(300);
  });

  it('takes the same decision on large inputs (50k rows, shipped profiles)', () => {
    for (let seed = 10_001; seed <= 10_012; seed++) {
      const { input } = makeCase(seed, 50_000);
      for (const name of profileNames) {
        const profile = config.profiles[name]!;
        const { droppedPoints: _, ...rest } = decide(input, profile);
        expectDroppedPoints(input, decide(input, profile));
        expect({ seed, name, ...rest }).toEqual({
          seed,
          name,
          ...decideReference(input, profile),
        });
      }
    }
  });
});

/** The data points dropped by the three rules add up to the series of every row not kept. */
function expectDroppedPoints(input: PolicyInput, d: ReturnType<typeof decide>): void {
  let dropped = 0;
  for (let i = 0; i < input.count; i++) if (d.keep[i] !== 1) dropped += input.seriesPerRow[i]!;
  expect(d.droppedPoints.threshold + d.droppedPoints.topN + d.droppedPoints.maxSeries).toBe(dropped);
}

describe('decide() ranking', () => {
  const flat = (activity: number[], tier = TIER_STANDARD) => {
    const n = activity.length;
    return {
      count: n,
      tier: new Uint8Array(n).fill(tier),
      cpuCores: new Float64Array(n),
      rssBytes: new Float64Array(n),
      activity: Float64Array.from(activity),
      seriesPerRow: new Uint8Array(n).fill(15),
    };
  };
  const allStandard = { ...config.profiles.conservative!, max_series: 1_000_000 };

  it('keeps the earlier row when activity ties at the top_n cut', () => {
    const p = { ...allStandard, top_n: { important: 0, standard: 2, noise: 0 } };
    const d = decide(flat([0.5, 0.9, 0.5, 0.5]), p);
    expect(Array.from(d.keep)).toEqual([1, 1, 0, 0]);
    expect(d.droppedBy.topN).toBe(2);
  });

  it('fills max_series most active first and skips a row that does not fit for a cheaper one', () => {
    const inp = flat([0.1, 0.9, 0.5]);
    inp.seriesPerRow = Uint8Array.from([5, 15, 15]);
    const d = decide(inp, { ...allStandard, max_series: 20 });
    expect(Array.from(d.keep)).toEqual([1, 1, 0]);
    expect(d.keptSeries).toBe(20);
    expect(d.droppedBy.maxSeries).toBe(1);
  });

  it('ranks NaN activity below every number (as -Infinity)', () => {
    const p = { ...allStandard, top_n: { important: 0, standard: 2, noise: 0 } };
    const d = decide(flat([Number.NaN, -Number.MAX_VALUE, Number.NaN, -5]), p);
    expect(Array.from(d.keep)).toEqual([0, 1, 0, 1]);
  });
});
