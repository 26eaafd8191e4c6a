/**
 * Webhooks for control decisions (`control.notify`): every event is POSTed
 * as JSON to every configured URL, in the background.
 *
 * - `post()` never blocks and never throws: it serialises the event once and
 *   queues it per target (at most `maxQueue`; when full the oldest waiting
 *   event is dropped and counted).
 * - One delivery at a time per target, in order. An attempt that fails with
 *   a network error, a timeout, 408, 429 or 5xx is retried after a backoff
 *   (doubling from `backoffMs`, jittered, capped at `maxBackoffMs`; a
 *   Retry-After answer is honoured up to the cap), at most `maxAttempts`
 *   attempts in all; other answers (3xx, 4xx) are not retried. An event
 *   given up on is logged and counted as failed.
 * - Logs name a target by its index and origin only: the path and query of
 *   a webhook URL often are the secret (Slack, Teams), and header values
 *   (authorization) never appear; error texts are scrubbed of both.
 * - `close()` gives pending deliveries a grace period, then aborts the rest
 *   (counted as dropped) and closes the connections.
 */

import { createRequire } from 'node:module';
import * as os from 'node:os';
import type { Agent } from 'undici';

// undici is loaded when a Notifier is made (control.notify has targets), not with the module
const requireUndici = createRequire(import.meta.url);

import { type Logger, silentLogger } from '../../core/log.js';
import { backoffDelay } from '../../exporters/chain/retry.js';
import { describeError } from '../../exporters/exporter.js';
import { headerScrubber, normalizeHeaders, parseRetryAfter } from '../../exporters/otlp/send.js';
import { USER_AGENT } from '../../util/version.js';
import type { NotifyTarget } from './config.js';
import { type DecisionEvent, webhookBody } from './event.js';

export interface NotifierOptions {
  logger?: Logger;
  /** the host name in each event (default os.hostname()) */
  host?: string;
  /** attempts per event and target, the first included (default 5) */
  maxAttempts?: number;
  /** delay before the first retry (default 1 s); it doubles for each further one */
  backoffMs?: number;
  /** longest delay between two attempts, Retry-After included (default 60 s) */
  maxBackoffMs?: number;
  /** one attempt: connect, send, answer (default 5 s) */
  timeoutMs?: number;
  /** events waiting per target (default 100) */
  maxQueue?: number;
  /** how to wait between attempts (tests inject one that records the delays); resolves early when `signal` aborts */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** jitter source in [0, 1): the delay is scaled by 0.8 + 0.4 * random() (RETRY_JITTER; default Math.random) */
  random?: () => number;
}

export interface NotifyStats {
  /** events accepted by post() */
  posted: number;
  /** events a target answered 2xx to */
  delivered: number;
  /** attempts after the first */
  retries: number;
  /** events given up on: attempts exhausted, or an answer not worth retrying */
  failed: number;
  /** events never tried to the end: the queue was full, or the notifier closed */
  dropped: number;
  /** queued or in flight now */
  pending: number;
}

export interface TargetStats extends NotifyStats {
  /** `control.notify.<i> (<origin>)`: how logs name the target */
  target: string;
}

const DEFAULTS = { maxAttempts: 5, backoffMs: 1000, maxBackoffMs: 60_000, timeoutMs: 5000, maxQueue: 100 };
const RESERVED = new Set(['content-type', 'content-length', 'transfer-encoding', 'host', 'connection']);

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

type Attempt = { ok: true } | { ok: false; retry: boolean; error: string; waitMs?: number };

class Target {
  readonly queue: string[] = [];
  readonly stats: TargetStats;
  inFlight = false;
  running: Promise<void> | undefined;
  readonly headers: Record<string, string>;
  readonly scrub: (text: string) => string;

  constructor(
    readonly url: URL,
    headers: Record<string, string>,
    readonly label: string,
  ) {
    const user = normalizeHeaders(headers);
    for (const h of RESERVED) delete user[h];
    this.headers = { 'user-agent': USER_AGENT, ...user, 'content-type': 'application/json' };
    const scrubHeaders = headerScrubber(user);
    const secretParts = [url.href, `${url.pathname}${url.search}`].filter((p) => p.length > 1);
    this.scrub = (t) => {
      let out = scrubHeaders(t);
      for (const p of secretParts) out = out.split(p).join('[redacted]');
      return out;
    };
    this.stats = { target: label, posted: 0, delivered: 0, retries: 0, failed: 0, dropped: 0, pending: 0 };
  }
}

export class Notifier {
  private readonly targets: Target[];
  private readonly logger: Logger;
  private readonly host: string;
  private readonly opts: typeof DEFAULTS;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly agent: Agent;
  private readonly stop = new AbortController();
  private closed = false;

