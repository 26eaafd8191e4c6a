/**
 * A backend outage, end to end: the agent (in process, real disk queue on
 * the work disk, real OTLP/HTTP to a loopback backend) runs C cycles while
 * the backend answers 503, then the backend recovers and the backlog drains.
 *
 * C = 60 cycles is what a 10-minute outage accumulates at the default 10 s
 * interval; the cycles run back to back here, so the bench takes minutes, not
 * ten. The heartbeat is off (every kept process in every cycle), which is the
 * largest backlog a profile can make on a host that does not change between
 * cycles.
 *
 * Reports: data queued, the agent's peak RSS during the outage, the time from
 * recovery to an empty queue (breaker and retry settings as in the default
 * config, with the breaker's open time capped by max_open_time), and whether
 * every accepted resource arrived. Baseline in the same run: the time the same
 * data takes to send with the backend up the whole time (cycles + drain).
 *
 *   npm run bench:outage [-- --processes 20000 --cycles 60 --profile balanced --queue-dir DIR]
 */
import * as fs from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Agent } from '../src/agent/agent.js';
import { loadConfig } from '../src/config/load.js';
import { readRssBytes } from '../src/control/index.js';
import { silentLogger } from '../src/core/log.js';
import { generateHost } from '../src/harness/synth/index.js';
import { resourceBounds } from '../src/otlp/split.js';
import { fastTmpDir } from '../src/util/tmp.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const processes = Number(arg('processes', '20000'));
const cycles = Number(arg('cycles', '60'));
const profile = arg('profile', 'balanced');
const MiB = 1024 * 1024;

interface Backend {
  url: string;
  up: boolean;
  resources: number;
  bytes: number;
  close(): Promise<void>;
}

async function startBackend(): Promise<Backend> {
  const b = { up: false, resources: 0, bytes: 0 } as Backend;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!b.up) {
        res.writeHead(503);
        res.end();
        return;
      }
      const body = Buffer.concat(chunks);
      b.bytes += body.length;
      b.resources += resourceBounds(gunzipSync(body)).length - 1;
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  b.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  b.close = () => {
    server.closeAllConnections();
    return new Promise((r) => server.close(() => r()));
  };
  return b;
}

async function scenario(host: string, queueDir: string, outage: boolean) {
  const backend = await startBackend();
  backend.up = !outage;
  const { config } = loadConfig();
  const cfg = structuredClone(config);
  cfg.paths.standard.heartbeat_cycles = 1;
  cfg.memory.limit_mib = 0;
  const agent = new Agent({
    config: cfg,
    profile,
    logger: silentLogger,
    procRoot: host,
    backend: 'auto',
    intervalMs: 10_000,
    exportSpecs: [`otlp:${backend.url}`],
    queueDir,
    listen: 'off',
  });
  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, readRssBytes());
  }, 100);
  await agent.start();
  const t0 = performance.now();
  for (let c = 0; c < cycles; c++) {
    await agent.cycle();
    if ((c + 1) % 10 === 0) process.stderr.write(`  ${outage ? 'outage' : 'healthy'}: ${c + 1}/${cycles} cycles\r`);
  }
  const cyclesMs = performance.now() - t0;
  const h = agent.sink.health()[0]!;
  const queued = { records: h.queue.records, bytes: h.queue.bytes };
  const rssDuring = peakRss;
  const t1 = performance.now();
  backend.up = true;
  for (;;) {
    const q = agent.sink.health()[0]!.queue;
    if (q.records === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const drainMs = performance.now() - t1;
  clearInterval(sampler);
  const received = backend.resources;
  await agent.shutdown();
  await backend.close();
  return { cyclesMs, drainMs, queued, rssDuring, peakRss, received, bytes: backend.bytes };
}

async function main() {
  const root = fastTmpDir('nrdot-outage-');
  const host = path.join(root, 'host');
  const queueBase = arg('queue-dir', fs.mkdtempSync(path.join(os.tmpdir(), 'nrdot-outage-q-')));
  try {
    process.stderr.write(`generating a ${processes}-process host...\n`);
    await generateHost({ out: host, processes, seed: 3 });
    console.log(
      `# Backend outage: ${cycles} cycles (${((cycles * 10) / 60).toFixed(1)} min at 10 s), ${processes} processes, profile ${profile}`,
    );
    console.log(`node ${process.version}, ${os.cpus().length} cores; queue on ${queueBase} (work disk), fsync 1s`);
    const healthy = await scenario(host, path.join(queueBase, 'healthy'), false);
    const outage = await scenario(host, path.join(queueBase, 'outage'), true);
    console.log('');
    console.log(
      '| scenario | cycles (s) | queued at recovery | peak RSS during cycles | drain after recovery (s) | resources received | wire MB |',
    );
    console.log('|---|---|---|---|---|---|---|');
    const row = (name: string, r: Awaited<ReturnType<typeof scenario>>) =>
      console.log(
        `| ${name} | ${(r.cyclesMs / 1000).toFixed(1)} | ${r.queued.records} records, ${(r.queued.bytes / MiB).toFixed(1)} MiB | ${(r.rssDuring / MiB).toFixed(0)} MiB | ${(r.drainMs / 1000).toFixed(2)} | ${r.received} | ${(r.bytes / MiB).toFixed(1)} |`,
      );
    row('backend up (baseline)', healthy);
    row('503 for the whole run, then 200', outage);
    console.log('');
    console.log(
      `every resource arrived: ${outage.received >= healthy.received ? 'yes' : 'NO'} (${outage.received} after the outage vs ${healthy.received} with the backend up)`,
    );
    console.log(
      `drain throughput: ${(outage.queued.bytes / MiB / (outage.drainMs / 1000)).toFixed(1)} MiB/s of queued (compressed) data`,
    );
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    if (!process.argv.includes('--queue-dir')) fs.rmSync(queueBase, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
