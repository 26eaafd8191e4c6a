/**
 * nrdot loadgen: post hostmetrics-shaped OTLP requests for one synthetic host
 * at a fixed rate, print a progress line per second and a summary.
 */
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { type LoadReport, type LoadSummary, runLoad } from '../harness/load.js';

interface LoadgenOpts {
  target: string;
  /** requests per second, parsed by options.ts positiveNumber() */
  rate: number;
  processes: number;
  duration: number;
  encoding: 'protobuf' | 'json';
  gzip?: boolean;
  concurrency: number;
  hostName?: string;
  seed?: number;
  criticalShare?: number;
  json?: boolean;
}

const usage = (msg: string) => new NrdotError(ErrorCodes.USAGE, msg);

/** --target: an http(s) URL; a bare origin gets /v1/metrics. */
export function targetUrl(v: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw usage(`--target expects an http(s) URL like http://127.0.0.1:4318/v1/metrics, got '${v}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usage(`--target expects an http(s) URL, got '${v}'`);
  if (u.pathname === '/') u.pathname = '/v1/metrics';
  return u.toString();
}

const num = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits });

function statusList(s: Record<string, number>): string {
  const parts = Object.entries(s).map(([k, v]) => `${k}:${v}`);
  return parts.length ? parts.join(' ') : '-';
}

export function progressLine(r: LoadReport): string {
  return (
    `t=${r.elapsedSec.toFixed(0)}s sent=${r.sent} done=${r.completed} in-flight=${r.inFlight} skipped=${r.skipped}` +
    ` req/s=${num(r.requestsPerSec, 1)} points/s=${num(r.pointsPerSec)} p50=${r.p50Ms.toFixed(1)}ms p99=${r.p99Ms.toFixed(1)}ms` +
    ` [${statusList(r.statuses)}]`
  );
}

export function summaryText(s: LoadSummary, o: LoadgenOpts): string {
  return [
    `loadgen: ${o.processes} processes × ${s.pointsPerRequest / Math.max(1, o.processes)} points per request, ${o.encoding}${o.gzip ? '+gzip' : ''}, target ${o.rate} req/s for ${o.duration}s`,
    `  requests:    ${s.completed} in ${s.elapsedSec.toFixed(1)}s = ${num(s.requestsPerSec, 1)} req/s (skipped at the concurrency limit: ${s.skipped})`,
    `  data points: ${num(s.pointsPerSec)} /s accepted (2xx, less ${num(s.rejectedPoints)} rejected by partial success)`,
    `  statuses:    ${statusList(s.statuses)}`,
    `  latency:     p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms`,
    `  sent:        ${num(s.bytesSent / 1024 / 1024, 1)} MiB`,
  ].join('\n');
}

export async function loadgenCommand(o: LoadgenOpts): Promise<void> {
  const target = targetUrl(o.target);
  const summary = await runLoad({
    target,
    rate: o.rate,
    processes: o.processes,
    durationSec: o.duration,
    encoding: o.encoding,
    gzip: o.gzip ?? false,
    concurrency: o.concurrency,
    criticalShare: o.criticalShare,
    hostName: o.hostName,
    seed: o.seed,
    onProgress: o.json ? undefined : (r) => process.stdout.write(`${progressLine(r)}\n`),
  });
  if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`${summaryText(summary, o)}\n`);
  const ok = Object.entries(summary.statuses).some(([k]) => k.startsWith('2'));
  if (!ok && summary.completed > 0) {
    throw new NrdotError(ErrorCodes.RUNTIME, `no request to ${target} succeeded (${statusList(summary.statuses)})`);
  }
}
