/**
 * Memory tiers (pure): how far the agent sheds load as its memory use
 * approaches `limit_mib`, with hysteresis so a reading that hovers around a
 * threshold does not flap.
 */

export const MEMORY_TIERS = [
  'normal',
  'drop_noise',
  'drop_standard',
  'sample_important',
  'critical_only',
  'refuse_input',
] as const;

export type MemoryTier = (typeof MEMORY_TIERS)[number];

/**
 * Fraction of the limit at which each tier engages, by tier index. The
 * hardest tier engages at 95%, not 100%: what is in flight when it engages
 * (and garbage not yet collected) must still fit under the limit.
 */
export const TIER_THRESHOLDS: readonly number[] = Object.freeze([0, 0.6, 0.7, 0.8, 0.9, 0.95]);

export const MAX_TIER = MEMORY_TIERS.length - 1;

/** The tier that keeps critical processes only (the receiver admits only their part of a request). */
export const CRITICAL_ONLY_TIER = MEMORY_TIERS.indexOf('critical_only');

export type ProcessTier = 'critical' | 'important' | 'standard' | 'noise';

export interface TierPolicy {
  /** process tiers not exported at all; never holds 'critical' */
  dropTiers: ReadonlySet<ProcessTier>;
  /** keep probability for important processes */
  importantKeep: number;
  /** only critical processes (and anomalies promoted to critical) are exported */
  criticalOnly: boolean;
  /** the OTLP receiver refuses input (503 + Retry-After) */
  refuseInput: boolean;
}

/**
 * The tier after a reading of `usage` (a fraction of the limit) in tier
 * `current`, one step at a time: up one tier when usage reaches the next
 * tier's threshold, down one tier when it falls below the current tier's
 * threshold minus `hysteresis`. A reading far above (or below) moves one
 * tier only; the next reading moves the next one, so every tier is entered,
 * logged and given its chance to shed before the next. A NaN reading keeps
 * the tier.
 */
export function nextTier(current: number, usage: number, hysteresis: number): number {
  const cur = Math.min(MAX_TIER, Math.max(0, Math.trunc(current) || 0));
  if (Number.isNaN(usage)) return cur;
  if (cur < MAX_TIER && usage >= TIER_THRESHOLDS[cur + 1]!) return cur + 1;
  if (cur > 0 && usage < TIER_THRESHOLDS[cur]! - hysteresis) return cur - 1;
  return cur;
}

function policy(drop: ProcessTier[], importantKeep: number, criticalOnly: boolean, refuseInput: boolean): TierPolicy {
  return Object.freeze({ dropTiers: new Set(drop), importantKeep, criticalOnly, refuseInput });
}

const POLICIES: readonly TierPolicy[] = [
  policy([], 1, false, false),
  policy(['noise'], 1, false, false),
  policy(['noise', 'standard'], 1, false, false),
  policy(['noise', 'standard'], 0.5, false, false),
  policy(['noise', 'standard', 'important'], 0, true, false),
  policy(['noise', 'standard', 'important'], 0, true, true),
];

/**
 * What tier `tier` sheds: 1 drops noise; 2 also standard; 3 also samples
 * important processes at 0.5; 4 keeps critical only; 5 also refuses input.
 * The returned object is shared: do not mutate it.
 */
export function policyFor(tier: number): TierPolicy {
  const p = Number.isInteger(tier) ? POLICIES[tier] : undefined;
  if (!p) throw new RangeError(`memory tier must be an integer 0..${MAX_TIER}, got ${tier}`);
  return p;
}

export function tierName(tier: number): MemoryTier {
  policyFor(tier);
  return MEMORY_TIERS[tier]!;
}
