// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config references (${env:X}) are literal text here
/**
 * `nrdot config history | diff`, `nrdot rollback`, `nrdot config apply` (the
 * built CLI): the history is written by real `nrdot run` starts; apply and
 * rollback talk to a real control server, with and without the checked apply.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigHistory } from '../../src/control/config/history/store.js';
import { ConfigLifecycle } from '../../src/control/config/lifecycle.js';
import { generateHost } from '../../src/harness/synth/index.js';
import { type ControlServer, startControlServer } from '../../src/server/http.js';
import { Registry } from '../../src/server/registry.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';
import { StandInEngine } from '../helpers/stand-in-engine.js';
import { FakeAgent } from '../server/fake-agent.js';

const TOKEN = 'history-cli-token-123456';
const tmp = fastTmpDir('nrdot-history-cli-');
const host = path.join(tmp, 'host');
const state = path.join(tmp, 'state');
const SECRET = 'collector-secret-host-9f8e7d';
const cfgA = path.join(tmp, 'a.yaml');
const cfgB = path.join(tmp, 'b.yaml');
const servers: ControlServer[] = [];

beforeAll(async () => {
  await generateHost({ out: host, processes: 40, seed: 9 });
  fs.writeFileSync(cfgA, 'profile: balanced\nexport: [none]\n');
  fs.writeFileSync(
    cfgB,
    'profile: aggressive\nexport: [none]\nopamp:\n  endpoint: "http://${env:NRDOT_T_OPAMP}/v1/opamp"\n',
  );
  const run = (cfg: string) =>
    nrdot(['run', '--once', '--quiet', '--config', cfg, '--proc-root', host, '--state-dir', state], {
      cwd: tmp,
      env: { NRDOT_T_OPAMP: SECRET },
    });
  for (const cfg of [cfgA, cfgB, cfgB]) {
    const r = await run(cfg);
    expect(r.code, r.stderr).toBe(0);
  }
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('nrdot config history / diff', () => {
  it('lists each config a run started with once, the one in effect marked', async () => {
    const r = await nrdot(['config', 'history', '--state-dir', state]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+VERSION\s+APPLIED\s+SOURCE\s+WHO\s+KEY\s+HASH\s+RESULT\s+WHY$/);
    expect(lines[1]).toMatch(
      /^ {3}v1 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d\d:\d\d {2}start +\S+@localhost +- +[0-9a-f]{12} +applied$/,
    );
    expect(lines[2]).toMatch(/^\* {2}v2 +/);
    expect(lines[3]).toBe(`(* = in effect; 2 kept in ${path.join(state, 'config-history')})`);
    const json = JSON.parse((await nrdot(['config', 'history', '--state-dir', state, '--json'])).stdout);
    expect(json.map((v: { version: number; file: string }) => [v.version, v.file])).toEqual([
      [1, cfgA],
      [2, cfgB],
    ]);
  });

  it('diff shows the change as written: the reference, never its value', async () => {
    const r = await nrdot(['config', 'diff', '1', 'v2', '--state-dir', state]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^--- v1\t.* start by \S+ sha256:[0-9a-f]{12}\n\+\+\+ v2\t/);
    expect(r.stdout).toContain(
      [
        '@@ -1,2 +1,4 @@',
        '-profile: balanced',
        '+profile: aggressive',
        ' export: [none]',
        '+opamp:',
        '+  endpoint: "http://${env:NRDOT_T_OPAMP}/v1/opamp"',
        '',
      ].join('\n'),
    );
    expect(r.stdout).not.toContain(SECRET);
    expect((await nrdot(['config', 'diff', '2', '2', '--state-dir', state])).stdout).toMatch(
      /^v2 and v2 are identical \(sha256:[0-9a-f]{12}\)\n$/,
    );
  });

  it('an unknown version or no state dir is exit 2 with the reason', async () => {
    const r = await nrdot(['config', 'diff', '1', '9', '--state-dir', state]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no config version 9 in ${path.join(state, 'config-history')} (kept: v1 to v2)`);
    const none = await nrdot(['config', 'history'], { cwd: tmp });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no state dir to read the config history from: give --state-dir DIR');
  });

  it('a corrupt entry is moved aside with one log line; the rest still lists', async () => {
    const copy = path.join(tmp, 'state-copy');
    fs.cpSync(state, copy, { recursive: true });
    fs.writeFileSync(path.join(copy, 'config-history', 'v000001.json'), '{"kind":"nrdot-config-vers');
    const r = await nrdot(['config', 'history', '--state-dir', copy]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('v2');
    expect(r.stdout).not.toMatch(/\bv1\b/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('config history entry is unusable: moved aside');
  });
});

describe('nrdot rollback / config apply', () => {
  it('--dry-run names the version in effect at a time, from the local history', async () => {
    const versions = new ConfigHistory(path.join(state, 'config-history')).list();
    const between = new Date(versions[1]!.timeMs - 1).toISOString();
    const r = await nrdot(['rollback', '--to-timestamp', between, '--dry-run', '--state-dir', state]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(
        `^would restore v1: applied .* \\(start by \\S+\\), sha256:[0-9a-f]{12}, ${fs.statSync(cfgA).size} bytes\\n$`,
      ),
    );
    const bad = await nrdot(['rollback', '--to-timestamp', 'last tuesday', '--dry-run', '--state-dir', state]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`--to-timestamp expects a time like "2026-12-01 10:30:00"`);
    const both = await nrdot(['rollback', '--to-version', '1', '--to-timestamp', between]);
    expect(both.code).toBe(2);
  });

  it('against an agent that cannot reload yet: exit 1 with its message', async () => {
    const server = await startControlServer({
      listen: '127.0.0.1:0',
      control: new FakeAgent(),
      registry: new Registry(),
      token: TOKEN,
    });
    servers.push(server);
    const r = await nrdot(['config', 'apply', cfgA, '--url', server.url], { env: { NRDOT_TOKEN: TOKEN } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('hot reload is not wired into the engine');
    const rb = await nrdot(['rollback', '--to-version', '1', '--url', server.url], { env: { NRDOT_TOKEN: TOKEN } });
    expect(rb.code).toBe(1);
    expect(rb.stderr).toContain('HTTP 501');
  });

  it('against an agent with the checked apply: applies, refuses a bad file with exit 2, rolls back', async () => {
    const dir = path.join(tmp, 'live');
    fs.mkdirSync(dir);
    const running = loadConfig(cfgA);
    const engine = new StandInEngine(running);
    const history = ConfigHistory.inStateDir(path.join(dir, 'state'));
    const v1 = history.record({ bytes: running.bytes, source: 'start', who: 'root@localhost' });
    const life = new ConfigLifecycle({
      running,
      runningVersion: v1.version,
      build: engine.build,
      healthCycles: 1,
      history,
      env: { NRDOT_T_OPAMP: 'opamp.example:4320' },
    });
    const agent = Object.assign(new FakeAgent(), {
      applyConfig: life.applyConfig.bind(life),
      rollbackConfig: life.rollbackConfig.bind(life),
    });
    const server = await startControlServer({
      listen: '127.0.0.1:0',
      control: agent,
      registry: new Registry(),
      token: TOKEN,
    });
    servers.push(server);
    const env = { NRDOT_TOKEN: TOKEN };
    const ok = await nrdot(['config', 'apply', cfgB, '--url', server.url, '--reason', 'cheaper'], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^applied as v2: sha256:[0-9a-f]{12}\n$/);
    const bad = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(bad, 'profile: nonesuch\n');
    const refused = await nrdot(['config', 'apply', bad, '--url', server.url], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`the agent rejected the request: ${bad}: 'profile': unknown profile 'nonesuch'`);
    expect(engine.running.config.profile).toBe('aggressive');
    const back = await nrdot(['rollback', '--to-version', '1', '--url', server.url], { env });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toMatch(/^applied as v4 \(the bytes of v1\): sha256:/);
    expect(engine.running.bytes.equals(fs.readFileSync(cfgA))).toBe(true);
  });
});
