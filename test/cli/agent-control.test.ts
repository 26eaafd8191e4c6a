/**
 * The control server of a real agent (the built CLI on a synthetic host):
 * readiness, status, a profile switch through `nrdot profile set` with and
 * without the token, the audit log, and /metrics with pull-mode process
 * metrics checked by promtool.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { CLI, nrdot } from '../helpers/cli.js';
import { until } from '../helpers/until.js';

const tmp = fastTmpDir('nrdot-control-');
const host = path.join(tmp, 'host');
const TOKEN = 's3cret-token-for-the-test';
let child: ChildProcess;
let url = '';
let out = '';
let err = '';

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    console.warn('skipped: promtool is not installed (Debian package prometheus; .ci/run installs it)');
    return false;
  }
}

beforeAll(async () => {
  await generateHost({ out: host, processes: 300, seed: 9 });
  const cfg = path.join(tmp, 'agent.yaml');
  fs.writeFileSync(cfg, `server:\n  process_metrics: true\n  audit_log: ${path.join(tmp, 'audit.log')}\n`);
  child = spawn(
    process.execPath,
    [
      CLI,
      'run',
      '--config',
      cfg,
      '--proc-root',
      host,
      '--interval',
      '300ms',
      '--listen',
      '127.0.0.1:0',
      '--export',
      'none',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NRDOT_TOKEN: TOKEN } },
  );
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  await until(
    'the control server',
    () => {
      url = /"url":"(http:\/\/127\.0\.0\.1:\d+)","profileChanges":"enabled/.exec(err)?.[1] ?? '';
      return url !== '';
    },
    { ms: 20_000, context: () => `stderr:\n${err}` },
  );
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('a running agent', () => {
  it('is ready after its first cycle, and nrdot status shows it', async () => {
    for (let i = 0; i < 100; i++) {
      const r = await request(`${url}/health/ready`);
      await r.body.text();
      if (r.statusCode === 200) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const r = await nrdot(['status', '--url', url, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const st = JSON.parse(r.stdout);
    expect(st.profile.active).toBe('balanced');
    expect(st.lastCycle.processes).toBe(300);
    expect(st.memory.tierName).toBe('normal');
  });

  it('switches profiles only with the token, and audits both attempts', async () => {
    const denied = await nrdot(['profile', 'set', 'aggressive', '--url', url], { env: { NRDOT_TOKEN: 'wrong' } });
    expect(denied.code).toBe(4);
    const ok = await nrdot(['profile', 'set', 'aggressive', '--url', url, '--reason', 'budget'], {
      env: { NRDOT_TOKEN: TOKEN },
    });
    expect(ok.code, ok.stderr).toBe(0);
    const get = await nrdot(['profile', 'get', '--url', url]);
    expect(get.stdout).toContain('aggressive');
    // the next cycles run the new profile
    await until('a cycle on aggressive', () => /\[aggressive\]/.test(out), { context: () => `stdout:\n${out}` });
    const audit = fs.readFileSync(path.join(tmp, 'audit.log'), 'utf8');
    const lines = audit
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.outcome)).toEqual(['forbidden', 'ok']);
    expect(lines[0]).toMatchObject({ who: 'unauthenticated', remote: '127.0.0.1' });
    // "who" is the token the agent holds (from the environment here), the CLI's user only claimed_by
    expect(lines[1]).toMatchObject({
      who: 'env:NRDOT_TOKEN',
      before: 'balanced',
      after: 'aggressive',
      reason: 'budget',
    });
    expect(audit).not.toContain(TOKEN);
    expect(err).not.toContain(TOKEN);
  });

  it.skipIf(!hasPromtool())(
    'serves per-process metrics of exported processes on /metrics, valid for promtool',
    async () => {
      const text = await (await request(`${url}/metrics`)).body.text();
      expect(text).toMatch(/^process_memory_usage_bytes\{pid="\d+",name="[^"]*",tier="critical"\} \d+/m);
      expect(text).toMatch(/^process_cpu_time_seconds_total\{.*state="user".*\} [\d.e+-]+/m);
      expect(text).toMatch(/^nrdot_processes_seen 300$/m);
      // the agent's own process metrics and build info, as Prometheus exporters serve them
      expect(text).toMatch(
        /^nrdot_build_info\{version="\d+\.\d+\.\d+[^"]*",node="v\d+[^"]*",backend="(native|ts)"\} 1$/m,
      );
      for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_open_fds']) {
        expect(text).toMatch(new RegExp(`^${name} [\\d.e+]+$`, 'm'));
      }
      execFileSync('promtool', ['check', 'metrics'], { input: text });
    },
  );
});
