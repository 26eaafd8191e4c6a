export { type Clock, ManualClock, realClock } from '../../core/clock.js';
export {
  type BreakerOptions,
  type BreakerState,
  type BreakerStateChange,
  type BreakerStats,
  CircuitBreaker,
} from './breaker.js';
export {
  type RetryEvent,
  type RetryLayer,
  type RetryOptions,
  type RetryStats,
  retryLayer,
  retryReason,
} from './retry.js';
export { compose, type Lane, type Layer, type Send, type SendRequest, type SendResult } from './types.js';
