/**
 * Hot reload through the built CLI, as an operator does it: `kill -HUP`
 * after editing the --config file, an edit picked up by the file watch,
 * `nrdot config apply FILE` with the token, a config whose OTLP endpoint
 * refuses rolled back by itself and shown as such by `nrdot config history`;
 * the agent's pid never changes.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import { generateHost } from '../../src/harness/synth/index.js';
import { encodeRequest } from '../../src/otlp/proto.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot, type RunningAgent, startAgent } from '../helpers/cli.js';
import { until } from '../helpers/until.js';

const tmp = fastTmpDir('nrdot-cli-reload-');
const host = path.join(tmp, 'host');
const TOKEN = 'cli-reload-token';
let agent: RunningAgent | undefined;

beforeAll(async () => {
  await generateHost({ out: host, processes: 80, seed: 4 });
}, 60_000);
afterEach(() => agent?.kill());
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** stdout summary lines' profiles, in order */
const profiles = (a: RunningAgent) => [...a.stdout().matchAll(/^cycle \d+ \[(\w+)\]/gm)].map((m) => m[1]);

/** a wait for the agent, its stderr shown when it times out */
const untilAgent = (what: string, ok: () => boolean) =>
  until(what, ok, { ms: 30_000, context: () => `stderr:\n${agent?.stderr()}` });

function yaml(dir: string, o: { profile?: string; watch?: boolean; export?: string[] } = {}): string {
  return [
    `profile: ${o.profile ?? 'balanced'}`,
    `export: ${JSON.stringify(o.export ?? [`file:${path.join(dir, 'out.jsonl')}`])}`,
    `state_dir: ${path.join(dir, 'state')}`,
    'interval: 400ms',
    'server:',
    `  audit_log: ${path.join(dir, 'audit.log')}`,
    'reload:',
    `  watch: ${o.watch ?? false}`,
    '  debounce: 100ms',
    '  health_check_cycles: 3',
    '',
  ].join('\n');
}

function start(dir: string, cfg: string): RunningAgent {
  return startAgent(['run', '--config', cfg, '--proc-root', host, '--listen', '127.0.0.1:0'], {
    env: { NRDOT_TOKEN: TOKEN },
  });
}

