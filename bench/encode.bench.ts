/**
 * OTLP protobuf encoding of engine-shaped requests: the hand-written model
 * writer (src/otlp/encode/pb-writer.ts) and the column writer the pipeline
 * uses (src/stages/build/writer.ts: rows straight from the columns, no
 * model) against the generic protobufjs path (`encodeRequestGeneric`), the
 * baseline, measured in the same run.
 *
 * Requests are what the engine exports (src/stages/build/model.ts
 * processResource, every metric on: one resource per process, its resource
 * attributes and ~19 gauge/sum points), with 1k/10k/50k points in one
 * request ("whole"), and the same resources encoded one request each ("per
 * process"). Bytes are checked identical first. The model writers' figures
 * do not include building the model; the column writer's include everything.
 *
 *   npm run bench:encode [-- --sizes 1000,10000,50000 --iterations 15]
 *   (the script runs node with --expose-gc: a collection before each measured block)
 */

import * as w from '../src/otlp/encode/pb-buf.js';
import { tryEncodeRequestFast } from '../src/otlp/encode/pb-writer.js';
import { countDataPoints, type ExportMetricsServiceRequest, nanosFromMs } from '../src/otlp/model.js';
import { encodeRequestGeneric } from '../src/otlp/proto.js';
import { allocBatch, type ProcessBatch } from '../src/sources/batch.js';
import { PROCESS_METRICS } from '../src/stages/build/metrics.js';
import { processResource } from '../src/stages/build/model.js';
import { processPoints, type RowStrings, writeProcess } from '../src/stages/build/writer.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const sizes = arg('sizes', '1000,10000,50000').split(',').map(Number);
const iterations = Number(arg('iterations', '15'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Deterministic process rows with full detail, like a scan of a busy host. */
function batch(n: number): ProcessBatch {
  let seed = 11;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const host = {
    hostname: 'bench-host-01',
    bootTimeSec: 1_732_000_000,
    uptimeSec: 500_000,
    cpuCount: 2,
    memTotalBytes: 8 * 2 ** 30,
    clkTck: 100,
    pageSize: 4096,
  };
  const b = allocBatch(n, host);
  b.count = n;
  for (let i = 0; i < n; i++) {
    b.pid[i] = 1000 + i;
    b.ppid[i] = 1 + Math.floor(rnd() * 1000);
    b.startTicks[i] = Math.floor(rnd() * 49_000_000);
    b.utimeSec[i] = Math.round(rnd() * 1e5) / 100;
    b.stimeSec[i] = Math.round(rnd() * 1e4) / 100;
    b.iowaitSec[i] = rnd() < 0.8 ? 0 : Math.round(rnd() * 1e3) / 100;
    b.rssBytes[i] = Math.floor(rnd() * 2 ** 30);
    b.vsizeBytes[i] = Math.floor(rnd() * 2 ** 36);
    b.threads[i] = 1 + Math.floor(rnd() * 64);
    b.fds[i] = Math.floor(rnd() * 500);
    b.readBytes[i] = Math.floor(rnd() * 2 ** 40);
    b.writeBytes[i] = Math.floor(rnd() * 2 ** 34);
    b.minFaults[i] = Math.floor(rnd() * 1e7);
    b.majFaults[i] = Math.floor(rnd() * 1e3);
    b.volCtx[i] = Math.floor(rnd() * 1e6);
    b.involCtx[i] = Math.floor(rnd() * 1e5);
  }
  return b;
}

const NAMES = ['postgres', 'nginx', 'java', 'python3', 'node', 'kworker/0:1', 'sshd', 'redis-server'];

const ALL = (1 << PROCESS_METRICS.length) - 1;
const TIME_NS = nanosFromMs(1_732_500_000_123);

interface Rows {
  b: ProcessBatch;
  n: number;
  ids: RowStrings[];
  cpuState: Float64Array;
  tags: { tier: number; importance: number; profile: string; anomaly: string; sampleRate: undefined }[];
}

function rows(points: number): Rows {
  const n = Math.ceil(points / 19);
  const b = batch(n);
  const cpuState = Float64Array.from({ length: n * 3 }, (_, k) => (k % 7) / 10);
  const ids: RowStrings[] = [];
  const tags: Rows['tags'] = [];
  for (let i = 0; i < n; i++) {
    const name = NAMES[i % NAMES.length]!;
    ids.push({
      name,
      exe: `/usr/bin/${name}`,
      cmdline: `/usr/bin/${name} --config /etc/${name}/${name}.conf --worker ${i % 17}`,
      owner: i % 3 === 0 ? 'root' : 'app',
    });
    tags.push({ tier: i % 4, importance: (i % 100) / 100, profile: 'balanced', anomaly: '', sampleRate: undefined });
  }
  return { b, n, ids, cpuState, tags };
}

function request(r: Rows): ExportMetricsServiceRequest {
  const resources = [];
  for (let i = 0; i < r.n; i++) resources.push(processResource(r.b, i, r.ids[i]!, r.cpuState, TIME_NS, ALL, r.tags[i]));
  return { resourceMetrics: resources };
}

function columns(r: Rows): Uint8Array {
  w.reset();
  for (let i = 0; i < r.n; i++) writeProcess(r.b, i, r.ids[i]!, r.cpuState, TIME_NS, ALL, r.tags[i]);
  return w.finish();
}

function time(f: () => unknown): number {
  const t = performance.now();
  f();
  return performance.now() - t;
}

function fast(req: ExportMetricsServiceRequest): Uint8Array {
  const out = tryEncodeRequestFast(req);
  if (!out) throw new Error('the fast encoder refused an engine-shaped request');
  return out;
}

console.log(`encode: OTLP protobuf of engine-shaped requests, median of ${iterations} runs (baseline: generic)`);
console.log('mode         points    bytes      generic µs/pt  fast µs/pt  speed-up');
for (const size of sizes) {
  const r = rows(size);
  const req = request(r);
  const points = countDataPoints(req);
  let sum = 0;
  for (let i = 0; i < r.n; i++) sum += processPoints(r.b, i, ALL, r.cpuState);
  if (sum !== points) throw new Error(`points differ at ${size}: ${sum} vs ${points}`);
  const generic = encodeRequestGeneric(req);
  if (Buffer.compare(fast(req), generic) !== 0) throw new Error(`bytes differ at ${size} points`);
  if (Buffer.compare(Buffer.from(columns(r)), generic) !== 0) throw new Error(`column bytes differ at ${size} points`);
  const single = req.resourceMetrics.map((rm) => ({ resourceMetrics: [rm] }));
  const modes: [string, (enc: (r: ExportMetricsServiceRequest) => Uint8Array) => void][] = [
    ['whole', (enc) => enc(req)],
    [
      'per process',
      (enc) => {
        for (const r of single) enc(r);
      },
    ],
  ];
  for (const [mode, run] of modes) {
    // each encoder measured in its own block, after its own warm-up and (with
    // --expose-gc) a collection, so neither pays for the other's garbage
    const measureOne = (enc: (r: ExportMetricsServiceRequest) => Uint8Array): number => {
      for (let i = 0, t0 = performance.now(); i < 10 || performance.now() - t0 < 300; i++) run(enc);
      (globalThis as { gc?: () => void }).gc?.();
      const ms: number[] = [];
      for (let i = 0; i < iterations; i++) ms.push(time(() => run(enc)));
      return median(ms);
    };
    const g = measureOne(encodeRequestGeneric);
    const f = measureOne(fast);
    const gus = (g * 1000) / points;
    const fus = (f * 1000) / points;
    console.log(
      `${mode.padEnd(12)} ${String(points).padStart(6)} ${String(generic.length).padStart(9)}  ${gus.toFixed(3).padStart(13)}  ${fus.toFixed(3).padStart(10)}  ${(gus / fus).toFixed(1).padStart(7)}x`,
    );
  }
  for (let i = 0; i < 10; i++) columns(r);
  (globalThis as { gc?: () => void }).gc?.();
  const ms: number[] = [];
  for (let i = 0; i < iterations; i++) ms.push(time(() => columns(r)));
  const cus = (median(ms) * 1000) / points;
  console.log(
    `columns      ${String(points).padStart(6)} ${String(generic.length).padStart(9)}  (writer.ts, rows straight from the columns: ${cus.toFixed(3)} µs/pt)`,
  );
}
