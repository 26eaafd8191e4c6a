/**
 * PUT /api/config and PUT /api/config/rollback on a real control server:
 * without an applier (today's agent) they answer 501; with the checked apply
 * (ConfigLifecycle over a stand-in engine) they apply and roll back.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigHistory } from '../../src/control/config/history/store.js';
import { ConfigLifecycle } from '../../src/control/config/lifecycle.js';
import { silentLogger } from '../../src/core/log.js';
import { AuditLog } from '../../src/server/audit.js';
import { type ControlServer, startControlServer } from '../../src/server/http.js';
import { Registry } from '../../src/server/registry.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { StandInEngine } from '../helpers/stand-in-engine.js';
import { FakeAgent } from './fake-agent.js';

const TOKEN = 'cfg-api-token-0123456789';
const tmp = fastTmpDir('nrdot-config-api-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const open: ControlServer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

let n = 0;
async function start(opts: { applier?: boolean; token?: string | null; configBodyLimit?: number } = {}) {
  const dir = path.join(tmp, `s${n++}`);
  fs.mkdirSync(dir, { recursive: true });
  const agent = new FakeAgent();
  let engine: StandInEngine | undefined;
  let history: ConfigHistory | undefined;
  if (opts.applier) {
    const f = path.join(dir, 'start.yaml');
    fs.writeFileSync(f, 'profile: balanced\n');
    const running = loadConfig(f);
    engine = new StandInEngine(running);
    history = ConfigHistory.inStateDir(path.join(dir, 'state'));
    const v = history.record({ bytes: running.bytes, source: 'start', who: 'root@localhost' });
    const life = new ConfigLifecycle({
      running,
      runningVersion: v.version,
      build: engine.build,
      healthCycles: 2,
      history,
    });
    Object.assign(agent, {
      applyConfig: life.applyConfig.bind(life),
      rollbackConfig: life.rollbackConfig.bind(life),
    });
  }
  const auditFile = path.join(dir, 'audit.log');
  const server = await startControlServer({
    listen: '127.0.0.1:0',
    control: agent,
    registry: new Registry(),
    ...(opts.token === null ? {} : { token: opts.token ?? TOKEN, tokenIdentity: 'token:ops.token' }),
    audit: new AuditLog(auditFile, silentLogger),
    ...(opts.configBodyLimit ? { configBodyLimit: opts.configBodyLimit } : {}),
  });
  open.push(server);
  const audit = () =>
    fs.existsSync(auditFile)
      ? fs
          .readFileSync(auditFile, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
      : [];
  return { server, engine, history, audit };
}

async function put(url: string, route: string, body: unknown, token: string | null = TOKEN) {
  const res = await request(`${url}${route}`, {
    method: 'PUT',
    headers: {
      'content-type': 'application/json',
      'x-nrdot-user': 'alice',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('PUT /api/config without a reloading agent', () => {
  it('answers 501 saying why, and audits the request', async () => {
    const s = await start();
    const r = await put(s.server.url, '/api/config', { config_base64: b64('profile: aggressive\n'), reason: 'try' });
    expect(r.status).toBe(501);
    expect(r.json.error).toBe(
      'this agent cannot change its config while running yet (hot reload is not wired into the engine): restart it with the new config',
    );
    const rb = await put(s.server.url, '/api/config/rollback', { version: 1 });
    expect(rb.status).toBe(501);
    expect(s.audit().map((a) => [a.action, a.outcome, a.status, a.who])).toEqual([
      ['config.apply', 'unavailable', 501, 'token:ops.token'],
      ['config.rollback', 'unavailable', 501, 'token:ops.token'],
    ]);
  });

  it('needs the token first: 401 without, 403 with a wrong one or when none is configured', async () => {
    const s = await start();
    const body = { config_base64: b64('profile: x\n') };
    const none = await put(s.server.url, '/api/config', body, null);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="nrdot"');
    expect((await put(s.server.url, '/api/config', body, 'wrong')).status).toBe(403);
    const off = await start({ token: null });
    const disabled = await put(off.server.url, '/api/config', body);
    expect(disabled.status).toBe(403);
    expect(disabled.json.error).toContain('config changes are disabled: no token configured');
    expect(s.audit().map((a) => a.outcome)).toEqual(['unauthorized', 'forbidden']);
  });

  it('400 for bodies it cannot use, 413 past the limit', async () => {
    const s = await start({ configBodyLimit: 4096 });
    const cases: [unknown, string][] = [
      ['{not json', 'body is not valid JSON'],
      [[1], 'body must be a JSON object'],
      [{ config_base64: 'a b c' }, '"config_base64" must be the config file in base64'],
      [{ config_base64: b64('x: 1\n'), signature: 5 }, '"signature" must be a string'],
      [{ config_base64: b64('x: 1\n'), reason: [] }, '"reason" must be a string'],
    ];
    for (const [body, msg] of cases) {
      const r = await put(s.server.url, '/api/config', body);
      expect(r.status, msg).toBe(400);
      expect(String(r.json.error)).toContain(msg);
    }
    for (const [body, msg] of [
      [{ version: 0 }, '"version" must be a whole number >= 1'],
      [{ timestamp: '2026-12-01 10:30:00' }, '"timestamp" must be an ISO 8601 time with a zone'],
      [{ version: 1, timestamp: '2026-12-01T10:30:00Z' }, 'give exactly one of "version" and "timestamp"'],
      [{}, 'give exactly one of'],
    ] as [unknown, string][]) {
      const r = await put(s.server.url, '/api/config/rollback', body);
      expect(r.status, msg).toBe(400);
      expect(String(r.json.error)).toContain(msg);
    }
    const big = await put(s.server.url, '/api/config', { config_base64: b64('#'.repeat(5000)) });
    expect(big.status).toBe(413);
  });
});

describe('PUT /api/config with the checked apply', () => {
  it('applies a config with its exact bytes, refuses a bad one with 400 and the reason, the running one unchanged', async () => {
    const s = await start({ applier: true });
    const text = 'profile: aggressive\r\n# exact bytes\n';
    const ok = await put(s.server.url, '/api/config', { config_base64: b64(text), reason: 'cheaper' });
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ ok: true, outcome: 'applied', version: 2 });
    expect(s.engine!.running.bytes.toString()).toBe(text);
    // "who" is the token that authenticated the request, never what X-Nrdot-User claims
    expect(s.history!.get(2)).toMatchObject({ who: 'token:ops.token', why: 'cheaper', source: 'api' });
    const bad = await put(s.server.url, '/api/config', { config_base64: b64('profile: balanced\nbogus: 1\n') });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toBe("PUT /api/config: unknown key 'bogus'");
    expect(s.engine!.running.config.profile).toBe('aggressive');
  });

  it('rolls back by version and by timestamp', async () => {
    const s = await start({ applier: true });
    await put(s.server.url, '/api/config', { config_base64: b64('profile: emergency\n') });
    const byVersion = await put(s.server.url, '/api/config/rollback', { version: 1, reason: 'too aggressive' });
    expect(byVersion.status).toBe(200);
    expect(byVersion.json).toMatchObject({ outcome: 'applied', restoredFrom: 1, version: 3 });
    expect(s.engine!.running.config.profile).toBe('balanced');
    const future = new Date(Date.now() + 60_000).toISOString();
    const byTime = await put(s.server.url, '/api/config/rollback', { timestamp: future });
    expect(byTime.json).toMatchObject({ outcome: 'unchanged' });
    const past = await put(s.server.url, '/api/config/rollback', { timestamp: '2001-01-01T00:00:00Z' });
    expect(past.status).toBe(400);
    expect(String(past.json.error)).toContain('no kept config version was in effect at 2001-01-01T00:00:00.000Z');
  });
});
