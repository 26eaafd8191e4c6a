/**
 * End to end through the built CLI: OTLP/HTTP protobuf to a real loopback
 * server, decoded with the official proto definitions; and permission-denied
 * `io` files read as "unknown", never as zero.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import type { SynthTruth } from '../../src/harness/synth/types.js';
import { decodeRequest } from '../../src/otlp/proto.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { CLI, nrdot } from '../helpers/cli.js';
import { startLoopbackServer } from '../helpers/loopback-http.js';
import { attr, isProcess, isRollup, isSelf, metric, pointValue, readRequests } from '../helpers/otlp-file.js';

const tmp = fastTmpDir('nrdot-e2e-');
const host = path.join(tmp, 'host');
let truth: SynthTruth;
beforeAll(async () => {
  truth = await generateHost({ out: host, processes: 400, seed: 21 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('otlp export end to end', () => {
  it('sends gzip protobuf that decodes with the official definitions into hostmetrics-shaped data', async () => {
    const server = await startLoopbackServer();
    try {
      const r = await nrdot(['run', '--once', '--proc-root', host, '--export', `otlp:${server.origin}`]);
      expect(r.code, r.stderr).toBe(0);
      // one request per path (critical, standard, sampled), each under the size limit
      expect(server.requests.length).toBeGreaterThanOrEqual(2);
      for (const got of server.requests) {
        expect(got.url).toBe('/v1/metrics');
        expect(got.headers['content-type']).toBe('application/x-protobuf');
        expect(got.headers['content-encoding']).toBe('gzip');
        expect(gunzipSync(got.body).length).toBeLessThanOrEqual(1_000_000);
      }
      const parts = server.requests.map((got) => decodeRequest(gunzipSync(got.body)));
      // critical data goes first: the first request holds the self-telemetry
      expect(parts[0]!.resourceMetrics.some(isSelf)).toBe(true);
      const req = { resourceMetrics: parts.flatMap((p) => p.resourceMetrics) };
      const procs = req.resourceMetrics.filter(isProcess);
      expect(procs.length).toBeGreaterThan(0);
      for (const rm of procs) {
        const pid = attr(rm, 'process.pid') as number;
        const t = truth.processes.find((p) => p.pid === pid)!;
        expect(attr(rm, 'process.executable.name')).toBe(t.comm);
        expect(attr(rm, 'process.parent_pid')).toBe(t.ppid);
        expect(attr(rm, 'host.name')).toBe(truth.host.hostname);
        expect(['critical', 'important', 'standard', 'noise']).toContain(attr(rm, 'nrdot.tier'));
        expect(pointValue(rm, 'process.memory.usage')).toBe(t.rssBytes);
        expect(pointValue(rm, 'process.cpu.time', 'state', 'user')).toBeCloseTo(t.utimeTicks / truth.clkTck, 9);
        const cpu = metric(rm, 'process.cpu.time')!;
        expect(cpu.sum!.isMonotonic).toBe(true);
        expect(cpu.sum!.aggregationTemporality).toBe(2);
        // cumulative start time = process start
        const startSec = truth.host.btime + t.starttimeTicks / truth.clkTck;
        const startNs = BigInt(cpu.sum!.dataPoints[0]!.startTimeUnixNano!);
        expect(Number(startNs / 1_000_000n)).toBeCloseTo(startSec * 1000, -1);
      }
      expect(req.resourceMetrics.some(isRollup)).toBe(true);
      expect(req.resourceMetrics.some(isSelf)).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('permission-denied io', () => {
  it('leaves process.disk.io out (not zero), counts the denial, and keeps the process', async () => {
    // the critical process whose io the agent may not read
    const victim = truth.processes.find((p) => p.comm === 'redis-server' || p.comm === 'containerd')!;
    expect(victim).toBeDefined();
    const io = path.join(host, String(victim.pid), 'io');
    fs.chmodSync(io, 0o000);
    const out = path.join(tmp, 'denied.jsonl');
    // Root reads anything; without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH
    // (dropped from the bounding set by util-linux setpriv) it gets a real
    // EACCES like any unprivileged agent would.
    const args = [CLI, 'run', '--once', '--proc-root', host, '--export', `file:${out}`];
    const [cmd, argv] =
      process.getuid?.() === 0
        ? ['setpriv', ['--bounding-set=-dac_override,-dac_read_search', '--', process.execPath, ...args]]
        : [process.execPath, args];
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(cmd as string, argv as string[], { stdio: ['ignore', 'ignore', 'pipe'], cwd: tmp });
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      child.on('close', resolve);
    });
    fs.chmodSync(io, 0o444);
    expect(code, stderr).toBe(0);
    const [req] = readRequests(out);
    const rm = req!.resourceMetrics.find((x) => attr(x, 'process.pid') === victim.pid)!;
    expect(rm).toBeDefined();
    expect(metric(rm, 'process.disk.io')).toBeUndefined();
    expect(metric(rm, 'process.memory.usage')).toBeDefined();
    const self = req!.resourceMetrics.find(isSelf)!;
    expect(pointValue(self, 'nrdot.scan.denied')).toBeGreaterThanOrEqual(1);
  });
});
