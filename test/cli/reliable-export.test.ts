/**
 * Reliable export end to end: the built CLI exporting to a real HTTP server
 * on loopback that fails in the ways backends fail. Every cycle is also
 * written to a file sink, which is the record of what the agent accepted;
 * the test checks that every resource of every accepted cycle reaches the
 * backend.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import type { ExportMetricsServiceRequest, ResourceMetrics } from '../../src/otlp/model.js';
import { decodeRequest } from '../../src/otlp/proto.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { CLI, nrdot } from '../helpers/cli.js';
import { type LoopbackServer, type ReceivedRequest, startLoopbackServer } from '../helpers/loopback-http.js';
import { attr, readRequests } from '../helpers/otlp-file.js';

const tmp = fastTmpDir('nrdot-reliable-');
const host = path.join(tmp, 'host');
const config = path.join(tmp, 'fast-retry.yaml');

beforeAll(async () => {
  await generateHost({ out: host, processes: 300, seed: 5 });
  // quick retries so the tests take seconds, not minutes
  fs.writeFileSync(
    config,
    [
      'export_options:',
      '  otlp:',
      '    timeout: 2s',
      '    retry: { initial_interval: 50ms, max_interval: 400ms, max_attempts: 3, max_elapsed: 5s }',
      '    breaker: { failure_threshold: 3, open_time: 200ms, max_open_time: 1s }',
      '    shutdown_drain: 15s',
      'memory: { limit_mib: 0, check_interval: 1s, hysteresis: 0.05 }',
      '',
    ].join('\n'),
  );
  // every metric on: standard data outweighs critical data, as on a busy host with a rich metric set
  fs.writeFileSync(
    richConfig,
    `${fs.readFileSync(config, 'utf8')}metrics:\n${[
      'process.cpu.utilization',
      'process.threads',
      'process.open_file_descriptors',
      'process.paging.faults',
      'process.context_switches',
      'process.uptime',
    ]
      .map((m) => `  ${m}: { enabled: true }`)
      .join('\n')}\n`,
  );
});
afterAll(() => {
  const mnt = path.join(tmp, 'tiny');
  try {
    execFileSync('umount', [mnt], { stdio: 'ignore' });
  } catch {
    // not mounted
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** `run` on the test host with the quick-retry config; the rest of the arguments follow. */
const richConfig = path.join(tmp, 'rich.yaml');
const agent = (cfg = config) => ['run', '--config', cfg, '--proc-root', host];

/** A resource's identity within one cycle: pid (or roll-up / self) and its time stamp. */
function key(rm: ResourceMetrics): string {
  const pid = attr(rm, 'process.pid');
  const name = attr(rm, 'process.executable.name') ?? attr(rm, 'service.name');
  const tier = attr(rm, 'nrdot.tier');
  const m = rm.scopeMetrics[0]?.metrics[0];
  const t = m?.gauge?.dataPoints[0]?.timeUnixNano ?? m?.sum?.dataPoints[0]?.timeUnixNano;
  return `${pid ?? '-'}|${name}|${tier ?? '-'}|${t}`;
}

function received(reqs: ReceivedRequest[], ok: (r: ReceivedRequest) => boolean): ExportMetricsServiceRequest[] {
  return reqs.filter(ok).map((r) => decodeRequest(gunzipSync(r.body)));
}

function missing(accepted: ExportMetricsServiceRequest[], got: ExportMetricsServiceRequest[]): string[] {
  const have = new Set(got.flatMap((q) => q.resourceMetrics.map(key)));
  return accepted.flatMap((q) => q.resourceMetrics.map(key)).filter((k) => !have.has(k));
}

/**
 * Restart the agent for one cycle on `queueDir` against a healthy backend on
 * `port` (the same endpoint, so the same queue subdirectory) and return what
 * the backend got, with the agent's stderr.
 */
async function restartAndCollect(
  queueDir: string,
  port: number,
  fullDisk = false,
): Promise<{ got: ExportMetricsServiceRequest[]; stderr: string }> {
  const healthy = await startLoopbackServer(undefined, port);
  try {
    const r = await nrdot([...agent(), '--once', '--export', `otlp:${healthy.origin}`, '--queue-dir', queueDir]);
    if (fullDisk && r.code === 3) {
      // the new cycle may meet the disk still full of backlog: it is dropped, and the run says so
      expect(r.stderr).toMatch(/not all accepted data was delivered: .*dropped by the queue/);
    } else {
      expect(r.code, r.stderr).toBe(0);
    }
    return { got: received(healthy.requests, () => true), stderr: r.stderr };
  } finally {
    await healthy.close();
  }
}

