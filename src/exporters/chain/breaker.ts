/**
 * Circuit breaker for one export endpoint.
 *
 * closed ──(failureThreshold consecutive retryable failures)──► open
 * open ──(open time passed, next call)──► half_open: that call is the one probe
 * half_open ──(probe succeeds)──► closed, open time back to `openMs`
 * half_open ──(probe fails)──► open, open time × `multiplier` (≤ `maxOpenMs`)
 *
 * Only retryable failures (network errors, timeouts, 429/502/503/504) count
 * against the endpoint. A non-retryable failure (another 4xx, an encoding
 * error) is the caller's fault: it neither counts nor resets the count, and
 * a probe that ends that way frees the probe slot for the next call.
 *
 * While open, and while a probe is in flight, calls come back at once as
 * `{ ok: false, retryable: true, breakerOpen: true, retryAfterMs }` and the
 * next layer is not called. Results of calls that started before the last
 * state change are ignored, so a late answer cannot flip the state.
 */

import type { Clock } from '../../core/clock.js';
import { realClock } from '../../core/clock.js';
import { type Logger, silentLogger } from '../../core/log.js';
import type { Layer, Send, SendResult } from './types.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerStateChange {
  name: string;
  from: BreakerState;
  to: BreakerState;
  /** retryable failures in a row when the change happened */
  consecutiveFailures: number;
  /** length of the open period that starts (to = open), else 0 */
  openForMs: number;
  /** the result that caused the change, when a result did */
  error?: string;
  atMs: number;
}

export interface BreakerOptions {
  /** endpoint label for logs and errors, never a secret */
  name: string;
  /** from `export_options.otlp.breaker` (src/config/components.ts); no defaults here */
  failureThreshold: number;
  /** first open period */
  openMs: number;
  maxOpenMs: number;
  /** open-period growth after a failed probe (default BREAKER_MULTIPLIER) */
  multiplier?: number;
  clock?: Clock;
  logger?: Logger;
  onStateChange?: (e: BreakerStateChange) => void;
}

export interface BreakerStats {
  state: BreakerState;
  consecutiveFailures: number;
  timesOpened: number;
  /** the backoff open period: the current one while open, else the one the next opening would use */
  openDurationMs: number;
  /** time until a probe is let through; 0 unless open */
  retryInMs: number;
  /** calls refused without being sent, while open or during a probe */
  rejected: number;
}

/** Growth of the open period after a failed probe (not configurable). */
export const BREAKER_MULTIPLIER = 2;

function positive(name: string, v: number, min = 0): number {
  if (!Number.isFinite(v) || v <= min) {
    throw new RangeError(`CircuitBreaker: '${name}' must be a finite number > ${min}, got ${v}`);
  }
  return v;
}

export class CircuitBreaker {
  readonly name: string;
  readonly layer: Layer;
  private readonly failureThreshold: number;
  private readonly openMs: number;
  private readonly maxOpenMs: number;
  private readonly multiplier: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly onStateChange?: (e: BreakerStateChange) => void;

  private current: BreakerState = 'closed';
  /** bumped on every state change; results from an older generation are ignored */
  private generation = 0;
  private failures = 0;
  private opened = 0;
  private refused = 0;
  private backoffMs: number;
  private openUntil = 0;
  private probing = false;

  constructor(o: BreakerOptions) {
    this.name = o.name;
    this.failureThreshold = o.failureThreshold;
    if (!Number.isInteger(this.failureThreshold) || this.failureThreshold < 1) {
      throw new RangeError(`CircuitBreaker: 'failureThreshold' must be an integer >= 1, got ${o.failureThreshold}`);
    }
    this.openMs = positive('openMs', o.openMs);
    this.maxOpenMs = positive('maxOpenMs', o.maxOpenMs);
    if (this.maxOpenMs < this.openMs) {
      throw new RangeError(`CircuitBreaker: 'maxOpenMs' (${this.maxOpenMs}) must be >= 'openMs' (${this.openMs})`);
    }
    this.multiplier = o.multiplier ?? BREAKER_MULTIPLIER;
    if (!Number.isFinite(this.multiplier) || this.multiplier < 1) {
      throw new RangeError(`CircuitBreaker: 'multiplier' must be a finite number >= 1, got ${o.multiplier}`);
    }
    this.clock = o.clock ?? realClock;
    this.logger = o.logger ?? silentLogger;
    this.onStateChange = o.onStateChange;
    this.backoffMs = this.openMs;
    this.layer = (next) => this.wrap(next);
  }