describe('hot reload of nrdot run', () => {
  it('SIGHUP reloads the edited file; config apply with a refusing endpoint is rolled back and shows in config history', async () => {
    const dir = path.join(tmp, 'hup');
    fs.mkdirSync(dir);
    const cfg = path.join(dir, 'agent.yaml');
    fs.writeFileSync(cfg, yaml(dir));
    agent = start(dir, cfg);
    const a = agent;
    const pid = a.child.pid;
    const url = await a.controlUrl();
    await untilAgent('a first cycle', () => profiles(a).length >= 1);

    fs.writeFileSync(cfg, yaml(dir, { profile: 'aggressive' }));
    a.child.kill('SIGHUP');
    const hup = await a.waitForLog(/^config reloaded from its file$/);
    expect(hup).toMatchObject({ source: 'sighup', outcome: 'applied', version: 2 });
    await untilAgent('a cycle on the new profile', () => profiles(a).includes('aggressive'));
    expect(profiles(a).indexOf('aggressive')).toBeGreaterThan(0);
    // v2 proves healthy first: a rollback restores the last config that passed its health check
    await untilAgent('v2 passing its health check', () =>
      a
        .stderr()
        .split('\n')
        .some((l) => l.includes('"msg":"config passed its health check"') && l.includes('"version":2')),
    );

    // an endpoint nothing listens on: exports fail, the health check rolls it back
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as net.AddressInfo).port;
    await new Promise((r) => s.close(r));
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(
      bad,
      yaml(dir, {
        profile: 'aggressive',
        export: [`file:${path.join(dir, 'out.jsonl')}`, `otlp:http://127.0.0.1:${port}`],
      }),
    );
    const apply = await nrdot(['config', 'apply', bad, '--url', url, '--reason', 'new backend'], {
      env: { NRDOT_TOKEN: TOKEN },
    });
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/^applied as v3: sha256:/);
    const rolled = await a.waitForLog(/^config rolled back$/);
    expect(rolled).toMatchObject({ failedVersion: 3, restored: 2, version: 4 });
    expect(String(rolled.reason)).toMatch(/export failures/);

    const hist = await nrdot(['config', 'history', '--state-dir', path.join(dir, 'state'), '--json']);
    expect(hist.code, hist.stderr).toBe(0);
    const versions = JSON.parse(hist.stdout) as { version: number; source: string; result: string; error?: string }[];
    expect(versions.map((v) => [v.version, v.source, v.result])).toEqual([
      [1, 'start', 'applied'],
      [2, 'sighup', 'applied'],
      [3, 'api', 'rolled_back'],
      [4, 'rollback', 'applied'],
    ]);
    const table = await nrdot(['config', 'history', '--state-dir', path.join(dir, 'state')]);
    expect(table.stdout).toMatch(/rolled_back: export failures/);
    expect(a.child.exitCode).toBeNull();
    expect(a.child.pid).toBe(pid);
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
  }, 90_000);

  it('--no-scan: received batches are the cycles that judge a reload', async () => {
    const dir = path.join(tmp, 'noscan');
    fs.mkdirSync(dir);
    const cfg = path.join(dir, 'agent.yaml');
    fs.writeFileSync(cfg, yaml(dir));
    agent = startAgent(['run', '--config', cfg, '--no-scan', '--otlp-listen', '127.0.0.1:0', '--listen', 'off']);
    const a = agent;
    const rx = String((await a.waitForLog(/^otlp receiver listening$/)).url);
    const src = new HostmetricsSource({ processes: 50, hostName: 'rx-host', seed: 3, nowMs: 1_790_000_000_000 });
    const post = async (k: number) => {
      const res = await fetch(rx, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body: encodeRequest(src.request(1_790_000_000_000 + k * 10_000)),
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    };
    await post(0);
    fs.writeFileSync(cfg, yaml(dir, { profile: 'aggressive' }));
    a.child.kill('SIGHUP');
    expect(await a.waitForLog(/^config reloaded from its file$/)).toMatchObject({ version: 2 });
    // health_check_cycles: 3 received batches after the reload judge it
    for (let k = 1; k <= 3; k++) await post(k);
    expect(await a.waitForLog(/^config passed its health check$/)).toMatchObject({ version: 2 });
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
  }, 60_000);

  it('an edit of the --config file is applied by the watch; an invalid edit is refused and the agent goes on', async () => {
    const dir = path.join(tmp, 'watch');
    fs.mkdirSync(dir);
    const cfg = path.join(dir, 'agent.yaml');
    fs.writeFileSync(cfg, yaml(dir, { watch: true }));
    agent = start(dir, cfg);
    const a = agent;
    await untilAgent('a first cycle', () => profiles(a).length >= 1);
    fs.writeFileSync(cfg, `${yaml(dir, { watch: true })}turbo: true\n`);
    const refused = await a.waitForLog(/^config refused; the running config stays$/);
    expect(String(refused.error)).toMatch(/unknown key 'turbo'/);
    // rename over the file, as editors and config management do
    fs.writeFileSync(`${cfg}.tmp`, yaml(dir, { watch: true, profile: 'emergency' }));
    fs.renameSync(`${cfg}.tmp`, cfg);
    const ok = await a.waitForLog(/^config reloaded from its file$/);
    expect(ok).toMatchObject({ source: 'file', outcome: 'applied' });
    await untilAgent('a cycle on the new profile', () => profiles(a).includes('emergency'));
    expect(
      profiles(a)
        .slice(0, profiles(a).indexOf('emergency'))
        .every((p) => p === 'balanced'),
    ).toBe(true);
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
  }, 90_000);
});
