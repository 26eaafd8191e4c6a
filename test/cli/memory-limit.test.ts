/**
 * The memory limit as a bound, the way it was found: the built CLI with a
 * small `memory.limit_mib`, receiving only, flooded over loopback with
 * 1,000-process requests from several connections at once. Every answer is
 * 200 (whole, or with a partial success) or 503 with Retry-After; the agent
 * stays up and its peak RSS under the limit; what it said it accepted is
 * exactly what reached its engines (nothing accepted and then lost).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Pool } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { procStatus } from '../../src/harness/agent-process.js';
import { HostmetricsSource, POINTS_PER_PROCESS } from '../../src/harness/hostmetrics.js';
import { HostmetricsEncoder } from '../../src/harness/hostmetrics-pb.js';
import { rejectedPointsOf } from '../../src/harness/load.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { REPO, type RunningAgent, startAgent } from '../helpers/cli.js';

const LIMIT_MIB = 140;
const PROCS = 1000;
const SENDERS = 8;
const PER_SENDER = 6;

let agent: RunningAgent | undefined;
const dir = fastTmpDir('nrdot-memlimit-');
afterAll(() => {
  agent?.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

function hwm(pid: number): number {
  const st = procStatus(pid);
  if (!st) throw new Error(`no /proc/${pid}/status: the agent is gone`);
  return st.hwmBytes;
}

describe(`a flood against memory.limit_mib: ${LIMIT_MIB}`, () => {
  it('answers 200 (whole or partial success) or 503 with Retry-After, stays up and under the limit, and loses nothing it accepted', async () => {
    const config = path.join(dir, 'config.yaml');
    fs.writeFileSync(config, `memory:\n  limit_mib: ${LIMIT_MIB}\n  check_interval: 100ms\n`);
    // with the young-generation cap the installed `nrdot` runs with (its shebang; the container's entrypoint)
    const shebang = fs.readFileSync(path.join(REPO, 'src/cli/main.ts'), 'utf8').split('\n')[0]!;
    const nodeFlags = shebang.replace(/^#!\/usr\/bin\/env -S node\s*/, '');
    expect(nodeFlags).toMatch(/^--max-semi-space-size=\d+$/);
    agent = startAgent(['run', '--config', config, '--no-scan', '--otlp-listen', '127.0.0.1:0', '--export', 'none'], {
      env: { NODE_OPTIONS: nodeFlags },
    });
    const control = await agent.controlUrl();
    const receiver = String((await agent.waitForLog(/^otlp receiver listening$/)).url);
    const src = new HostmetricsSource({ processes: PROCS, criticalShare: 0.1, hostName: 'flood-host' });
    const enc = new HostmetricsEncoder(src);
    const pool = new Pool(new URL(receiver).origin, { connections: SENDERS });
    const answers: { status: number; retryAfter?: string; rejected: number }[] = [];
    try {
      await Promise.all(
        Array.from({ length: SENDERS }, async () => {
          for (let i = 0; i < PER_SENDER; i++) {
            try {
              const res = await pool.request({
                path: new URL(receiver).pathname,
                method: 'POST',
                headers: { 'content-type': 'application/x-protobuf' },
                body: enc.encode(Date.now()),
              });
              const body = new Uint8Array(await res.body.arrayBuffer());
              answers.push({
                status: res.statusCode,
                retryAfter: res.headers['retry-after'] as string | undefined,
                rejected: rejectedPointsOf(body, String(res.headers['content-type'])),
              });
            } catch (e) {
              // a refusal before the body is read closes the connection (bodies over 64 KiB are not
              // drained): undici may see its write fail before it reads the 503
              const code = (e as NodeJS.ErrnoException).code;
              expect(['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET']).toContain(code);
              answers.push({ status: 0, rejected: 0 });
            }
          }
        }),
      );
    } finally {
      await pool.close();
    }
    expect(answers).toHaveLength(SENDERS * PER_SENDER);
    for (const a of answers) {
      if (a.status === 200) {
        // only whole non-critical processes are shed: never a critical one, never part of a process
        expect(a.rejected % POINTS_PER_PROCESS).toBe(0);
        expect(a.rejected).toBeLessThanOrEqual(0.9 * PROCS * POINTS_PER_PROCESS);
      } else if (a.status !== 0) {
        expect([429, 503]).toContain(a.status);
        expect(Number(a.retryAfter)).toBeGreaterThan(0);
      }
    }
    const ok = answers.filter((a) => a.status === 200);
    expect(ok.length).toBeGreaterThan(0);
    // the flood is more than the limit holds: some requests were shed or refused
    expect(answers.some((a) => a.rejected > 0 || a.status !== 200)).toBe(true);
    const acceptedProcesses = ok.reduce((n, a) => n + PROCS - a.rejected / POINTS_PER_PROCESS, 0);

    const status = (await (await fetch(`${control}/api/status`)).json()) as {
      receiver: { processResources: number; memory: { shedDataPoints: number; refusedRequests: number } };
      memory: { limitBytes: number; admission: { full: number; critical: number; refused: number } };
    };
    expect(status.receiver.processResources).toBe(acceptedProcesses);
    expect(status.receiver.memory.shedDataPoints).toBe(ok.reduce((n, a) => n + a.rejected, 0));
    // every answer the client did not get as a 200 was a refusal the agent counted (503 or 429)
    const metrics = await (await fetch(`${control}/metrics`)).text();
    const answered = (code: number) =>
      Number(new RegExp(`^nrdot_receiver_requests\\w*\\{status="${code}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
    expect(answered(503) + answered(429)).toBe(answers.length - ok.length);
    expect(answered(200)).toBe(ok.length);
    expect(status.receiver.memory.refusedRequests).toBe(answered(503));
    const adm = status.memory.admission;
    expect(adm.full + adm.critical + adm.refused).toBe(answers.length);
    expect(agent.child.exitCode).toBeNull();
    expect(hwm(agent.child.pid!)).toBeLessThanOrEqual(LIMIT_MIB * 1024 * 1024);
    // tiers were walked one at a time
    const changes = agent.logs().filter((l) => l.from !== undefined && l.to !== undefined);
    const order = ['normal', 'drop_noise', 'drop_standard', 'sample_important', 'critical_only', 'refuse_input'];
    for (const c of changes) {
      expect(Math.abs(order.indexOf(String(c.to)) - order.indexOf(String(c.from)))).toBe(1);
    }
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  }, 120_000);
});
