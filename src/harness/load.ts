/**
 * The load generator behind `nrdot loadgen`: posts hostmetrics-shaped
 * requests for one synthetic host at a fixed rate (open loop: a request whose
 * turn comes while `concurrency` requests are in flight is skipped and
 * counted, so a slow target shows up as skips, not as a silently lower rate).
 * Identities are stable across requests (same pids and start times), values
 * advance with the clock. Latency is measured from dispatch (body ready) to
 * the end of the response, in an hdr histogram. Accepted data points are
 * those of 2xx answers less what their partial success rejected
 * (`rejected_data_points`, protobuf or JSON answers).
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { Pool } from 'undici';
import { decodeResponse } from '../otlp/proto.js';
import { buildHistogram } from '../util/hdr.js';
import { HostmetricsSource, inCriticalShare } from './hostmetrics.js';
import { HostmetricsEncoder } from './hostmetrics-pb.js';

const gzipAsync = promisify(zlib.gzip) as (b: Uint8Array, o: zlib.ZlibOptions) => Promise<Buffer>;

export interface LoadOptions {
  /** http://host:port/v1/metrics */
  target: string;
  /** requests per second */
  rate: number;
  processes: number;
  durationSec: number;
  encoding: 'protobuf' | 'json';
  gzip: boolean;
  /** connections, and the most requests in flight */
  concurrency: number;
  hostName?: string;
  seed?: number;
  /** share of processes with critical names (HostmetricsSource's criticalShare); default: random names */
  criticalShare?: number;
  /** called about once a second */
  onProgress?: (p: LoadReport) => void;
}

