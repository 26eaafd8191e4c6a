/**
 * The reliable OTLP exporter: the composed chain
 *
 *   export queue (disk or memory) → circuit breaker → retry → timeout → OTLP/HTTP send
 *
 * `export()`/`exportBatches()` only gzip each lane batch and append it to the
 * queue; they resolve once the queue accepted it. Drain loops take records in
 * lane order (critical first), send them through the breaker and retry
 * layers, and acknowledge them on success. A retryable failure puts the
 * record back and pauses the drain for the server's Retry-After or the
 * breaker's open time; nothing is dropped for age. A non-retryable answer
 * (4xx other than 429) is the backend refusing the data for good: it is
 * acknowledged, counted as `rejected` and logged.
 *
 * At shutdown the loops stop, then what is still queued is sent for at most
 * `shutdownDrainMs`, stopping at the first failure; a persistent queue keeps
 * the rest for the next start, a memory queue reports it as lost.
 */

import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import { LANE_ORDER, type Lane, type LaneBatch } from '../../core/lanes.js';
import { type Logger, silentLogger } from '../../core/log.js';
import { countDataPoints } from '../../otlp/model.js';
import {
  type BreakerOptions,
  CircuitBreaker,
  type Clock,
  compose,
  type RetryOptions,
  realClock,
  retryLayer,
  type Send,
  type SendResult,
} from '../chain/index.js';
import {
  describeError,
  type Exporter,
  type ExportPayload,
  type ExportResult,
  encodingsFor,
  Lifecycle,
} from '../exporter.js';
import type { ExportQueue, QueuedRecord } from '../queue/index.js';
import type { OtlpHttpExporter } from './send.js';

const gzipAsync = promisify(gzip);

/** `export_options.otlp.retry` in milliseconds. */
export type QueuedRetryOptions = Pick<RetryOptions, 'initialMs' | 'maxMs' | 'maxAttempts' | 'maxElapsedMs'>;
/** `export_options.otlp.breaker` in milliseconds. */
export type QueuedBreakerOptions = Pick<BreakerOptions, 'failureThreshold' | 'openMs' | 'maxOpenMs'>;
/** queue payload = u32 uncompressed size, u32 data points, gzip body */
const HEADER = 8;

export interface QueuedExporterOptions {
  target: OtlpHttpExporter;
  queue: ExportQueue;
  logger?: Logger;
  clock?: Clock;
  /** concurrent sends while draining (`export_options.otlp.connections`) */
  connections: number;
  retry: QueuedRetryOptions;
  breaker: QueuedBreakerOptions;
  /** at shutdown, keep sending for at most this long (`export_options.otlp.shutdown_drain`; 0 = not at all) */
  shutdownDrainMs: number;
  /** the queue's directory, for error messages ('' or absent: in memory) */
  queueDir?: string;
}

/** What the engine's self-telemetry and /api/status show per queued exporter. */
export interface ExportHealth {
  exporter: string;
  queue: { records: number; bytes: number; oldestAgeMs: number; persistent: boolean };
  /** 0 closed, 1 half-open, 2 open */
  breaker: number;
  breakerState: string;
  retries: number;
  /** HTTP attempts that failed (each retry counts) */
  failures: number;
  sent: { records: number; points: number; bytes: number };
  /**
   * data points lost, by reason: rejected (4xx), partial (partial success),
   * cap, disk_full, io_error (refused by the queue or evicted from it),
   * corrupt (damaged on disk: the points of damaged records that could still
   * be read; `droppedRecords.corrupt` counts the records exactly)
   */
  dropped: Record<string, number>;
  /** the same per path (lane) */
  droppedByPath: Record<Lane, Record<string, number>>;
  /** records lost in the queue, by reason (exact even where points cannot be read back) */
  droppedRecords: Record<string, number>;
}

export function packRecord(gz: Uint8Array, uncompressedBytes: number, points: number): Uint8Array {
  const out = new Uint8Array(HEADER + gz.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, uncompressedBytes >>> 0, true);
  dv.setUint32(4, points >>> 0, true);
  out.set(gz, HEADER);
  return out;
}

/**
 * The data points a queued record carries, from its header; 0 when the
 * header does not look right (a data point takes well over 8 bytes of
 * protobuf). The queue counts what it drops with this.
 */
