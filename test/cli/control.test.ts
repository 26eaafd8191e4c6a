/**
 * `nrdot status | metrics | profile get | profile set` (the built CLI)
 * against a real control server on loopback, with a stand-in agent.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.js';
import { AuditLog } from '../../src/server/audit.js';
import { type ControlServer, startControlServer } from '../../src/server/http.js';
import { Registry } from '../../src/server/registry.js';
import { SelfMetrics } from '../../src/server/self-metrics.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';
import { closedPort, startLoopbackServer } from '../helpers/loopback-http.js';
import { FakeAgent } from '../server/fake-agent.js';
import { selfValues } from '../server/fixtures.js';

const TOKEN = 'cli-test-token-5f2b9c';
const NO_ENV_TOKEN = { NRDOT_TOKEN: '' };

let agent: FakeAgent;
let server: ControlServer;
let open: ControlServer;
let dir: string;
let auditFile: string;

beforeAll(async () => {
  agent = new FakeAgent();
  const registry = new Registry();
  new SelfMetrics(registry).update(selfValues(), 'balanced');
  dir = fastTmpDir('nrdot-cli-control-');
  auditFile = path.join(dir, 'audit.jsonl');
  server = await startControlServer({
    listen: '127.0.0.1:0',
    control: agent,
    registry,
    token: TOKEN,
    audit: new AuditLog(auditFile, silentLogger),
  });
  // a second agent whose server has no token: profile changes disabled
  open = await startControlServer({ listen: '127.0.0.1:0', control: new FakeAgent(), registry: new Registry() });
});

const tokenDirs: string[] = [];
afterAll(async () => {
  await server?.close();
  await open?.close();
  for (const d of [dir, ...tokenDirs]) fs.rmSync(d, { recursive: true, force: true });
});

function tokenFile(mode: number, content = `${TOKEN}\n`): string {
  const d = fastTmpDir('nrdot-cli-token-');
  tokenDirs.push(d);
  const f = path.join(d, 'token');
  fs.writeFileSync(f, content);
  fs.chmodSync(f, mode);
  return f;
}

describe('nrdot status', () => {
  it('prints top-level values, then one section per nested object', async () => {
    const r = await nrdot(['status', '--url', server.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'profile: balanced',
        'tiers: critical, important, standard, noise',
        'breaker: closed',
        '',
        'processes:',
        '  seen: 412',
        '  exported: 37',
        '  rolledUp: 375',
        '',
        'cost:',
        '  bytes: 81234',
        '  baselineBytes: 903211',
        '  reduction: 0.91006',
        '',
      ].join('\n'),
    );
  });

  it('--json prints the status as the agent sent it', async () => {
    const r = await nrdot(['status', '--json', '--url', server.url]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(agent.statusValue);
  });

  it('exits 1 and says so when no agent answers', async () => {
    const port = await closedPort();
    const r = await nrdot(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `no nrdot agent answering at http://127.0.0.1:${port} (is \`nrdot run\` running with --listen?)`,
    );
  });

  it('exits 2 for a --url that is not an http URL', async () => {
    const r = await nrdot(['status', '--url', 'ftp://x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--url expects http://HOST:PORT, got 'ftp://x'");
  });
});

describe('nrdot metrics', () => {
  it('prints the exposition text', async () => {
    const r = await nrdot(['metrics', '--url', server.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('# TYPE nrdot_cost_bytes gauge\nnrdot_cost_bytes 81234\n');
    expect(r.stdout).toContain('nrdot_scan_duration_seconds_count 1\n');
  });

  it('--json prints the registry JSON with quantiles', async () => {
    const r = await nrdot(['metrics', '--json', '--url', server.url]);
    expect(r.code).toBe(0);
    const metrics = JSON.parse(r.stdout).metrics as { name: string; samples: Record<string, unknown>[] }[];
    expect(metrics.find((m) => m.name === 'nrdot_cost_bytes')?.samples).toEqual([{ labels: {}, value: 81234 }]);
    const scan = metrics.find((m) => m.name === 'nrdot_scan_duration_seconds')!.samples[0]!;
    expect(scan).toMatchObject({ count: 1, sum: 0.0123, max: 0.0123 });
    expect(scan.p99).toBeCloseTo(0.0123, 3);
  });
});

describe('nrdot profile', () => {
  it('get prints the active profile and the available ones', async () => {
    const r = await nrdot(['profile', 'get', '--url', server.url]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${agent.active}\n(available: conservative, balanced, aggressive, emergency)\n`);
    const j = await nrdot(['profile', 'get', '--json', '--url', server.url]);
    expect(JSON.parse(j.stdout)).toEqual({ active: agent.active, available: agent.available });
  });

  it('set switches with the token from NRDOT_TOKEN and is audited under the token, the local user only as claimed', async () => {
    agent.active = 'balanced';
    const r = await nrdot(['profile', 'set', 'aggressive', '--reason', 'over budget', '--url', server.url], {
      env: { NRDOT_TOKEN: TOKEN },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('profile balanced -> aggressive\n');
    expect(agent.active).toBe('aggressive');
    const last = JSON.parse(fs.readFileSync(auditFile, 'utf8').trim().split('\n').at(-1)!);
    expect(last).toMatchObject({
      who: 'token',
      remote: '127.0.0.1',
      claimed_by: os.userInfo().username,
      requested: 'aggressive',
      reason: 'over budget',
      before: 'balanced',
      after: 'aggressive',
      outcome: 'ok',
    });
  });

  it('set reads --token-file', async () => {
    agent.active = 'aggressive';
    const r = await nrdot(['profile', 'set', 'emergency', '--token-file', tokenFile(0o600), '--url', server.url], {
      env: NO_ENV_TOKEN,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('profile aggressive -> emergency\n');
    expect(agent.active).toBe('emergency');
  });

  it('set refuses a world-readable token file before sending anything', async () => {
    const f = tokenFile(0o644);
    const before = fs.readFileSync(auditFile, 'utf8');
    const r = await nrdot(['profile', 'set', 'balanced', '--token-file', f, '--url', server.url]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`token file ${f} has mode 644: its group can read it, other users can read it`);
    expect(r.stderr).toContain(`chmod 600 ${f}`);
    expect(fs.readFileSync(auditFile, 'utf8')).toBe(before);
  });

  it('set exits 4 (refused, not bad usage) with the server message for a wrong or missing token', async () => {
    agent.active = 'balanced';
    const wrong = await nrdot(['profile', 'set', 'aggressive', '--url', server.url], {
      env: { NRDOT_TOKEN: 'not-it' },
    });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toContain('wrong token');
    expect(wrong.stderr).toContain('[NRDOT_ERR_REFUSED]');
    expect(wrong.stderr).toContain('HTTP 403');
    const none = await nrdot(['profile', 'set', 'aggressive', '--url', server.url], { env: NO_ENV_TOKEN });
    expect(none.code).toBe(4);
    expect(none.stderr).toContain('missing bearer token');
    expect(none.stderr).toContain('pass --token-file FILE or set NRDOT_TOKEN');
    expect(agent.active).toBe('balanced');
  });

  it('set exits 4 when the agent has no token configured (HTTP 403)', async () => {
    const r = await nrdot(['profile', 'set', 'aggressive', '--url', open.url], { env: { NRDOT_TOKEN: TOKEN } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('profile changes are disabled: no token configured');
  });

  it('set exits 2 for an unknown profile, naming the valid ones', async () => {
    const r = await nrdot(['profile', 'set', 'turbo', '--url', server.url], { env: { NRDOT_TOKEN: TOKEN } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown profile 'turbo' (known: conservative, balanced, aggressive, emergency)");
  });

  it('set --for sends the expiry; a bad duration exits 2 naming the flag before anything is sent', async () => {
    agent.active = 'balanced';
    const ok = await nrdot(['profile', 'set', 'aggressive', '--for', '90m', '--url', server.url], {
      env: { NRDOT_TOKEN: TOKEN },
    });
    expect(ok.code, ok.stderr).toBe(0);
    expect(agent.changes.at(-1)).toMatchObject({ name: 'aggressive', expiresInMs: 90 * 60_000 });
    const sent = agent.changes.length;
    for (const bad of ['soon', '0s', '-5m']) {
      const r = await nrdot(['profile', 'set', 'balanced', `--for=${bad}`, '--url', server.url], {
        env: { NRDOT_TOKEN: TOKEN },
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`--for expects a duration like 10s, 500ms or 2m, got '${bad}'`);
    }
    expect(agent.changes).toHaveLength(sent);
  });

  it('set exits 1 when no agent answers', async () => {
    const port = await closedPort();
    const r = await nrdot(['profile', 'set', 'aggressive', '--url', `http://127.0.0.1:${port}`], {
      env: { NRDOT_TOKEN: TOKEN },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no nrdot agent answering at');
  });
});

describe('a refused request to the control API (e.g. an authenticating proxy in front of the agent)', () => {
  it.each([401, 403])('status and metrics exit 4 on HTTP %i, naming the status', async (status) => {
    const proxy = await startLoopbackServer(() => ({
      status,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ error: 'not for you' }),
    }));
    try {
      for (const cmd of [['status'], ['metrics'], ['profile', 'get']]) {
        const r = await nrdot([...cmd, '--url', proxy.origin]);
        expect(r.code, cmd.join(' ')).toBe(4);
        expect(r.stderr).toContain(`the agent refused: not for you (HTTP ${status}) [NRDOT_ERR_REFUSED]`);
      }
    } finally {
      await proxy.close();
    }
  });
});
