export {
  type Admission,
  type AdmissionStats,
  type AdmissionTicket,
  COST_FACTORS,
  InputAdmission,
  type ReceiverAdmission,
} from './admission.js';
export { type CriticalTest, criticalTest } from './critical.js';
export { gcRelief } from './gc.js';
export {
  MemoryGovernor,
  type MemoryGovernorOptions,
  type MemoryGovernorStats,
  type Reservation,
  type TierChange,
} from './governor.js';
export { parseStatmResidentPages, readRssBytes } from './rss.js';
export {
  CRITICAL_ONLY_TIER,
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