export function recordPoints(p: Uint8Array): number {
  if (p.length <= HEADER) return 0;
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const size = dv.getUint32(0, true);
  const points = dv.getUint32(4, true);
  return points * 8 <= size ? points : 0;
}

export function unpackRecord(p: Uint8Array): { body: Uint8Array; uncompressedBytes: number; points: number } {
  if (p.length <= HEADER) throw new Error(`queued record of ${p.length} bytes is too short`);
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return { uncompressedBytes: dv.getUint32(0, true), points: dv.getUint32(4, true), body: p.subarray(HEADER) };
}

export class QueuedOtlpExporter implements Exporter {
  readonly name: string;
  private readonly target: OtlpHttpExporter;
  readonly queue: ExportQueue;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly connections: number;
  private readonly shutdownDrainMs: number;
  private readonly queueDir: string;
  readonly breaker: CircuitBreaker;
  private readonly send: Send;
  private readonly lifecycle: Lifecycle;
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private pauseUntil = 0;
  private retries = 0;
  private failures = 0;
  private readonly sent = { records: 0, points: 0, bytes: 0 };
  /** losses the exporter itself sees (rejected, partial, unreadable records), per lane */
  private readonly dropped: Record<Lane, Record<string, number>> = { critical: {}, standard: {}, sampled: {} };
  private refusedLogged = 0;
  /** exportBatches() calls accepted and not yet in the queue (shutdown waits for them) */
  private readonly accepting = new Set<Promise<ExportResult>>();

  constructor(o: QueuedExporterOptions) {
    this.target = o.target;
    this.name = o.target.name;
    this.queue = o.queue;
    this.logger = o.logger ?? silentLogger;
    this.clock = o.clock ?? realClock;
    this.connections = o.connections;
    this.shutdownDrainMs = o.shutdownDrainMs;
    this.queueDir = o.queueDir ?? '';
    this.lifecycle = new Lifecycle(this.name);
    this.breaker = new CircuitBreaker({
      name: this.name,
      failureThreshold: o.breaker.failureThreshold,
      openMs: o.breaker.openMs,
      maxOpenMs: o.breaker.maxOpenMs,
      clock: this.clock,
      logger: this.logger,
    });
    const retry = retryLayer({
      initialMs: o.retry.initialMs,
      maxMs: o.retry.maxMs,
      maxAttempts: o.retry.maxAttempts,
      maxElapsedMs: o.retry.maxElapsedMs,
      clock: this.clock,
      logger: this.logger,
      onRetry: () => {
        this.retries++;
      },
    });
    // A request on the wire is not cut short at shutdown (it is bounded by the
    // timeout): aborting it could make the backend get the data twice.
    this.send = compose(this.breaker.layer, retry)(this.raw);
  }

  /**
   * The innermost layer: one HTTP attempt. A Retry-After from the server
   * pauses every sender of this endpoint, not only the one that got it (a
   * request already on the wire cannot be recalled). A request on the wire
   * is not cut short at shutdown either (the timeout bounds it): aborting it
   * could make the backend get the data twice.
   */
  private readonly raw: Send = async (req, signal) => {
    const wait = this.throttledUntil - this.clock.now();
    if (wait > 0) {
      await this.clock.sleep(wait, signal);
      if (signal?.aborted) {
        return { ok: false, bytes: 0, retryable: true, error: 'aborted (shutting down)', retryAfterMs: wait };
      }
    }
    const r = await this.target.sendBody(req.body, req.uncompressedBytes);
    if (!r.ok) {
      this.failures++;
      if (r.retryAfterMs !== undefined) {
        this.throttledUntil = Math.max(this.throttledUntil, this.clock.now() + r.retryAfterMs);
      }
    }
    return r;
  };
  private throttledUntil = 0;

  async start(): Promise<void> {
    this.lifecycle.assertStartable();
    if (this.lifecycle.started) return;
    try {
      await this.queue.start();
    } catch (e) {
      throw new NrdotError(
        ErrorCodes.OUTPUT_UNWRITABLE,
        `export queue ${this.queueDir ? `directory ${this.queueDir}` : '(memory)'} for ${this.name} cannot be used: ${describeError(e)} (check --queue-dir / queue.dir)`,
      );
    }
    await this.target.start();
    this.lifecycle.markStarted();
    const st = this.queue.stats();
    if (st.records > 0) {
      this.logger.info(
        { exporter: this.name, records: st.records, bytes: st.bytes },
        'export queue holds data from before: sending it first',
      );
    }
    for (let i = 0; i < this.connections; i++) this.loops.push(this.drainLoop());
  }

