/**
 * OTLP receiver throughput: a real receiver on loopback (in a child process,
 * so the client does not share its event loop) whose sink only counts, and an
 * undici Pool with keep-alive posting pre-encoded gzip'd protobuf bodies of
 * hostmetrics-shaped requests (15 data points per process) at maximum rate
 * over a few connections. For each body size and decode mode (inline, 1 and 2
 * piscina workers) it reports data points/s and client-side p50/p99 request
 * latency (hdr-histogram). Baseline, measured in the same run: the decode
 * alone (gunzip + decodeRequest on the same bytes, in a loop, one thread), in
 * points/s; the ratio column is receiver ÷ decode-alone.
 *
 *   npm run bench:receiver [-- --seconds 10 --sizes 100,1000,5000 --connections 2 --workers 1,2 --semi-space 64]
 *
 * In the worker modes every body goes to the workers (threshold 0). Each
 * `--semi-space MB` (comma-separated, 0 = none) adds an inline run with
 * --max-semi-space-size (V8's young generation; the decoder allocates many
 * short-lived objects).
 */
import { fork } from 'node:child_process';
import * as os from 'node:os';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import * as hdr from 'hdr-histogram-js';
import { Pool } from 'undici';
import { receiverOptions } from '../src/config/components.js';
import { defaultConfig } from '../src/config/load.js';
import { HostmetricsSource } from '../src/harness/hostmetrics.js';
import { HostmetricsEncoder } from '../src/harness/hostmetrics-pb.js';
import { countDataPoints } from '../src/otlp/model.js';
import { decodeRequest } from '../src/otlp/proto.js';
import { type ReceiverStats, startOtlpReceiver } from '../src/sources/receiver/server.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

// ---------------------------------------------------------------------------
// child: the receiver

interface ServeMsg {
  url?: string;
  stats?: ReceiverStats;
  points?: number;
  /** peak resident set of the receiver process, bytes */
  maxRss?: number;
}

async function serve(workers: number): Promise<void> {
  let points = 0;
  const rx = await startOtlpReceiver({
    ...receiverOptions(defaultConfig()),
    listen: '127.0.0.1:0',
    decodeWorkers: workers,
    // every body goes to the workers when there are any: the comparison is inline vs workers
    workerThresholdBytes: 0,
    sink: {
      admit: () => ({ ok: true }),
      accept: async (_req, meta) => {
        points += meta.points;
        return {};
      },
    },
  });
  process.send?.({ url: rx.url } satisfies ServeMsg);
  process.on('message', async (m: string) => {
    if (m === 'stats') {
      process.send?.({ stats: rx.stats(), points, maxRss: process.resourceUsage().maxRSS * 1024 } satisfies ServeMsg);
    }
    if (m === 'stop') {
      await rx.close();
      process.exit(0);
    }
  });
}

// ---------------------------------------------------------------------------
// parent: client and report

interface Mode {
  label: string;
  workers: number;
  execArgv: string[];
}

interface Result {
  pointsPerSec: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  serverDecodeP99Ms: number;
  maxRssMiB: number;
}

async function startChild(mode: Mode) {
  const child = fork(fileURLToPath(import.meta.url), ['--serve', String(mode.workers)], {
    execArgv: mode.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m: ServeMsg) => (m.url ? resolve(m.url) : reject(new Error('no url'))));
    child.once('exit', (c) => reject(new Error(`receiver exited ${c}`)));
  });
  const ask = () =>
    new Promise<ServeMsg>((resolve) => {
      child.once('message', (m: ServeMsg) => resolve(m));
      child.send('stats');
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.send('stop');
    });
  return { url, ask, stop };
}

