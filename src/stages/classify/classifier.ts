/**
 * Classification into importance tiers with RE2. All patterns of one field
 * (executable name, path, command line) compile into one RE2.Set, once; the
 * caller caches the result per process identity, so steady state matches
 * nothing.
 */
import RE2 from 're2';
import type { Config } from '../../config/schema.js';
import { TIER_CRITICAL, TIERS, type Tier } from '../../telemetry/names.js';

export const TIER_IMPORTANCE: readonly number[] = [0.95, 0.75, 0.45, 0.15];

export function tierIndex(t: Tier): number {
  return TIERS.indexOf(t);
}

interface FieldSet {
  set: InstanceType<typeof RE2.Set> | null;
  /** tier index per pattern of the set; -1 for a protected pattern */
  tierOf: Int8Array;
}

const PROTECTED = -1;

function buildSet(entries: { pattern: string; tier: number }[]): FieldSet {
  if (entries.length === 0) return { set: null, tierOf: new Int8Array(0) };
  return {
    set: new RE2.Set(entries.map((e) => e.pattern)),
    tierOf: Int8Array.from(entries.map((e) => e.tier)),
  };
}

export class Classifier {
  private readonly names: FieldSet;
  private readonly paths: FieldSet;
  private readonly cmdlines: FieldSet;
  private readonly defaultTier: number;
  private readonly kernelTier: number;

  constructor(cfg: Config['classification']) {
    const names: { pattern: string; tier: number }[] = [];
    const paths: { pattern: string; tier: number }[] = [];
    const cmdlines: { pattern: string; tier: number }[] = [];
    for (const p of cfg.protected) {
      names.push({ pattern: p, tier: PROTECTED });
      cmdlines.push({ pattern: p, tier: PROTECTED });
    }
    TIERS.forEach((t, ti) => {
      const r = cfg.rules[t];
      for (const p of r.names) names.push({ pattern: p, tier: ti });
      for (const p of r.paths) paths.push({ pattern: p, tier: ti });
      for (const p of r.cmdlines) cmdlines.push({ pattern: p, tier: ti });
    });
    this.names = buildSet(names);
    this.paths = buildSet(paths);
    this.cmdlines = buildSet(cmdlines);
    this.defaultTier = tierIndex(cfg.default_tier);
    this.kernelTier = tierIndex(cfg.kernel_threads);
  }

  /**
   * Tier index (0 = critical ... 3 = noise) and whether a protected pattern
   * matched. The most important matching tier wins.
   */
  classify(name: string, exe: string, cmdline: string, kernelThread: boolean): { tier: number; protected: boolean } {
    let best = 99;
    let prot = false;
    const visit = (fs: FieldSet, text: string) => {
      if (!fs.set || text === '') return;
      for (const id of fs.set.match(text)) {
        const t = fs.tierOf[id]!;
        if (t === PROTECTED) prot = true;
        else if (t < best) best = t;
      }
    };
    visit(this.names, name);
    visit(this.cmdlines, cmdline);
    if (prot) return { tier: TIER_CRITICAL, protected: true };
    if (kernelThread) return { tier: this.kernelTier, protected: false };
    visit(this.paths, exe);
    return { tier: best === 99 ? this.defaultTier : best, protected: false };
  }
}
