/**
 * Bad input in the control-plane sections of a config file: each is a
 * config error (exit 2) whose message names the file and the key, whether
 * the schema or a check after it refuses it. And the same values, good,
 * load.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { NrdotError } from '../../src/core/errors.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';

const tmp = fastTmpDir('nrdot-bad-input-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function write(text: string): string {
  const f = path.join(tmp, `c${++n}.yaml`);
  fs.writeFileSync(f, text);
  return f;
}

function refusal(yaml: string, env: NodeJS.ProcessEnv = {}): { file: string; e: NrdotError } {
  const file = write(yaml);
  try {
    loadConfig(file, { env });
  } catch (e) {
    if (e instanceof NrdotError) return { file, e };
    throw e;
  }
  throw new Error(`expected this config to be refused:\n${yaml}`);
}

/** [yaml, the key the message names, what it says] */
type Case = [string, string, string];

function refusedNaming(cases: Case[]) {
  it.each(cases.map(([yaml, key, why]) => ({ yaml, key, why })))("'$key': $why", ({ yaml, key, why }) => {
    const { file, e } = refusal(yaml);
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(`${file}: '${key}'`);
    expect(e.message).toContain(why);
  });
}

const EXPECTED_URL = 'expected an http:// or https:// URL, or ""';

describe('opamp', () => {
  refusedNaming([
    ['opamp:\n  endpoint: "opamp.example.com"\n', 'opamp.endpoint', EXPECTED_URL],
    ['opamp:\n  endpoint: "ftp://opamp.example.com/v1/opamp"\n', 'opamp.endpoint', EXPECTED_URL],
    ['opamp:\n  endpoint: "http://opamp example.com/v1/opamp"\n', 'opamp.endpoint', EXPECTED_URL],
    ['opamp:\n  endpoint: "http://opamp.example.com:99999/v1/opamp"\n', 'opamp.endpoint', EXPECTED_URL],
    ['opamp:\n  endpoint: "https://u:secret@opamp.example.com/"\n', 'opamp.endpoint', 'credentials in the URL'],
    [
      'opamp:\n  rings: [{ name: canary, weight: 1 }, { name: broad, weight: 9 }, { name: canary, weight: 2 }]\n',
      'opamp.rings.2.name',
      "'canary' is listed twice",
    ],
    ['opamp:\n  rings: [{ name: "can ary", weight: 1 }]\n', 'opamp.rings.0.name', 'ring names are letters, digits'],
    ['opamp:\n  ring: "../etc"\n', 'opamp.ring', 'ring names are letters, digits'],
    ['opamp:\n  rings: [{ name: a, weight: 0 }]\n', 'opamp.rings.0.weight', 'expected number to be >0'],
    ['opamp:\n  poll_interval: 0s\n', 'opamp.poll_interval', 'must be more than 0'],
    ['opamp:\n  poll_interval: 900h\n', 'opamp.poll_interval', 'must be at most 24h'],
    ['opamp:\n  headers: { "bad name": x }\n', 'opamp.headers.bad name', 'not a valid HTTP header name'],
    ['opamp:\n  headers: { "x:y": v }\n', 'opamp.headers.x:y', 'not a valid HTTP header name'],
  ]);

  it('the credentials of a refused endpoint are not in the message', () => {
    expect(refusal('opamp:\n  endpoint: "https://u:secret@opamp.example.com/"\n').e.message).not.toContain('secret');
  });

  it('a header value from the environment holding a newline is refused without showing it', () => {
    const { e } = refusal('opamp:\n  headers: { authorization: "${env:OPAMP_T}" }\n', { OPAMP_T: 'Bearer a\r\nx: y' });
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("'opamp.headers.authorization'");
    expect(e.message).toContain('a header value cannot hold CR, LF or NUL');
    expect(e.message).not.toContain('Bearer a');
  });

  it('good headers load', () => {
    const f = write('opamp:\n  headers: { authorization: "Bearer ${env:OPAMP_T}", x-ring: canary }\n');
    expect(loadConfig(f, { env: { OPAMP_T: 'tok' } }).config.opamp.headers).toEqual({
      authorization: 'Bearer tok',
      'x-ring': 'canary',
    });
  });
});

describe('control.loop', () => {
  refusedNaming([
    [
      'control:\n  loop:\n    emergency_profile: cheapest\n',
      'control.loop.emergency_profile',
      "unknown profile 'cheapest' (known: conservative, balanced, aggressive, emergency)",
    ],
    [
      'control:\n  loop:\n    profiles: [conservative, balanced, conservative]\n',
      'control.loop.profiles.2',
      "'conservative' is listed twice",
    ],
    ['control:\n  loop:\n    profiles: []\n', 'control.loop.profiles', 'expected array to have >=1 items'],
  ]);
});

/** `section.key: value` for each [value, what the refusal says]. */
function values(key: string, list: [string, string][]): Case[] {
  const [section, name] = key.split('.');
  return list.map(([v, why]) => [`${section}:\n  ${name}: ${v}\n`, key, why]);
}

const INT = 'expected int';

