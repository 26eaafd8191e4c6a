/**
 * `nrdot run` with service discovery, as a user runs it (the built CLI on a
 * synthetic host root whose redis and nginx masters listen): the start line
 * says whether discovery runs and why, services that appear are logged,
 * `nrdot status` lists them, the export carries them once discovered;
 * `--no-discovery` and a bad `discovery.enabled` value (when auto turns it
 * on or off is test/agent/discovery.test.ts's discoveryDecision table).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fastTmpDir } from '../../src/util/tmp.js';
import { CLI, nrdot } from '../helpers/cli.js';
import { attr, readRequests } from '../helpers/otlp-file.js';
import { type SynthService, synthServiceHost } from '../helpers/synth-services.js';

const tmp = fastTmpDir('nrdot-disc-run-');
const root = path.join(tmp, 'host');
let procRoot: string;
let services: SynthService[];
let cfg: string;

beforeAll(async () => {
  ({ procRoot, services } = await synthServiceHost(root, { processes: 300, seed: 7 }));
  cfg = path.join(tmp, 'agent.yaml');
  fs.writeFileSync(cfg, `discovery:\n  root: ${root}\n  interval: 2s\n`);
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const startLine = (stderr: string) =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => 'configFiles' in l);

describe('nrdot run with discovery', () => {
  it('runs discovery under discovery.root, logs what appears, and nrdot status lists it', async () => {
    const out = path.join(tmp, 'run.jsonl');
    const child: ChildProcess = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--config',
        cfg,
        '--proc-root',
        procRoot,
        '--interval',
        '500ms',
        '--listen',
        '127.0.0.1:0',
        '--export',
        `file:${out}`,
        '--log-format',
        'json',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const closed = new Promise<number | null>((r) => child.once('close', r));
    try {
      let url = '';
      for (let i = 0; i < 400 && !url; i++) {
        url = /"url":"(http:\/\/127\.0\.0\.1:\d+)","profileChanges"/.exec(err)?.[1] ?? '';
        if (!url) await new Promise((r) => setTimeout(r, 50));
      }
      expect(url, err).not.toBe('');
      expect(startLine(err)).toMatchObject({ discovery: `on (auto: scanning ${procRoot})` });
      // the first discovery ends in the background; then status lists the services
      let st: { discovery: { runs: number } } | undefined;
      for (let i = 0; i < 600; i++) {
        const r = await request(`${url}/api/status`);
        st = (await r.body.json()) as typeof st;
        if (st!.discovery.runs > 0) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      expect(st!.discovery.runs).toBeGreaterThan(0);
      const human = await nrdot(['status', '--url', url]);
      expect(human.code, human.stderr).toBe(0);
      const [redis, nginx] = services;
      expect(human.stdout).toMatch(
        new RegExp(
          `^\\s+redis\\s+-\\s+127\\.0\\.0\\.1:6379\\s+0\\.\\d\\d\\s+running\\s+${redis!.pid}\\s+redis/6379$`,
          'm',
        ),
      );
      expect(human.stdout).toMatch(
        new RegExp(
          `^\\s+nginx\\s+-\\s+127\\.0\\.0\\.1:8080\\s+0\\.\\d\\d\\s+running\\s+${nginx!.pid}\\s+nginx/8080$`,
          'm',
        ),
      );
      // a cycle after the discovery exports them
      for (let i = 0; i < 600; i++) {
        const reqs = fs.existsSync(out) ? readRequests(out) : [];
        if (reqs.some((q) => q.resourceMetrics.some((rm) => attr(rm, 'service.instance.id') === 'redis/6379'))) break;
        await new Promise((res) => setTimeout(res, 50));
      }
      const last = readRequests(out).at(-1)!;
      expect(last.resourceMetrics.find((rm) => attr(rm, 'service.instance.id') === 'redis/6379')).toBeDefined();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await closed).toBe(0);
    const appeared = err
      .split('\n')
      .filter((l) => l.includes('"service appeared"'))
      .map((l) => JSON.parse(l) as { id: string });
    expect(appeared.map((l) => l.id)).toEqual(expect.arrayContaining(['redis/6379', 'nginx/8080']));
  });

  it('--no-discovery: off, said at start, nothing discovered is exported', async () => {
    const out = path.join(tmp, 'off.jsonl');
    const r = await nrdot([
      'run',
      '--once',
      '--no-discovery',
      '--config',
      cfg,
      '--proc-root',
      procRoot,
      '--export',
      `file:${out}`,
      '--log-format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(startLine(r.stderr)).toMatchObject({ discovery: 'off (--no-discovery)' });
    expect(r.stderr).not.toContain('service appeared');
    expect(readRequests(out)[0]!.resourceMetrics.some((rm) => attr(rm, 'service.instance.id') !== undefined)).toBe(
      false,
    );
  });

  it('a bad discovery.enabled is exit 2 naming the key', async () => {
    const bad = path.join(tmp, 'bad.yaml');
    fs.writeFileSync(bad, 'discovery:\n  enabled: sometimes\n');
    const r = await nrdot(['run', '--once', '--config', bad, '--export', 'none']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/discovery\.enabled/);
    expect(r.stderr).toMatch(/expected true, false or auto/);
  });
});