  /** One request, queued whole on the standard lane (the engine uses exportBatches). */
  async export(payload: ExportPayload): Promise<ExportResult> {
    this.lifecycle.assertExportable();
    const enc = encodingsFor(payload);
    let pb: Uint8Array;
    try {
      pb = enc.protobuf();
    } catch (e) {
      return { ok: false, bytes: 0, error: `encoding failed: ${describeError(e)}` };
    }
    return this.exportBatches([
      {
        lane: 'standard',
        protobuf: pb,
        points: countDataPoints(enc.request),
        resources: enc.request.resourceMetrics.length,
      },
    ]);
  }

  /**
   * Compress and queue each batch; ok when every one was accepted. A call
   * made before shutdown() reaches the queue: shutdown waits for it, then
   * drains (or keeps on disk) what it queued.
   */
  async exportBatches(batches: readonly LaneBatch[]): Promise<ExportResult> {
    this.lifecycle.assertExportable();
    const p = this.enqueue(batches);
    this.accepting.add(p);
    try {
      return await p;
    } finally {
      this.accepting.delete(p);
    }
  }

  private async enqueue(batches: readonly LaneBatch[]): Promise<ExportResult> {
    let bytes = 0;
    let refused = 0;
    let refusedPoints = 0;
    const refusedLanes: Partial<Record<Lane, number>> = {};
    let reason = '';
    for (const b of batches) {
      const gz = await gzipAsync(b.protobuf);
      const out = await this.queue.append(b.lane, packRecord(gz, b.protobuf.length, b.points));
      for (const ev of out.evicted) {
        this.logger.warn(
          { exporter: this.name, lane: ev.lane, records: ev.records, bytes: ev.bytes },
          'export queue over its cap: evicted the oldest non-critical data',
        );
      }
      if (out.accepted) {
        bytes += gz.length;
      } else {
        // counted by the queue (its drops, per lane and reason)
        refused++;
        refusedPoints += b.points;
        reason = out.reason ?? 'refused';
        refusedLanes[b.lane] = (refusedLanes[b.lane] ?? 0) + b.points;
      }
    }
    if (refused === 0) return { ok: true, bytes };
    if (this.refusedLogged++ % 100 === 0) {
      this.logger.error(
        { exporter: this.name, reason, batches: refused, points: refusedPoints, lanes: refusedLanes },
        `export queue refused data on the ${Object.keys(refusedLanes).join(', ')} path (see queue.max_bytes and the disk)`,
      );
    }
    return { ok: false, bytes, error: `queue refused ${refused} of ${batches.length} batches (${reason})` };
  }