describe('reload and config_history', () => {
  refusedNaming([
    ...values('reload.health_check_cycles', [
      ['0', '>=1'],
      ['-3', '>=1'],
      ['2.5', INT],
      ['5000', '<=1000'],
    ]),
    ...values('reload.debounce', [
      ['0s', 'must be more than 0'],
      ['-1s', 'expected a duration like 10s'],
      ['soon', 'expected a duration like 10s'],
      // beyond 2^31 - 1 ms a timer fires at once: 1000h would have reloaded on every write
      ['1000h', 'must be at most 1h'],
    ]),
    ...values('config_history.max_versions', [
      ['0', '>=2'],
      ['1', '>=2'],
      ['2.5', INT],
      ['1000000', '<=10000'],
    ]),
  ]);
});

describe('receiver.max_connections (and server.max_connections)', () => {
  const most = 'at most 1048576';
  refusedNaming([
    ...values('receiver.max_connections', [
      ['0', '>=4'],
      ['-5', '>=4'],
      ['10.5', INT],
      ['many', 'expected number'],
    ]),
    ...values('receiver.max_connections', [['1000000000000', most]]),
    ...values('server.max_connections', [['1e12', most]]),
  ]);
});

describe('scan.history', () => {
  const history = (line: string, key: string, why: string): Case => [`scan:\n  history:\n    ${line}\n`, key, why];
  refusedNaming([
    history('window: 25h', 'scan.history.window', 'at most 24h'),
    history('window: -5', 'scan.history.window', '>0'),
    history('window: soon', 'scan.history.window', 'expected a duration'),
    history('max_mib: 0', 'scan.history.max_mib', '>0'),
    history('max_mib: -1', 'scan.history.max_mib', '>0'),
    history('max_mib: 4097', 'scan.history.max_mib', '<=4096'),
  ]);
  it('an unknown key under it is named; 0, 0s and 24h load', () => {
    const { file, e } = refusal('scan:\n  history:\n    colour: red\n');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(`${file}: unknown key 'scan.history.colour'`);
    for (const w of ['0', '0s', '24h']) {
      expect(loadConfig(write(`scan:\n  history:\n    window: ${w}\n`)).config.scan.history.window).toBe(
        w === '0' ? 0 : w,
      );
    }
  });
});

describe('the good values of the same keys load', () => {
  it('and `nrdot config validate` exits 2 naming the key for a bad one', async () => {
    const good = [
      'opamp:',
      '  endpoint: "https://opamp.example.com:4320/v1/opamp"',
      '  poll_interval: 24h',
      '  rings: [{ name: canary, weight: 1 }, { name: broad, weight: 99 }]',
      'control:',
      '  loop: { profiles: [balanced, aggressive], emergency_profile: emergency }',
      'reload: { health_check_cycles: 1000, debounce: 1h }',
      'config_history: { max_versions: 2 }',
      'receiver: { max_connections: 1048576 }',
      '',
    ].join('\n');
    const c = loadConfig(write(good)).config;
    expect([c.opamp.rings.length, c.reload.debounce, c.receiver.max_connections]).toEqual([2, '1h', 1048576]);
    const bad = write('receiver: { max_connections: 0 }\n');
    const r = await nrdot(['config', 'validate', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}: 'receiver.max_connections'`);
  });
});

describe('profiles.<name>.groups.min_members', () => {
  const key = 'profiles.balanced.groups.min_members';
  const yaml = (v: string) => `profiles:\n  balanced:\n    groups: { budget: 50, min_members: ${v} }\n`;
  refusedNaming([
    [yaml('0'), key, '>=1'],
    [yaml('-1'), key, '>=1'],
    [yaml('2.5'), key, INT],
    [yaml('"abc"'), key, 'expected number'],
  ]);

  it('absent, it is 2 in every profile, a profile the user adds included; a value given is kept', () => {
    const mine = [
      'profiles:',
      '  aggressive:',
      '    groups: { budget: 20, min_members: 1 }',
      '  mine:',
      '    full_resolution_tiers: [critical]',
      '    thresholds: { cpu_percent: null, rss_mib: null }',
      '    top_n: { important: 0, standard: 0, noise: 0 }',
      '    max_series: 1000',
      '    pools: { top_k: 0 }',
      '    groups: { budget: 5 }',
      '    anomaly: { alpha: 0.3, z_threshold: 4, min_samples: 3, relative_jump: 1, noise_fraction: 0.05, min_cpu_percent: 25, min_rss_mib: 2, new_cpu_percent: 100, new_rss_mib: 256, hold: 60s }',
      '',
    ].join('\n');
    const { profiles } = loadConfig(write(mine)).config;
    const got = Object.fromEntries(Object.entries(profiles).map(([n, p]) => [n, p.groups.min_members]));
    expect(got).toEqual({ conservative: 2, balanced: 2, aggressive: 1, emergency: 2, mine: 2 });
  });

  it.each([
    ['config', 'validate'],
    ['run', '--once', '--export', 'none', '--config'],
  ])('`nrdot %s %s` exits 2 naming the key and the file', async (...args) => {
    for (const v of ['0', '-1', '"abc"']) {
      const bad = write(yaml(v));
      const r = await nrdot([...args, bad]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`${bad}: '${key}'`);
    }
  });
});