describe('reliable export', () => {
  it('a backend that answers 503 for a while, then 200: every data point arrives', async () => {
    let failures = 0;
    const answered = new WeakSet<ReceivedRequest>();
    const server = await startLoopbackServer((r) => {
      if (failures < 5) {
        failures++;
        return { status: 503 };
      }
      answered.add(r);
      return { status: 200 };
    });
    const file = path.join(tmp, 'a.jsonl');
    try {
      const r = await nrdot([
        ...agent(),
        '--cycles',
        '6',
        '--interval',
        '300ms',
        '--export',
        `file:${file}`,
        '--export',
        `otlp:${server.origin}`,
        '--queue-dir',
        path.join(tmp, 'qa'),
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(failures).toBe(5);
      const accepted = readRequests(file);
      expect(accepted).toHaveLength(6);
      const got = received(server.requests, (q) => answered.has(q));
      expect(missing(accepted, got)).toEqual([]);
      const points = (qs: ExportMetricsServiceRequest[]) =>
        qs.flatMap((q) => q.resourceMetrics).flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics)).length;
      expect(points(got)).toBeGreaterThanOrEqual(points(accepted));
    } finally {
      await server.close();
    }
  }, 60_000);

  it('429 with Retry-After: 2 makes the next attempt wait at least 2 s', async () => {
    const at: number[] = [];
    let throttledAt = 0;
    const server = await startLoopbackServer(() => {
      at.push(Date.now());
      if (throttledAt === 0) {
        throttledAt = Date.now();
        return { status: 429, headers: { 'retry-after': '2' } };
      }
      return { status: 200 };
    });
    // one sender, so every request after the first was sent after the 429
    // had been read (with two, one may already be on the wire beside it)
    const oneConnection = path.join(tmp, 'one-connection.yaml');
    fs.writeFileSync(
      oneConnection,
      fs.readFileSync(config, 'utf8').replace('    timeout: 2s\n', '    timeout: 2s\n    connections: 1\n'),
    );
    try {
      const r = await nrdot([...agent(oneConnection), '--once', '--export', `otlp:${server.origin}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(at.length).toBeGreaterThanOrEqual(2);
      for (const t of at.slice(1)) expect(t - throttledAt).toBeGreaterThanOrEqual(1999);
      // the throttled request was delivered in the end
      expect(server.requests.length).toBe(at.length);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('kill -9 during export, restart on the same queue dir: everything accepted before the kill arrives', async () => {
    const queueDir = path.join(tmp, 'qk');
    const file = path.join(tmp, 'k.jsonl');
    // phase 1: the backend never answers; the agent is killed mid-request
    const hanging = await startLoopbackServer(() => 'hang');
    let child: ChildProcess | undefined;
    let cyclesDone = 0;
    try {
      child = spawn(
        process.execPath,
        [
          CLI,
          ...agent(),
          '--interval',
          '200ms',
          '--listen',
          'off',
          '--export',
          `file:${file}`,
          '--export',
          `otlp:${hanging.origin}`,
          '--queue-dir',
          queueDir,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
      });
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`agent made no progress: ${err}`)), 30_000);
        child!.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          cyclesDone = out.split('\n').filter((l) => l.startsWith('cycle ')).length;
          if (cyclesDone >= 5 && hanging.requests.length > 0) {
            clearTimeout(t);
            resolve();
          }
        });
      });
      child.kill('SIGKILL');
      await new Promise((resolve) => child!.once('close', resolve));
    } finally {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await hanging.close();
    }
    // a cycle whose summary line was printed had finished exporting (queued)
    const accepted = readRequests(file).slice(0, cyclesDone);
    expect(accepted.length).toBe(cyclesDone);

    // phase 2: the backend (same address) is healthy; the restarted agent sends the backlog first
    const { got, stderr } = await restartAndCollect(queueDir, hanging.port);
    expect(stderr).toContain('export queue holds data from before');
    expect(missing(accepted, got)).toEqual([]);
  }, 90_000);
});

describe('reliable export on a full disk', () => {
  const isRoot = process.getuid?.() === 0;
  const mnt = path.join(tmp, 'tiny');
  let mounted = false;
  if (!isRoot) console.warn('skipped: the small-tmpfs disk-full test needs root to mount a tmpfs');

  it.skipIf(!isRoot)(
    'a tiny tmpfs fills up: no crash, drops counted, critical data kept and delivered',
    async () => {
      fs.mkdirSync(mnt, { recursive: true });
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=96k', 'tmpfs', mnt]);
        mounted = true;
      } catch (e) {
        console.warn(`skipped: could not mount a tmpfs (${(e as Error).message})`);
        return;
      }
      const server: LoopbackServer = await startLoopbackServer(() => ({ status: 503 }));
      const file = path.join(tmp, 'full.jsonl');
      try {
        const r = await nrdot([
          ...agent(richConfig),
          '--profile',
          'conservative',
          '--cycles',
          '12',
          '--interval',
          '50ms',
          '--export',
          `file:${file}`,
          '--export',
          `otlp:${server.origin}`,
          '--queue-dir',
          mnt,
          '--log-level',
          'warn',
        ]);
        // data was dropped for want of space: the bounded run says so and exits 3
        expect(r.code, r.stderr).toBe(3);
        expect(r.stderr).toMatch(/evicted|disk_full|refused/);
        expect(r.stderr).toMatch(/not all accepted data was delivered: .*dropped by the queue \((cap|disk_full)\)/);
      } finally {
        await server.close();
      }
      const accepted = readRequests(file);
      const critical = accepted.map((q) => ({
        resourceMetrics: q.resourceMetrics.filter(
          (rm) => attr(rm, 'nrdot.tier') === 'critical' || attr(rm, 'service.name') === 'nrdot',
        ),
      }));
      try {
        const { got } = await restartAndCollect(mnt, server.port, true);
        expect(missing(critical, got)).toEqual([]);
      } finally {
        if (mounted) execFileSync('umount', [mnt]);
      }
    },
    90_000,
  );
});