export interface LoadReport {
  elapsedSec: number;
  /** requests dispatched */
  sent: number;
  /** requests answered (any status) or failed */
  completed: number;
  /** turns skipped because `concurrency` requests were in flight */
  skipped: number;
  inFlight: number;
  /** by HTTP status, or `error:<code>` for requests that got no answer */
  statuses: Record<string, number>;
  /** over the report's window: the last second for progress, the whole run for the summary */
  requestsPerSec: number;
  /** accepted data points per second (2xx answers less partial-success rejections), same window */
  pointsPerSec: number;
  /** data points rejected by partial success (in 2xx answers), so far */
  rejectedPoints: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadSummary extends LoadReport {
  pointsPerRequest: number;
  bytesSent: number;
  /** processes of the critical share in each request (0 without criticalShare) */
  criticalPerRequest: number;
  /** critical processes in requests answered 2xx */
  criticalAccepted: number;
}

/** rejected_data_points of an OTLP answer's partial success (0 when absent or unreadable). */
export function rejectedPointsOf(body: Uint8Array, contentType: string | undefined): number {
  if (body.length === 0) return 0;
  try {
    let v: string | number | undefined;
    if (/json/i.test(contentType ?? '')) {
      const o = JSON.parse(Buffer.from(body).toString('utf8')) as {
        partialSuccess?: { rejectedDataPoints?: string | number };
      };
      v = o?.partialSuccess?.rejectedDataPoints;
    } else {
      v = decodeResponse(body).partialSuccess?.rejectedDataPoints;
    }
    const n = Number(v ?? 0);
    return Number.isFinite(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}

function histogram() {
  return buildHistogram({ lowest: 1, highest: 600_000_000, digits: 3 });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  const url = new URL(opts.target);
  const source = new HostmetricsSource({
    processes: opts.processes,
    hostName: opts.hostName,
    seed: opts.seed,
    criticalShare: opts.criticalShare,
  });
  let criticalPerRequest = 0;
  if (opts.criticalShare !== undefined) {
    for (let i = 0; i < opts.processes; i++) if (inCriticalShare(i, opts.criticalShare)) criticalPerRequest++;
  }
  const encoder = opts.encoding === 'protobuf' ? new HostmetricsEncoder(source) : undefined;
  const pool = new Pool(url.origin, { connections: opts.concurrency, keepAliveTimeout: 60_000 });
  const headers: Record<string, string> = {
    'content-type': opts.encoding === 'protobuf' ? 'application/x-protobuf' : 'application/json',
  };
  if (opts.gzip) headers['content-encoding'] = 'gzip';
  const path = url.pathname + url.search;
  const perRequest = source.pointsPerRequest;

  const total = histogram();
  let window = histogram();
  const statuses = new Map<string, number>();
  let sent = 0;
  let completed = 0;
  let skipped = 0;
  let inFlight = 0;
  let okPoints = 0;
  let windowDone = 0;
  let windowPoints = 0;
  let bytesSent = 0;
  let rejectedPoints = 0;
  let criticalAccepted = 0;
  const inflight = new Set<Promise<void>>();

  const body = async (nowMs: number): Promise<Uint8Array> => {
    const raw = encoder ? encoder.encode(nowMs) : Buffer.from(JSON.stringify(source.request(nowMs)));
    return opts.gzip ? gzipAsync(raw, { level: 1 }) : raw;
  };

  const one = async () => {
    inFlight++;
    sent++;
    let status: string;
    let ok = false;
    let us = 0;
    let rejected = 0;
    try {
      const b = await body(Date.now());
      bytesSent += b.length;
      const t0 = performance.now();
      const res = await pool.request({ path, method: 'POST', body: b, headers });
      const answer = new Uint8Array(await res.body.arrayBuffer());
      us = (performance.now() - t0) * 1000;
      status = String(res.statusCode);
      ok = res.statusCode >= 200 && res.statusCode < 300;
      if (ok) rejected = Math.min(perRequest, rejectedPointsOf(answer, String(res.headers['content-type'] ?? '')));
    } catch (e) {
      status = `error:${(e as NodeJS.ErrnoException)?.code ?? (e as Error)?.name ?? 'unknown'}`;
    }
    inFlight--;
    completed++;
    windowDone++;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (us > 0) {
      const v = Math.min(600_000_000, Math.max(1, Math.round(us)));
      total.recordValue(v);
      window.recordValue(v);
    }
    if (ok) {
      okPoints += perRequest - rejected;
      windowPoints += perRequest - rejected;
      rejectedPoints += rejected;
      criticalAccepted += criticalPerRequest;
    }
  };

  const report = (
    h: ReturnType<typeof histogram>,
    elapsedSec: number,
    windowSec: number,
    done: number,
    points: number,
  ): LoadReport => ({
    elapsedSec,
    sent,
    completed,
    skipped,
    inFlight,
    statuses: Object.fromEntries(statuses),
    requestsPerSec: windowSec > 0 ? done / windowSec : 0,
    pointsPerSec: windowSec > 0 ? points / windowSec : 0,
    rejectedPoints,
    p50Ms: h.totalCount ? h.getValueAtPercentile(50) / 1000 : 0,
    p99Ms: h.totalCount ? h.getValueAtPercentile(99) / 1000 : 0,
  });

  const start = performance.now();
  const endMs = opts.durationSec * 1000;
  let due = 0; // requests whose turn has come
  let lastReport = 0;
  for (;;) {
    const t = performance.now() - start;
    if (t >= endMs) break;
    const shouldHave = Math.floor((t / 1000) * opts.rate) + 1;
    while (due < shouldHave) {
      due++;
      if (inFlight >= opts.concurrency) {
        skipped++;
        continue;
      }
      const p = one();
      inflight.add(p);
      p.finally(() => inflight.delete(p));
    }
    if (t - lastReport >= 1000) {
      const windowSec = (t - lastReport) / 1000;
      lastReport = t;
      opts.onProgress?.(report(window, t / 1000, windowSec, windowDone, windowPoints));
      window = histogram();
      windowDone = 0;
      windowPoints = 0;
    }
    const nextDue = (due / opts.rate) * 1000;
    await sleep(Math.min(nextDue, lastReport + 1000, endMs) - (performance.now() - start));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  return {
    ...report(total, elapsed, elapsed, completed, okPoints),
    pointsPerRequest: perRequest,
    bytesSent,
    criticalPerRequest,
    criticalAccepted,
  };
}
