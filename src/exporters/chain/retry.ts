/**
 * Retry with exponential backoff and jitter, honouring the server's
 * Retry-After.
 *
 * Only results marked `retryable` are sent again (network errors, timeouts,
 * HTTP 429/502/503/504; the exporter sets the flag). Non-retryable failures
 * and every `ok` result, partial successes included, come back as they are.
 *
 * The wait before attempt n+1 is `min(maxMs, initialMs × multiplier^(n-1))`,
 * scaled by a random factor in [1 - jitter, 1 + jitter], and never shorter
 * than the result's `retryAfterMs`. When the attempts are used up, or the
 * wait would end past `maxElapsedMs` since the first attempt, the last
 * failure is returned with `retryAfterMs` raised to at least that wait: the
 * queue keeps the record and its drainer waits before trying it again. An
 * abort ends a wait at once and returns the last failure the same way.
 */

import { type Clock, realClock } from '../../core/clock.js';
import { type Logger, silentLogger } from '../../core/log.js';
import type { Layer, SendResult } from './types.js';

/** Growth of the wait per attempt (not configurable). */
export const RETRY_MULTIPLIER = 2;
/** Relative spread of each wait (not configurable). */
export const RETRY_JITTER = 0.2;

/**
 * The four configurable values come from `export_options.otlp.retry` of the
 * config (src/config/components.ts); there are no defaults here.
 */
export interface RetryOptions {
  initialMs: number;
  maxMs: number;
  /** default RETRY_MULTIPLIER */
  multiplier?: number;
  /** relative spread of each wait, 0 ≤ jitter < 1 (default RETRY_JITTER) */
  jitter?: number;
  /** attempts per call, the first included */
  maxAttempts: number;
  /** no wait may end later than this after the first attempt started */
  maxElapsedMs: number;
  clock?: Clock;
  /** uniform in [0, 1) */
  random?: () => number;
  logger?: Logger;
  onRetry?: (e: RetryEvent) => void;
}

export interface RetryEvent {
  /** the attempt that failed, from 1 */
  attempt: number;
  delayMs: number;
  /** HTTP status, or 'network' when no response arrived */
  reason: string;
  result: SendResult;
}

export interface RetryStats {
  /** requests sent to the next layer */
  attempts: number;
  /** attempts after the first, per call */
  retries: number;
  /** retries by the failure that caused them: HTTP status or 'network' */
  retriesByReason: Record<string, number>;
  /** calls that ended on a retryable failure (attempts or time used up, or aborted) */
  exhausted: number;
}

export type RetryLayer = Layer & { stats(): RetryStats };

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** default RETRY_MULTIPLIER */
  multiplier?: number;
  /** default RETRY_JITTER */
  jitter?: number;
  /** uniform in [0, 1) (default Math.random; 0.5 = no jitter) */
  random?: () => number;
}

/**
 * The wait before retry `attempt` (the attempt that failed, from 1):
 * `min(maxMs, initialMs × multiplier^(attempt-1))`, scaled by a random
 * factor in [1 - jitter, 1 + jitter]. The export chain, the control
 * webhooks and the OpAMP client all wait this way.
 */
export function backoffDelay(attempt: number, o: BackoffOptions): number {
  const multiplier = o.multiplier ?? RETRY_MULTIPLIER;
  const jitter = o.jitter ?? RETRY_JITTER;
  const random = o.random ?? Math.random;
  const base = Math.min(o.maxMs, o.initialMs * multiplier ** (attempt - 1));
  return Math.max(0, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

function check(name: string, v: number, ok: boolean, rule: string): number {
  if (!ok || Number.isNaN(v)) throw new RangeError(`retryLayer: '${name}' must be ${rule}, got ${v}`);
  return v;
}

/** Why a retryable result failed: its HTTP status, or 'network'. */
export function retryReason(r: SendResult): string {
  return r.status !== undefined ? String(r.status) : 'network';
}

export function retryLayer(o: RetryOptions): RetryLayer {
  const { initialMs, maxMs, maxAttempts, maxElapsedMs } = o;
  const multiplier = o.multiplier ?? RETRY_MULTIPLIER;
  const jitter = o.jitter ?? RETRY_JITTER;
  check('initialMs', initialMs, Number.isFinite(initialMs) && initialMs > 0, 'a finite number > 0');
  check('maxMs', maxMs, Number.isFinite(maxMs) && maxMs >= initialMs, `a finite number >= 'initialMs' (${initialMs})`);
  check('multiplier', multiplier, Number.isFinite(multiplier) && multiplier >= 1, 'a finite number >= 1');
  check('jitter', jitter, jitter >= 0 && jitter < 1, 'in [0, 1)');
  check('maxAttempts', maxAttempts, Number.isInteger(maxAttempts) && maxAttempts >= 1, 'an integer >= 1');
  check('maxElapsedMs', maxElapsedMs, maxElapsedMs > 0, 'a number > 0');
  const clock = o.clock ?? realClock;
  const random = o.random ?? Math.random;
  const logger = o.logger ?? silentLogger;

  const stats: RetryStats = { attempts: 0, retries: 0, retriesByReason: {}, exhausted: 0 };

  const backoff = (attempt: number): number => backoffDelay(attempt, { initialMs, maxMs, multiplier, jitter, random });

  const giveUp = (last: SendResult, waitMs: number, attempts: number, why: string): SendResult => {
    stats.exhausted++;
    logger.debug({ attempts, error: last.error, status: last.status, waitMs, why }, 'export retries stopped');
    return { ...last, retryAfterMs: Math.max(last.retryAfterMs ?? 0, waitMs) };
  };

  const layer: Layer = (next) => async (req, signal) => {
    const start = clock.now();
    for (let attempt = 1; ; attempt++) {
      stats.attempts++;
      const result = await next(req, signal);
      if (result.ok || !result.retryable) return result;
      const waitMs = Math.max(backoff(attempt), result.retryAfterMs ?? 0);
      if (attempt >= maxAttempts) return giveUp(result, waitMs, attempt, 'attempts used up');
      if (clock.now() - start + waitMs > maxElapsedMs) return giveUp(result, waitMs, attempt, 'time used up');
      if (signal?.aborted) return giveUp(result, waitMs, attempt, 'aborted');
      const reason = retryReason(result);
      logger.debug({ attempt, waitMs, reason, error: result.error }, 'export failed, retrying');
      try {
        o.onRetry?.({ attempt, delayMs: waitMs, reason, result });
      } catch (e) {
        logger.debug({ err: String(e) }, 'onRetry callback threw');
      }
      const sleptFrom = clock.now();
      await clock.sleep(waitMs, signal);
      if (signal?.aborted) {
        return giveUp(result, Math.max(0, waitMs - (clock.now() - sleptFrom)), attempt, 'aborted');
      }
      stats.retries++;
      stats.retriesByReason[reason] = (stats.retriesByReason[reason] ?? 0) + 1;
    }
  };

  return Object.assign(layer, {
    stats: (): RetryStats => ({ ...stats, retriesByReason: { ...stats.retriesByReason } }),
  });
}