  /** `targets`: `control.notify` as validated by the config schema. */
  constructor(targets: readonly NotifyTarget[], options: NotifierOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.host = options.host ?? os.hostname();
    this.opts = {
      maxAttempts: options.maxAttempts ?? DEFAULTS.maxAttempts,
      backoffMs: options.backoffMs ?? DEFAULTS.backoffMs,
      maxBackoffMs: options.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      maxQueue: options.maxQueue ?? DEFAULTS.maxQueue,
    };
    for (const [k, v] of Object.entries(this.opts)) {
      if (!(Number.isFinite(v) && v >= (k === 'backoffMs' ? 0 : 1))) throw new RangeError(`notifier ${k}: ${v}`);
    }
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.targets = targets.map((t, i) => {
      const url = new URL(t.url);
      return new Target(url, t.headers ?? {}, `control.notify.${i} (${url.origin})`);
    });
    const { Agent: UndiciAgent } = requireUndici('undici') as typeof import('undici');
    this.agent = new UndiciAgent({ connect: { timeout: this.opts.timeoutMs }, keepAliveTimeout: 30_000 });
  }

  /** Queue `event` for every target; returns at once. Ignored after close(). */
  post(event: DecisionEvent): void {
    if (this.closed || this.targets.length === 0) return;
    const body = JSON.stringify(webhookBody(event, this.host));
    for (const t of this.targets) {
      t.stats.posted++;
      if (t.queue.length >= this.opts.maxQueue) {
        t.queue.shift();
        t.stats.dropped++;
        this.logger.warn(
          { notify: t.label, maxQueue: this.opts.maxQueue },
          'control webhook queue full: dropped the oldest event',
        );
      }
      t.queue.push(body);
      t.running ??= this.drain(t).finally(() => {
        t.running = undefined;
      });
    }
  }

  /** Counts per target, in `control.notify` order. */
  targetStats(): TargetStats[] {
    return this.targets.map((t) => ({ ...t.stats, pending: t.queue.length + (t.inFlight ? 1 : 0) }));
  }

  /** Counts over all targets. */
  stats(): NotifyStats {
    const sum: NotifyStats = { posted: 0, delivered: 0, retries: 0, failed: 0, dropped: 0, pending: 0 };
    for (const s of this.targetStats()) {
      for (const k of Object.keys(sum) as (keyof NotifyStats)[]) sum[k] += s[k];
    }
    return sum;
  }

  /** Resolves when nothing is queued or in flight. */
  async flush(): Promise<void> {
    for (;;) {
      const running = this.targets.map((t) => t.running).filter((p) => p !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /**
   * Stop accepting events, wait up to `graceMs` for pending deliveries
   * (retries included), then abort what is left (counted as dropped) and
   * close the connections.
   */
  async close(graceMs = 2000): Promise<NotifyStats> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.flush(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      }),
    ]);
    clearTimeout(timer);
    this.stop.abort();
    await this.flush();
    for (const t of this.targets) {
      t.stats.dropped += t.queue.length;
      t.queue.length = 0;
    }
    await this.agent.destroy();
    return this.stats();
  }

  private async drain(t: Target): Promise<void> {
    while (t.queue.length > 0 && !this.stop.signal.aborted) {
      const body = t.queue.shift()!;
      t.inFlight = true;
      try {
        await this.deliver(t, body);
      } finally {
        t.inFlight = false;
      }
    }
  }

  /** Delay before retry number `retry` (1-based): doubling, jittered, capped (the export chain's backoff). */
  private backoff(retry: number): number {
    return backoffDelay(retry, { initialMs: this.opts.backoffMs, maxMs: this.opts.maxBackoffMs, random: this.random });
  }

  private async deliver(t: Target, body: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.attempt(t, body);
      if (r.ok) {
        t.stats.delivered++;
        return;
      }
      if (this.stop.signal.aborted) {
        t.stats.dropped++;
        this.logger.warn({ notify: t.label, attempts: attempt }, 'control webhook: event dropped at shutdown');
        return;
      }
      if (!r.retry || attempt >= this.opts.maxAttempts) {
        t.stats.failed++;
        this.logger.warn(
          { notify: t.label, attempts: attempt, error: r.error },
          r.retry ? 'control webhook: gave up on an event after the last attempt' : 'control webhook refused an event',
        );
        return;
      }
      t.stats.retries++;
      const wait = Math.min(this.opts.maxBackoffMs, r.waitMs ?? this.backoff(attempt));
      this.logger.debug({ notify: t.label, attempt, error: r.error, retryInMs: wait }, 'control webhook: retrying');
      await this.sleep(wait, this.stop.signal);
    }
  }

  private async attempt(t: Target, body: string): Promise<Attempt> {
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    try {
      const res = await this.agent.request({
        origin: t.url.origin,
        path: `${t.url.pathname}${t.url.search}`,
        method: 'POST',
        headers: t.headers,
        body,
        signal: AbortSignal.any([this.stop.signal, timeout]),
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true };
      const waitMs =
        res.statusCode === 429 || res.statusCode === 503 ? parseRetryAfter(res.headers['retry-after']) : undefined;
      return { ok: false, retry: retryable(res.statusCode), error: `HTTP ${res.statusCode}`, waitMs };
    } catch (e) {
      const error = timeout.aborted
        ? `timed out after ${this.opts.timeoutMs} ms`
        : this.stop.signal.aborted
          ? 'aborted (closing)'
          : t.scrub(describeError(e));
      return { ok: false, retry: true, error };
    }
  }
}
