/**
 * `nrdot discover` as a user runs it (the built CLI) against fixture roots:
 * the human listing, --json, --render to stdout, and the exit codes and
 * messages for bad flags, files and config keys.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { DiscoveryResult } from '../../src/discovery/types.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import type { HostFixture } from '../discovery/fixture.js';
import { fullHost } from '../discovery/full-host.js';
import { nrdot } from '../helpers/cli.js';

let fx: HostFixture;
let scratch: string;

beforeAll(() => {
  fx = fullHost();
  // a malformed socket line and a dpkg file cut mid-stanza: warnings, not failures
  fs.appendFileSync(path.join(fx.root, 'proc/net/tcp'), '  99: nonsense\n');
  fx.dpkg([{ name: 'redis-server', version: '5:7.0.15-1' }], 'Package: nginx\nStatus: install ok installed\nVer');
  scratch = fastTmpDir('nrdot-disc-cli-');
});
afterAll(() => {
  fx.remove();
  fs.rmSync(scratch, { recursive: true, force: true });
});

describe('nrdot discover', () => {
  it('lists services with confidence, endpoint, config and evidence, and warns about what it could not read', async () => {
    const r = await nrdot(['discover', '--root', fx.root]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /^\d+ processes, \d+ listening sockets \(\/proc\/net\), 1 packages, 0 unit files, read in [\d.]+ s under /,
    );
    expect(r.stdout).toMatch(/^redis\/6379 {2}Redis 7\.0\.15 {2}running {2}confidence 0\.\d\d$/m);
    expect(r.stdout).toMatch(/^ {2}endpoint {2}tcp 127\.0\.0\.1:6379$/m);
    expect(r.stdout).toMatch(/^ {2}config {4}\/etc\/redis\/redis\.conf$/m);
    expect(r.stdout).toMatch(
      /^ {2}evidence {2}process redis-server \(pid \d+\) matches by name, path, cmdline \[\+0\.4\]$/m,
    );
    expect(r.stdout).toMatch(/^haproxy\/admin\.sock {2}HAProxy {2}running/m);
    expect(r.stderr).toContain(`nrdot: warning: ${fx.root}/proc/net/tcp:`);
    expect(r.stderr).toMatch(
      /nrdot: warning: \/var\/lib\/dpkg\/status:\d+: package 'nginx' .* \(the file ends in the middle of it\); ignored/,
    );
  });

  it('--json prints the whole result, problems included, and nothing on stderr', async () => {
    const r = await nrdot(['discover', '--root', fx.root, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const res = JSON.parse(r.stdout) as DiscoveryResult;
    expect(res.root).toBe(fx.root);
    expect(res.services.map((s) => s.service)).toEqual(
      expect.arrayContaining([
        'apache',
        'haproxy',
        'memcached',
        'mongodb',
        'mysql',
        'nginx',
        'postgresql',
        'rabbitmq',
        'redis',
      ]),
    );
    expect(res.problems.map((p) => p.kind).sort()).toEqual(['malformed', 'malformed']);
    expect(res.stats.processes).toBe(9);
  });

  it('--render collector without --out prints the config to stdout', async () => {
    const r = await nrdot(['discover', '--root', fx.root, '--render', 'collector']);
    expect(r.code, r.stderr).toBe(0);
    const cfg = parse(r.stdout);
    expect(Object.keys(cfg.receivers)).toContain('redis/6379');
    expect(cfg.service.pipelines['metrics/processes'].exporters).toEqual(['otlphttp/nrdot']);
  });

  it('takes exporter, nrdot endpoint, interval and threshold from the config file', async () => {
    const conf = path.join(scratch, 'nrdot.yaml');
    fs.writeFileSync(
      conf,
      [
        'discovery:',
        '  min_confidence: 0.99',
        '  collector:',
        '    collection_interval: 30s',
        '    nrdot_endpoint: http://127.0.0.1:14319',
        '    exporter: { endpoint: "https://otlp.example.com:4318", headers: { x-token: "${env:MY_TOKEN}" } }',
        '',
      ].join('\n'),
    );
    const r = await nrdot(['discover', '--root', fx.root, '--render', 'collector', '--config', conf]);
    expect(r.code, r.stderr).toBe(0);
    const cfg = parse(r.stdout);
    expect(cfg.exporters['otlphttp/nrdot'].endpoint).toBe('http://127.0.0.1:14319');
    expect(cfg.exporters['otlphttp/backend']).toMatchObject({
      endpoint: 'https://otlp.example.com:4318',
      headers: { 'x-token': '${env:MY_TOKEN}' },
    });
    expect(cfg.receivers.hostmetrics.collection_interval).toBe('30s');
    // nothing reaches 0.99: only the process pipeline is left
    expect(Object.keys(cfg.receivers)).toEqual(['hostmetrics']);
    expect(r.stdout).toMatch(/^# not rendered: redis\/6379 \(confidence 0\.\d\d < 0\.99\)$/m);
  });
});

describe('nrdot discover: bad input', () => {
  it('refuses a literal header value in the config, naming the key (exit 2)', async () => {
    const conf = path.join(scratch, 'bad.yaml');
    fs.writeFileSync(conf, 'discovery:\n  collector:\n    exporter:\n      headers: { api-key: "abc123" }\n');
    const r = await nrdot(['discover', '--root', fx.root, '--config', conf]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${conf}: 'discovery.collector.exporter.headers.api-key': header values must be \${env:VAR} references`,
    );
  });

  it('names a --root that is not a directory, and one without proc/ (exit 2)', async () => {
    const a = await nrdot(['discover', '--root', path.join(scratch, 'nope')]);
    expect(a.code).toBe(2);
    expect(a.stderr).toContain(`--root ${path.join(scratch, 'nope')}: not a directory`);
    const b = await nrdot(['discover', '--root', scratch]);
    expect(b.code).toBe(2);
    expect(b.stderr).toContain(`--root ${scratch}: ${scratch}/proc is missing`);
  });

  it('names a --diff file that is not YAML, with its line (exit 2)', async () => {
    const bad = path.join(scratch, 'old.yaml');
    fs.writeFileSync(bad, 'receivers:\n  redis: [\n');
    const r = await nrdot(['discover', '--root', fx.root, '--diff', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`--diff ${bad}:\\d+: not valid YAML`));
  });

  it('names an --out it cannot write (exit 2), and an unknown --render value', async () => {
    const r = await nrdot(['discover', '--root', fx.root, '--out', path.join(scratch, 'no/such/dir/c.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out ${path.join(scratch, 'no/such/dir/c.yaml')}: cannot write`);
    const v = await nrdot(['discover', '--render', 'prometheus']);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/option '--render <what>' argument 'prometheus' is invalid/);
  });

  it('warns about a broken user template with file and line, and still discovers', async () => {
    const tdir = path.join(scratch, 'tpl');
    fs.mkdirSync(tdir, { recursive: true });
    fs.writeFileSync(
      path.join(tdir, 'x.yaml'),
      'service: x\nmatch: { names: [x] }\nreceiver:\n  redis:\n    endpoint: ${nope}\n',
    );
    const r = await nrdot(['discover', '--root', fx.root, '--template-dir', tdir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      `nrdot: warning: ${tdir}/x.yaml:5: 'receiver.redis.endpoint': unknown variable '\${nope}'`,
    );
    expect(r.stdout).toMatch(/^redis\/6379 /m);
  });
});
