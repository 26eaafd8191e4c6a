/**
 * Abuse: a connection flood against a low file descriptor limit, and an
 * overload against a memory limit (bench/overload.ts).
 *
 * The built CLI runs under `ulimit -n 256` with the control server and the
 * OTLP receiver. /health is timed (a new connection per request, as a
 * liveness probe does) first with nothing else going on (the baseline, same
 * run), then while FLOOD idle connections are held open against each
 * server. Printed: /health latency p50/p99/max in both phases and the
 * ratio, the share of probes that failed, and what the servers logged.
 *
 *   npm run bench:abuse [-- --scenario all|flood|overload --flood 2000 --probes 200 --ulimit 256
 *                          --limit-mib 150 --procs 1000 --rate 2 --duration 15 --critical-share 0.05]
 */
import * as net from 'node:net';
import { startAgent } from '../src/harness/agent-process.js';
import { runOverload } from './overload.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const FLOOD = Number(arg('flood', '2000'));
const PROBES = Number(arg('probes', '200'));
const ULIMIT = Number(arg('ulimit', '256'));
const SCENARIO = arg('scenario', 'all');

interface Lat {
  p50: number;
  p99: number;
  max: number;
  failed: number;
}

/** GET /health on a fresh connection; ms, or NaN when it fails or takes over 5 s. */
function probe(url: URL): Promise<number> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect(Number(url.port), url.hostname);
    let got = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok ? performance.now() - t0 : Number.NaN);
    };
    const timer = setTimeout(() => done(false), 5000);
    s.on('connect', () => s.write(`GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    s.on('data', (d) => {
      got += d.toString();
      if (got.includes('\r\n\r\n')) done(got.startsWith('HTTP/1.1 200'));
    });
    s.on('error', () => done(false));
  });
}

async function latencies(url: URL): Promise<Lat> {
  const ms: number[] = [];
  let failed = 0;
  for (let i = 0; i < PROBES; i++) {
    const t = await probe(url);
    if (Number.isNaN(t)) failed++;
    else ms.push(t);
    await new Promise((r) => setTimeout(r, 5));
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))] ?? Number.NaN;
  return { p50: q(0.5), p99: q(0.99), max: ms[ms.length - 1] ?? Number.NaN, failed };
}

async function flood(url: URL, n: number, into: net.Socket[]): Promise<void> {
  for (let done = 0; done < n; done += 100) {
    await Promise.all(
      Array.from(
        { length: Math.min(100, n - done) },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(Number(url.port), url.hostname, () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => resolve());
            into.push(s);
          }),
      ),
    );
  }
}

async function main(): Promise<void> {
  if (SCENARIO === 'all' || SCENARIO === 'flood') await connectionFlood();
  if (SCENARIO === 'all' || SCENARIO === 'overload') {
    await runOverload({
      limitMib: Number(arg('limit-mib', '150')),
      processes: Number(arg('procs', '1000')),
      rate: Number(arg('rate', '2')),
      durationSec: Number(arg('duration', '15')),
      criticalShare: Number(arg('critical-share', '0.05')),
    });
  }
}

async function connectionFlood(): Promise<void> {
  const agent = startAgent(
    ['run', '--no-scan', '--otlp-listen', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--export', 'none'],
    { shell: `ulimit -n ${ULIMIT};` },
  );
  const sockets: net.Socket[] = [];
  try {
    const control = new URL(await agent.controlUrl(10_000));
    const receiver = new URL(String((await agent.waitForLog(/^otlp receiver listening$/, 10_000)).url));
    for (let i = 0; i < 30; i++) await probe(control); // warm-up, not counted
    const base = await latencies(control);
    await Promise.all([flood(control, FLOOD, sockets), flood(receiver, FLOOD, sockets)]);
    const during = await latencies(control);
    const alive = agent.child.exitCode === null;
    const limits = agent.logs().filter((l) => /connection limit reached/.test(String(l.msg)));
    const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(2));
    console.log(`\n/health latency (ms), agent under ulimit -n ${ULIMIT}, ${PROBES} probes each`);
    console.log('                      p50      p99      max   failed');
    console.log(
      `baseline (no flood) ${f(base.p50).padStart(6)} ${f(base.p99).padStart(8)} ${f(base.max).padStart(8)} ${String(base.failed).padStart(8)}`,
    );
    console.log(
      `${FLOOD} idle conns x 2 ${f(during.p50).padStart(6)} ${f(during.p99).padStart(8)} ${f(during.max).padStart(8)} ${String(during.failed).padStart(8)}`,
    );
    console.log(`ratio (flood/baseline) p50 ${f(during.p50 / base.p50)}x, p99 ${f(during.p99 / base.p99)}x`);
    console.log(
      `agent alive: ${alive}; limit lines logged: ${limits.map((l) => `${l.server} (max ${l.maxConnections}, fd limit ${l.fdLimit})`).join(', ') || 'none'}`,
    );
  } finally {
    for (const s of sockets) s.destroy();
    agent.kill();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
