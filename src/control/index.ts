export { MemoryGovernor, type MemoryGovernorOptions, type MemoryGovernorStats, type TierChange } from './governor.js';
export { parseStatmResidentPages, readRssBytes } from './rss.js';
export {
  MAX_TIER,
  MEMORY_TIERS,
  type MemoryTier,
  nextTier,
  type ProcessTier,
  policyFor,
  TIER_THRESHOLDS,
  type TierPolicy,
  tierName,
} from './tiers.js';
