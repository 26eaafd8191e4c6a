/**
 * Receiver counters and the decode-time histogram (hdr-histogram-js, in
 * microseconds), plus a limiter so that a failing sink logs each kind of
 * error once per interval instead of once per request.
 */

import type { ConnectionStats } from '../../server/guard.js';
import { buildHistogram } from '../../util/hdr.js';

export interface ReceiverStats {
  /** answered requests by HTTP status ("200", "400", ...); "aborted" when the client went away mid-body */
  requests: Record<string, number>;
  /** data points in requests that decoded */
  dataPoints: number;
  /** data points the sink reported as rejected (partial success) */
  rejectedDataPoints: number;
  /** request body bytes as received (compressed when gzip) */
  bytes: number;
  /** body bytes after decompression, of requests that decoded */
  decodedBytes: number;
  /** time from a complete body to a decoded request (decompression included), microseconds */
  decode: { count: number; p50Us: number; p99Us: number; maxUs: number };
  inlineDecodes: number;
  workerDecodes: number;
  /** open connections and what the connection cap did (src/server/guard.ts) */
  connections?: ConnectionStats;
  /** requests refused for their Host header */
  refusedHosts?: number;
  /** memory admission (src/control/admission.ts): what was shed or refused to stay under the limit */
  memory: {
    /** requests of which only the critical processes were kept (answered with partial success) */
    shedRequests: number;
    /** data points refused that way (counted in rejectedDataPoints too) */
    shedDataPoints: number;
    /** requests answered 503 for memory */
    refusedRequests: number;
  };
}

export class StatsRecorder {
  private readonly requests = new Map<string, number>();
  private dataPoints = 0;
  private rejected = 0;
  private bytes = 0;
  private decodedBytes = 0;
  private inline = 0;
  private worker = 0;
  private shedRequests = 0;
  private shedPoints = 0;
  private memoryRefused = 0;
  private readonly decodeUs = buildHistogram({ lowest: 1, highest: 60_000_000, digits: 3 });

  answered(status: number | 'aborted'): void {
    const k = String(status);
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  bodyBytes(n: number): void {
    this.bytes += n;
  }

  decoded(points: number, decodedBytes: number, us: number, onWorker: boolean): void {
    this.dataPoints += points;
    this.decodedBytes += decodedBytes;
    this.decodeUs.recordValue(Math.min(60_000_000, Math.max(1, Math.round(us))));
    if (onWorker) this.worker++;
    else this.inline++;
  }

  decodeFailed(onWorker: boolean): void {
    if (onWorker) this.worker++;
    else this.inline++;
  }

  rejectedPoints(n: number): void {
    this.rejected += n;
  }

  /** a request kept only its critical part; `points` were shed (and are counted as rejected by the caller) */
  shed(points: number): void {
    this.shedRequests++;
    this.shedPoints += points;
  }

  memoryRefusal(): void {
    this.memoryRefused++;
  }

  snapshot(): ReceiverStats {
    const h = this.decodeUs;
    return {
      requests: Object.fromEntries(this.requests),
      dataPoints: this.dataPoints,
      rejectedDataPoints: this.rejected,
      bytes: this.bytes,
      decodedBytes: this.decodedBytes,
      decode: {
        count: h.totalCount,
        p50Us: h.totalCount ? h.getValueAtPercentile(50) : 0,
        p99Us: h.totalCount ? h.getValueAtPercentile(99) : 0,
        maxUs: h.totalCount ? h.maxValue : 0,
      },
      inlineDecodes: this.inline,
      workerDecodes: this.worker,
      memory: {
        shedRequests: this.shedRequests,
        shedDataPoints: this.shedPoints,
        refusedRequests: this.memoryRefused,
      },
    };
  }
}

/** Lets one log line per error kind through per interval; counts what it held back. */
export class LogLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number,
  ) {}

  /** undefined: stay quiet; otherwise log, mentioning how many were held back since the last line. */
  admit(kind: string): { suppressed: number } | undefined {
    const t = this.now();
    const e = this.last.get(kind);
    if (e && t - e.at < this.intervalMs) {
      e.suppressed++;
      return undefined;
    }
    const suppressed = e?.suppressed ?? 0;
    this.last.set(kind, { at: t, suppressed: 0 });
    return { suppressed };
  }
}