  /** The state now; an open breaker whose time is up reads as half_open. */
  get state(): BreakerState {
    this.refresh();
    return this.current;
  }

  stats(): BreakerStats {
    const state = this.state;
    return {
      state,
      consecutiveFailures: this.failures,
      timesOpened: this.opened,
      openDurationMs: this.backoffMs,
      retryInMs: state === 'open' ? Math.max(0, this.openUntil - this.clock.now()) : 0,
      rejected: this.refused,
    };
  }

  private wrap(next: Send): Send {
    return async (req, signal) => {
      this.refresh();
      if (this.current === 'open' || (this.current === 'half_open' && this.probing)) return this.refuse();
      const probe = this.current === 'half_open';
      if (probe) this.probing = true;
      const gen = this.generation;
      let result: SendResult;
      try {
        result = await next(req, signal);
      } catch (e) {
        // a rejection is misuse, not an answer from the endpoint: free the probe slot, count nothing
        if (probe && gen === this.generation) this.probing = false;
        throw e;
      }
      if (gen === this.generation) this.record(result, probe);
      return result;
    };
  }

  private record(result: SendResult, probe: boolean): void {
    if (result.ok) {
      if (probe) {
        this.probing = false;
        this.backoffMs = this.openMs;
        this.transition('closed', result); // resets the failure count after logging it
      } else {
        this.failures = 0;
      }
      return;
    }
    if (!result.retryable) {
      if (probe) this.probing = false;
      return;
    }
    this.failures++;
    if (probe) {
      this.probing = false;
      this.backoffMs = Math.min(this.maxOpenMs, this.backoffMs * this.multiplier);
      this.open(result);
    } else if (this.failures >= this.failureThreshold) {
      this.open(result);
    }
  }

  private open(result: SendResult): void {
    // a server that asked for a longer pause gets it, for this open period only
    const openFor = Math.max(this.backoffMs, result.retryAfterMs ?? 0);
    this.openUntil = this.clock.now() + openFor;
    this.opened++;
    this.transition('open', result, openFor);
  }

  private refresh(): void {
    if (this.current === 'open' && this.clock.now() >= this.openUntil) {
      this.probing = false;
      this.transition('half_open');
    }
  }

  private refuse(): SendResult {
    this.refused++;
    // during a probe the wait is unknown; the first open period is a fair guess
    const retryAfterMs =
      this.current === 'open' ? Math.max(0, Math.ceil(this.openUntil - this.clock.now())) : this.openMs;
    const why =
      this.current === 'open'
        ? `${this.name}: ${this.failures} consecutive failures, retry in ${retryAfterMs} ms`
        : `${this.name}: probe in flight`;
    return { ok: false, bytes: 0, retryable: true, error: `circuit open (${why})`, retryAfterMs, breakerOpen: true };
  }

  private transition(to: BreakerState, cause?: SendResult, openForMs = 0): void {
    const from = this.current;
    this.current = to;
    this.generation++;
    const e: BreakerStateChange = {
      name: this.name,
      from,
      to,
      consecutiveFailures: this.failures,
      openForMs,
      atMs: this.clock.now(),
    };
    if (cause?.error) e.error = cause.error;
    const fields = { breaker: this.name, from, to, consecutiveFailures: this.failures, openForMs, error: e.error };
    if (to === 'open') this.logger.warn(fields, 'circuit breaker opened: export paused');
    else if (to === 'half_open') this.logger.info(fields, 'circuit breaker half-open: sending one probe');
    else this.logger.info(fields, 'circuit breaker closed: export resumed');
    if (to === 'closed') this.failures = 0;
    try {
      this.onStateChange?.(e);
    } catch (err) {
      this.logger.debug({ breaker: this.name, err: String(err) }, 'onStateChange callback threw');
    }
  }
}
