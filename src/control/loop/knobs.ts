/**
 * The loop's continuous knob: one scale factor in (0, 1] applied to a
 * profile's counts (per-tier top_n, pools.top_k stays, groups.budget,
 * max_series, the sampling budget). The engine hands the stages the scaled
 * profile (Engine.setProfileOverride), so no stage knows about the loop.
 *
 * What a scale never touches: the tiers exported at full resolution are
 * still candidates, critical rows are kept whatever the caps (policy.ts),
 * anomalies are forced (profile.anomaly is unchanged), and roll-ups keep
 * host totals whole.
 */
import type { ProfileConfig } from '../../config/schema.js';

/** Knob values as events and status show them. */
export function knobValues(scale: number): Record<string, number> {
  return { scale: round(scale) };
}

export function round(x: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const scaleCount = (n: number, s: number) => (n <= 0 ? n : Math.max(1, Math.round(n * s)));

/** `p` with its counts scaled by `scale` (1 returns `p` itself). */
export function scaleProfile(p: ProfileConfig, scale: number): ProfileConfig {
  if (!(scale < 1)) return p;
  const s = Math.max(0, scale);
  const out: ProfileConfig = {
    ...p,
    top_n: {
      important: scaleCount(p.top_n.important, s),
      standard: scaleCount(p.top_n.standard, s),
      noise: scaleCount(p.top_n.noise, s),
    },
    max_series: scaleCount(p.max_series, s),
    groups: { ...p.groups, budget: scaleCount(p.groups.budget, s) },
  };
  if (p.sampling) {
    out.sampling = {
      ...p.sampling,
      ...(p.sampling.budget_points !== undefined ? { budget_points: Math.floor(p.sampling.budget_points * s) } : {}),
      ...(p.sampling.budget_share !== undefined ? { budget_share: p.sampling.budget_share * s } : {}),
    };
  }
  return out;
}

/**
 * A cache of scaled profiles: the same object for the same (profile, scale),
 * so stages see stable settings. Keyed on the profile object too: a hot
 * reload that redefines a profile under the same name gets it scaled anew.
 */
export class KnobCache {
  private key = '';
  private from?: ProfileConfig;
  private value?: ProfileConfig;

  get(name: string, p: ProfileConfig, scale: number): ProfileConfig {
    const key = `${name}\u0000${scale}`;
    if (key !== this.key || p !== this.from || !this.value) {
      this.key = key;
      this.from = p;
      this.value = scaleProfile(p, scale);
    }
    return this.value;
  }
}