async function drive(url: string, body: Uint8Array, points: number, seconds: number, connections: number) {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const headers = { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' };
  const lat = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  let ok = 0;
  let errors = 0;
  const post = async () => {
    const t0 = performance.now();
    try {
      const res = await pool.request({ path: u.pathname, method: 'POST', body, headers });
      await res.body.arrayBuffer();
      if (res.statusCode === 200) ok++;
      else errors++;
    } catch {
      errors++;
    }
    return (performance.now() - t0) * 1000;
  };
  // warm-up (JIT, connections, worker start), not measured
  const warmEnd = performance.now() + Math.min(2000, seconds * 200);
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < warmEnd) await post();
    }),
  );
  ok = 0;
  errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) lat.recordValue(Math.max(1, Math.round(await post())));
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  await pool.close();
  return {
    pointsPerSec: (ok * points) / elapsed,
    requestsPerSec: ok / elapsed,
    p50Ms: lat.getValueAtPercentile(50) / 1000,
    p99Ms: lat.getValueAtPercentile(99) / 1000,
    errors,
  };
}

/** The baseline: gunzip + decode of the same body in a loop, on this thread. */
function decodeAlone(body: Uint8Array, points: number, seconds: number): number {
  for (let i = 0; i < 5; i++) decodeRequest(gunzipSync(body));
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < seconds * 1000) {
    decodeRequest(gunzipSync(body));
    n++;
  }
  return (n * points) / ((performance.now() - start) / 1000);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function main(): Promise<void> {
  const seconds = Number(arg('seconds', '10'));
  const sizes = arg('sizes', '100,1000,5000').split(',').map(Number);
  const connections = Number(arg('connections', '2'));
  const semis = arg('semi-space', '64').split(',').map(Number);
  const workerModes = arg('workers', '1,2')
    .split(',')
    .map(Number)
    .filter((w) => w > 0);
  const modes: Mode[] = [{ label: 'inline', workers: 0, execArgv: [] }];
  for (const w of workerModes) modes.push({ label: `${w} worker${w > 1 ? 's' : ''}`, workers: w, execArgv: [] });
  for (const mb of semis.filter((m) => m > 0)) {
    modes.push({ label: `inline, semi-space ${mb}MB`, workers: 0, execArgv: [`--max-semi-space-size=${mb}`] });
  }

  console.log(
    `receiver bench: ${os.cpus().length} CPUs, node ${process.version}, ${seconds}s per run, ${connections} connections, gzip'd protobuf, 15 points/process`,
  );
  console.log(
    'processes | body (gzip / raw) | decode alone pts/s | mode | receiver pts/s | req/s | p50 ms | p99 ms | server decode p99 ms | server max RSS MiB | ratio',
  );
  for (const n of sizes) {
    const src = new HostmetricsSource({ processes: n, seed: 1 });
    const raw = new HostmetricsEncoder(src).encode(Date.now());
    const points = countDataPoints(decodeRequest(raw));
    const body = gzipSync(raw);
    const alone = decodeAlone(body, points, Math.min(5, seconds / 2));
    for (const mode of modes) {
      const child = await startChild(mode);
      const r = await drive(child.url, body, points, seconds, connections);
      const answer = await child.ask();
      await child.stop();
      const res: Result = {
        ...r,
        serverDecodeP99Ms: answer.stats!.decode.p99Us / 1000,
        maxRssMiB: (answer.maxRss ?? 0) / 1024 / 1024,
      };
      console.log(
        [
          n,
          `${(body.length / 1024).toFixed(0)} KiB / ${(raw.length / 1024).toFixed(0)} KiB`,
          fmt(alone),
          mode.label,
          fmt(res.pointsPerSec),
          res.requestsPerSec.toFixed(1),
          res.p50Ms.toFixed(1),
          res.p99Ms.toFixed(1),
          res.serverDecodeP99Ms.toFixed(1),
          res.maxRssMiB.toFixed(0),
          (res.pointsPerSec / alone).toFixed(2),
        ].join(' | ') + (res.errors ? ` (${res.errors} errors)` : ''),
      );
    }
  }
}

if (process.argv.includes('--serve')) {
  await serve(Number(process.argv[process.argv.indexOf('--serve') + 1]));
} else {
  await main();
}