  private async drainLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      try {
        const wait = this.pauseUntil - this.clock.now();
        if (wait > 0) {
          await this.clock.sleep(wait, signal).catch(() => undefined);
          continue;
        }
        const rec = await this.queue.take();
        if (!rec) {
          await this.queue.waitForData(1000, signal).catch(() => undefined);
          continue;
        }
        const r = await this.deliver(rec, signal);
        if (!r.ok && r.retryable) {
          // the breaker's open time or the server's Retry-After, at least a moment
          this.pauseUntil = Math.max(this.pauseUntil, this.clock.now() + Math.max(r.retryAfterMs ?? 1000, 50));
        }
      } catch (e) {
        // never let a loop die: log and back off
        this.logger.error({ exporter: this.name, err: describeError(e) }, 'export drain loop error');
        await this.clock.sleep(1000, signal).catch(() => undefined);
      }
    }
  }

  /** Send one record and settle it: ack on success or permanent refusal, release otherwise. */
  private async deliver(rec: QueuedRecord, signal?: AbortSignal, once = false): Promise<SendResult> {
    let unpacked: ReturnType<typeof unpackRecord>;
    try {
      unpacked = unpackRecord(rec.payload);
    } catch (e) {
      this.count(rec.lane, 'corrupt', 1);
      this.logger.error({ exporter: this.name, lane: rec.lane, err: describeError(e) }, 'dropping a bad queue record');
      await this.queue.ack(rec);
      return { ok: true, bytes: 0 };
    }
    const req = { body: unpacked.body, uncompressedBytes: unpacked.uncompressedBytes, points: unpacked.points };
    const r = once
      ? await this.breaker.layer(this.raw)({ ...req, lane: rec.lane })
      : await this.send({ ...req, lane: rec.lane }, signal);
    if (r.ok) {
      await this.queue.ack(rec);
      this.sent.records++;
      this.sent.bytes += unpacked.body.length;
      const rejected = r.rejectedDataPoints ?? 0;
      this.sent.points += unpacked.points - rejected;
      if (rejected > 0) this.count(rec.lane, 'partial', rejected);
      return r;
    }
    if (r.retryable) {
      this.queue.release(rec);
      return r;
    }
    // 4xx other than 429: sending it again cannot succeed
    await this.queue.ack(rec);
    this.count(rec.lane, 'rejected', unpacked.points);
    this.logger.error(
      { exporter: this.name, lane: rec.lane, status: r.status, error: r.error, points: unpacked.points },
      'the backend refused a request (not retried)',
    );
    return r;
  }

  private count(lane: Lane, reason: string, points: number): void {
    const l = this.dropped[lane];
    l[reason] = (l[reason] ?? 0) + points;
  }

  health(): ExportHealth {
    const q = this.queue.stats();
    const state = this.breaker.state;
    const dropped: Record<string, number> = {};
    const droppedByPath = { critical: {}, standard: {}, sampled: {} } as Record<Lane, Record<string, number>>;
    const droppedRecords: Record<string, number> = {};
    const add = (lane: Lane, reason: string, n: number) => {
      if (n === 0) return;
      dropped[reason] = (dropped[reason] ?? 0) + n;
      droppedByPath[lane][reason] = (droppedByPath[lane][reason] ?? 0) + n;
    };
    for (const lane of LANE_ORDER) {
      for (const [reason, n] of Object.entries(this.dropped[lane])) add(lane, reason, n);
      for (const [reason, t] of Object.entries(q.droppedByLane[lane])) add(lane, reason, t.points);
    }
    for (const [reason, t] of Object.entries(q.dropped)) if (t.records > 0) droppedRecords[reason] = t.records;
    return {
      exporter: this.name,
      queue: { records: q.records, bytes: q.bytes, oldestAgeMs: q.oldestAgeMs, persistent: this.queue.persistent },
      breaker: state === 'closed' ? 0 : state === 'half_open' ? 1 : 2,
      breakerState: state,
      retries: this.retries,
      failures: this.failures,
      sent: { ...this.sent },
      dropped,
      droppedByPath,
      droppedRecords,
    };
  }

  shutdown(): Promise<void> {
    return this.lifecycle.shutdown(async () => {
      // what export() accepted before this call goes into the queue first
      await Promise.allSettled([...this.accepting]);
      this.abort.abort();
      await Promise.allSettled(this.loops);
      if (this.lifecycle.started || this.loops.length > 0) await this.drainAtShutdown();
      await this.queue.shutdown();
      await this.target.shutdown();
    });
  }

  private async drainAtShutdown(): Promise<void> {
    const deadline = this.clock.now() + this.shutdownDrainMs;
    let sent = 0;
    while (this.shutdownDrainMs > 0) {
      // honour a Retry-After or breaker pause that still fits before the deadline
      const pause = this.pauseUntil - this.clock.now();
      if (pause > 0) {
        if (this.clock.now() + pause >= deadline) break;
        await this.clock.sleep(pause);
      }
      if (this.clock.now() >= deadline) break;
      const rec = await this.queue.take();
      if (!rec) break;
      const r = await this.deliver(rec, undefined, true);
      if (!r.ok && r.retryable) {
        // an endpoint that is down (no Retry-After) ends the drain at once
        if (r.retryAfterMs === undefined || r.breakerOpen) break;
        this.pauseUntil = this.clock.now() + r.retryAfterMs;
        continue;
      }
      sent++;
    }
    const left = this.queue.stats();
    if (left.records > 0) {
      if (this.queue.persistent) {
        this.logger.info(
          { exporter: this.name, records: left.records, bytes: left.bytes, sentAtShutdown: sent },
          'export queue kept on disk for the next start',
        );
      } else {
        this.logger.warn(
          { exporter: this.name, records: left.records, bytes: left.bytes, sentAtShutdown: sent },
          'queued data could not be sent before exit and is lost (use --queue-dir to keep it)',
        );
      }
    }
  }
}
