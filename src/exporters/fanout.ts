/**
 * Fan-out: one request to every exporter, concurrently. The request is
 * encoded at most once per format whatever the number of exporters (one JSON
 * string for all file sinks, one protobuf + one gzip for all OTLP sinks; see
 * EncodedRequest), and protobuf bytes the caller already has are reused.
 * Results are collected and errors counted per exporter. One exporter failing
 * or throwing never affects the others.
 */

import type { LaneBatch } from '../core/lanes.js';
import { type Logger, silentLogger } from '../core/log.js';
import { countDataPoints, type ExportMetricsServiceRequest } from '../otlp/model.js';
import { describeError, EncodedRequest, type Exporter, type ExportResult } from './exporter.js';
import type { ExportHealth } from './otlp/queued.js';

/** An exporter that takes the request split into per-lane batches (the queued OTLP exporter). */
interface BatchExporter extends Exporter {
  exportBatches(batches: readonly LaneBatch[]): Promise<ExportResult>;
  health(): ExportHealth;
}

function takesBatches(e: Exporter): e is BatchExporter {
  return typeof (e as Partial<BatchExporter>).exportBatches === 'function';
}

/** One exporter's result of one export, labelled with the exporter's name. */
export type ExportOutcome = ExportResult & { exporter: string };

export interface ExporterStats {
  exporter: string;
  /** export() calls */
  exports: number;
  /** of which failed (`ok: false` or thrown) */
  errors: number;
  consecutiveErrors: number;
  /** sum of `bytes` */
  bytes: number;
  lastError?: string;
}

/** Count one export() outcome into an exporter's figures. */
export function countOutcome(s: ExporterStats, r: ExportResult): void {
  s.exports++;
  s.bytes += r.bytes;
  if (r.ok) {
    s.consecutiveErrors = 0;
  } else {
    s.errors++;
    s.consecutiveErrors++;
    s.lastError = r.error;
  }
}

export class Fanout {
  private readonly stats: ExporterStats[];
  private stopping?: Promise<void>;

  constructor(
    readonly exporters: readonly Exporter[],
    private readonly logger: Logger = silentLogger,
  ) {
    this.stats = exporters.map((e) => ({ exporter: e.name, exports: 0, errors: 0, consecutiveErrors: 0, bytes: 0 }));
  }

  /**
   * Start every exporter. If one fails, all are shut down and the first error
   * (e.g. NrdotError OUTPUT_UNWRITABLE) is rethrown.
   */
  async start(): Promise<void> {
    const outcomes = await Promise.allSettled(this.exporters.map((e) => e.start()));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (!failure) return;
    await Promise.allSettled(this.exporters.map((e) => e.shutdown()));
    throw failure.reason;
  }

  /**
   * Send a request to every exporter, in parallel; one outcome per exporter
   * in construction order. `payload` is the request or its EncodedRequest
   * (the engine's, whose model is decoded only if an exporter asks);
   * `encoded` is the protobuf bytes of a bare request, when the caller has them.
   * Rejects only when called after shutdown(). `batches` gives the same data
   * split by lane and size; exporters that queue per lane (OTLP) get those,
   * the others (file, stdout) get the whole request.
   */
  async export(
    payload: ExportMetricsServiceRequest | EncodedRequest,
    encoded?: Uint8Array | EncodedRequest,
    batches?: () => readonly LaneBatch[],
  ): Promise<ExportOutcome[]> {
    if (this.stopping) throw new Error('fan-out: export() called after shutdown()');
    const enc =
      payload instanceof EncodedRequest
        ? payload
        : encoded instanceof EncodedRequest && encoded.request === payload
          ? encoded
          : new EncodedRequest(payload, encoded instanceof Uint8Array ? encoded : undefined);
    let split: readonly LaneBatch[] | undefined;
    const results = await Promise.all(
      this.exporters.map(async (e): Promise<ExportResult> => {
        try {
          if (takesBatches(e)) {
            split ??= batches
              ? batches()
              : [
                  {
                    lane: 'standard',
                    protobuf: enc.protobuf(),
                    points: countDataPoints(enc.request),
                    resources: enc.request.resourceMetrics.length,
                  },
                ];
            return await e.exportBatches(split);
          }
          return await e.export(enc);
        } catch (err) {
          const error = describeError(err);
          this.logger.warn({ exporter: e.name, error }, 'exporter threw');
          return { ok: false, bytes: 0, error };
        }
      }),
    );
    return results.map((r, i) => {
      countOutcome(this.stats[i], r);
      return { exporter: this.exporters[i].name, ...r };
    });
  }

  /** Cumulative counters per exporter (copies), in construction order. */
  exporterStats(): ExporterStats[] {
    return this.stats.map((s) => ({ ...s }));
  }

  /** Queue, breaker and delivery figures of every queued exporter. */
  health(): ExportHealth[] {
    return this.exporters.filter(takesBatches).map((e) => e.health());
  }

  /** Failed deliveries per exporter name since construction (feeds `nrdot.export.errors`). */
  errorCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.stats) out[s.exporter] = (out[s.exporter] ?? 0) + s.errors;
    // a queued exporter's export() only queues; its failures happen when sending
    for (const h of this.health()) out[h.exporter] = (out[h.exporter] ?? 0) + h.failures;
    return out;
  }

  /** Shut every exporter down (waits for pending writes/requests). Safe to call twice. */
  shutdown(): Promise<void> {
    this.stopping ??= Promise.allSettled(this.exporters.map((e) => e.shutdown())).then((outcomes) => {
      for (const [i, o] of outcomes.entries()) {
        if (o.status === 'rejected') {
          this.logger.warn({ exporter: this.exporters[i].name, error: describeError(o.reason) }, 'shutdown failed');
        }
      }
    });
    return this.stopping;
  }
}
