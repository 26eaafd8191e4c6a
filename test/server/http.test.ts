import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { NrdotError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import { AuditLog } from '../../src/server/audit.js';
import { type ControlServer, startControlServer } from '../../src/server/http.js';
import { Registry } from '../../src/server/registry.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { FakeAgent, withFamilies } from './fake-agent.js';

const TOKEN = 's3cret-token-0123456789abcdef';

/** A pino logger whose lines land in an array, so tests can read what was logged. */
function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

interface Started {
  server: ControlServer;
  agent: FakeAgent;
  registry: Registry;
  auditFile: string;
  logLines: string[];
}

const open: ControlServer[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function start(
  opts: {
    token?: string;
    agent?: FakeAgent;
    listen?: string;
    bodyLimit?: number;
    wallClock?: () => number;
    authLimit?: { maxFailures: number; windowMs: number };
  } = {},
) {
  const agent = opts.agent ?? new FakeAgent();
  const registry = new Registry();
  const dir = fastTmpDir('nrdot-http-');
  dirs.push(dir);
  const auditFile = path.join(dir, 'audit', 'audit.jsonl');
  const { logger, lines } = captureLogger();
  const server = await startControlServer({
    listen: opts.listen ?? '127.0.0.1:0',
    control: agent,
    registry,
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    audit: new AuditLog(auditFile, silentLogger),
    logger,
    ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {}),
    wallClock: opts.wallClock ?? (() => Date.UTC(2025, 0, 2, 3, 4, 5)),
    tokenIdentity: 'token:ops.token',
    ...(opts.authLimit ? { authLimit: opts.authLimit } : {}),
  });
  open.push(server);
  return { server, agent, registry, auditFile, logLines: lines } satisfies Started;
}

async function call(
  s: Started,
  pathname: string,
  opts: { method?: 'GET' | 'PUT' | 'POST' | 'HEAD' | 'DELETE'; headers?: Record<string, string>; body?: string } = {},
) {
  const res = await request(`${s.server.url}${pathname}`, {
    method: opts.method ?? 'GET',
    headers: opts.headers,
    body: opts.body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) };
}

function put(s: Started, body: unknown, headers: Record<string, string> = {}) {
  return call(s, '/api/profile', {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

function audit(s: Started): Record<string, unknown>[] {
  if (!fs.existsSync(s.auditFile)) return [];
  return fs
    .readFileSync(s.auditFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('control server routes', () => {
  it('answers on the real port it bound when asked for port 0', async () => {
    const s = await start();
    expect(s.server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.server.address.port).toBeGreaterThan(0);
    expect(s.server.url).toBe(`http://127.0.0.1:${s.server.address.port}`);
  });

  it('serves /metrics in the text format with the content type Prometheus expects', async () => {
    const s = await start();
    s.registry.gauge('nrdot.cost.bytes', 'Bytes.', { unit: 'By' }).set(81234);
    const r = await call(s, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.text).toContain('# TYPE nrdot_cost_bytes gauge\nnrdot_cost_bytes 81234\n');
  });

  it('serves the JSON form at /metrics?format=json, including its own request latency by route', async () => {
    const s = await start();
    await call(s, '/health');
    await call(s, '/health');
    await call(s, '/nope');
    const r = await call(s, '/metrics?format=json');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    const fam = r.json().metrics.find((m: { name: string }) => m.name === 'nrdot_http_request_duration_seconds');
    expect(fam.type).toBe('histogram');
    const health = fam.samples.find((x: { labels: { route: string } }) => x.labels.route === '/health');
    expect(health.labels).toEqual({ route: '/health', method: 'GET', code: '200' });
    expect(health.count).toBe(2);
    expect(health.p99).toBeGreaterThanOrEqual(0);
    expect(fam.samples.find((x: { labels: { route: string } }) => x.labels.route === 'unmatched').labels.code).toBe(
      '404',
    );
  });

  it('adds the agent pull-mode process families to /metrics', async () => {
    const agent = withFamilies(new FakeAgent(), [
      {
        name: 'process.memory.usage',
        type: 'gauge',
        unit: 'By',
        help: 'Resident memory.',
        samples: [{ labels: { 'process.pid': '4242', 'process.executable.name': 'postgres' }, value: 123456 }],
      },
    ]);
    const s = await start({ agent });
    const r = await call(s, '/metrics');
    expect(r.text).toContain(
      'process_memory_usage_bytes{process_pid="4242",process_executable_name="postgres"} 123456\n',
    );
  });

  it('/health is ok while serving; /health/ready follows the agent', async () => {
    const s = await start();
    expect(await call(s, '/health')).toMatchObject({ status: 200, text: '{"status":"ok"}\n' });
    const notReady = await call(s, '/health/ready');
    expect(notReady.status).toBe(503);
    expect(notReady.json()).toEqual({ status: 'not ready' });
    s.agent.isReady = true;
    const ready = await call(s, '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });

  it('/api/status and GET /api/profile pass the agent JSON through', async () => {
    const s = await start();
    expect((await call(s, '/api/status')).json()).toEqual(s.agent.statusValue);
    expect((await call(s, '/api/profile')).json()).toEqual({
      active: 'balanced',
      available: ['conservative', 'balanced', 'aggressive', 'emergency'],
    });
  });

  it('HEAD works where GET does, without a body', async () => {
    const s = await start();
    const r = await call(s, '/health', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });

  it('404 for an unknown path, 405 with Allow for a wrong method', async () => {
    const s = await start();
    const nf = await call(s, '/api/nothing');
    expect(nf.status).toBe(404);
    expect(nf.json().error).toContain('/api/nothing');
    const m1 = await call(s, '/metrics', { method: 'POST', body: 'x' });
    expect(m1.status).toBe(405);
    expect(m1.headers.allow).toBe('GET, HEAD');
    const m2 = await call(s, '/api/profile', { method: 'DELETE' });
    expect(m2.status).toBe(405);
    expect(m2.headers.allow).toBe('GET, HEAD, PUT');
  });

  it('500 with a message when the agent throws, and keeps serving', async () => {
    const s = await start();
    s.agent.status = () => {
      throw new Error('engine is gone');
    };
    const r = await call(s, '/api/status');
    expect(r.status).toBe(500);
    expect(r.json().error).toContain('engine is gone');
    expect((await call(s, '/health')).status).toBe(200);
  });

  it('rejects a busy address with an error naming it', async () => {
    const s = await start();
    const err = await startControlServer({
      listen: `127.0.0.1:${s.server.address.port}`,
      control: new FakeAgent(),
      registry: new Registry(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NrdotError);
    expect((err as NrdotError).message).toContain(`127.0.0.1:${s.server.address.port}`);
    expect((err as NrdotError).message).toContain('already in use');
  });

  it('rejects a malformed listen address as bad usage', async () => {
    const err = await startControlServer({
      listen: 'localhost',
      control: new FakeAgent(),
      registry: new Registry(),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NrdotError);
    expect((err as NrdotError).exitCode).toBe(2);
    expect((err as NrdotError).message).toContain("'localhost'");
  });

  it('warns when listening beyond loopback, and not on loopback', async () => {
    const loop = await start();
    expect(loop.logLines.some((l) => l.includes('non-loopback'))).toBe(false);
    const wide = await start({ listen: '0.0.0.0:0' });
    const warn = wide.logLines.map((l) => JSON.parse(l)).find((l) => String(l.msg).includes('non-loopback'));
    expect(warn).toBeDefined();
    expect(warn.level).toBe(40);
  });

  it('close() is safe twice and the port stops answering', async () => {
    const s = await start();
    await s.server.close();
    await s.server.close();
    await expect(request(`${s.server.url}/health`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('PUT /api/profile', () => {
  it('is refused with 403 when the server has no token, and audited', async () => {
    const s = await start();
    const r = await put(s, { profile: 'aggressive' }, bearer('anything'));
    expect(r.status).toBe(403);
    expect(r.json().error).toBe(
      'profile changes are disabled: no token configured (start the agent with NRDOT_TOKEN or a token file)',
    );
    expect(s.agent.active).toBe('balanced');
    expect(audit(s)).toEqual([
      {
        time: '2025-01-02T03:04:05.000Z',
        who: 'unauthenticated',
        remote: '127.0.0.1',
        action: 'profile.set',
        before: 'balanced',
        after: 'balanced',
        outcome: 'disabled',
        status: 403,
      },
    ]);
  });

  it('401 with WWW-Authenticate without a token, 403 with a wrong one', async () => {
    const s = await start({ token: TOKEN });
    const missing = await put(s, { profile: 'aggressive' });
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(missing.json().error).toContain('missing bearer token');
    const basic = await put(s, { profile: 'aggressive' }, { authorization: 'Basic dXNlcjpwdw==' });
    expect(basic.status).toBe(401);
    const wrong = await put(s, { profile: 'aggressive' }, bearer(`${TOKEN}x`));
    expect(wrong.status).toBe(403);
    expect(wrong.json().error).toBe('wrong token');
    expect(s.agent.active).toBe('balanced');
    expect(audit(s).map((a) => [a.outcome, a.status])).toEqual([
      ['unauthorized', 401],
      ['unauthorized', 401],
      ['forbidden', 403],
    ]);
  });

  it('switches with the right token; the audit line names who (the token, not the header), why, before and after', async () => {
    const s = await start({ token: TOKEN });
    const r = await put(
      s,
      { profile: 'aggressive', reason: 'budget alert #12' },
      { ...bearer(TOKEN), 'x-nrdot-user': 'alice' },
    );
    expect(r.status).toBe(200);
    expect(r.json()).toEqual({ before: 'balanced', after: 'aggressive' });
    expect(s.agent.active).toBe('aggressive');
    expect(s.agent.changes).toEqual([
      { name: 'aggressive', who: 'token:ops.token (claimed by alice)', reason: 'budget alert #12' },
    ]);
    expect((await call(s, '/api/profile')).json().active).toBe('aggressive');
    expect(audit(s)).toEqual([
      {
        time: '2025-01-02T03:04:05.000Z',
        who: 'token:ops.token',
        remote: '127.0.0.1',
        claimed_by: 'alice',
        action: 'profile.set',
        requested: 'aggressive',
        reason: 'budget alert #12',
        before: 'balanced',
        after: 'aggressive',
        outcome: 'ok',
        status: 200,
      },
    ]);
  });

  it('never writes the token to the audit log or the logs', async () => {
    const s = await start({ token: TOKEN });
    await put(s, { profile: 'aggressive' }, bearer(TOKEN));
    await put(s, { profile: 'nope' }, bearer(TOKEN));
    await put(s, { profile: 'emergency' }, bearer('not-the-token'));
    await put(s, { profile: 'emergency' });
    expect(audit(s)).toHaveLength(4);
    const auditText = fs.readFileSync(s.auditFile, 'utf8');
    expect(auditText).not.toContain(TOKEN);
    expect(s.logLines.length).toBeGreaterThanOrEqual(4);
    expect(s.logLines.join('\n')).not.toContain(TOKEN);
    expect(s.logLines.join('\n')).toContain('profile changed over the HTTP API');
  });

  it('400 for an unknown profile, naming it and the valid ones', async () => {
    const s = await start({ token: TOKEN });
    const r = await put(s, { profile: 'turbo' }, bearer(TOKEN));
    expect(r.status).toBe(400);
    expect(r.json().error).toBe("unknown profile 'turbo' (known: conservative, balanced, aggressive, emergency)");
    expect(audit(s)[0]).toMatchObject({ requested: 'turbo', outcome: 'unknown_profile', status: 400 });
  });

  it('400 for bad JSON and for a body without a profile', async () => {
    const s = await start({ token: TOKEN });
    const bad = await put(s, '{"profile": ', bearer(TOKEN));
    expect(bad.status).toBe(400);
    expect(bad.json().error).toMatch(/^body is not valid JSON/);
    const empty = await put(s, { reason: 'x' }, bearer(TOKEN));
    expect(empty.status).toBe(400);
    expect(empty.json().error).toContain('"profile"');
    const badReason = await put(s, { profile: 'aggressive', reason: 7 }, bearer(TOKEN));
    expect(badReason.status).toBe(400);
    expect(s.agent.active).toBe('balanced');
    expect(audit(s).map((a) => a.outcome)).toEqual(['invalid', 'invalid', 'invalid']);
  });

  it('expires_in: a duration sets the override expiry; anything else is 400', async () => {
    const s = await start({ token: TOKEN });
    const ok = await put(s, { profile: 'aggressive', expires_in: '90m' }, bearer(TOKEN));
    expect(ok.status).toBe(200);
    expect(s.agent.changes.at(-1)).toMatchObject({ name: 'aggressive', expiresInMs: 90 * 60_000 });
    for (const bad of ['soon', '0s', 30, '90']) {
      const r = await put(s, { profile: 'balanced', expires_in: bad }, bearer(TOKEN));
      expect(r.status).toBe(400);
      expect(r.json().error).toBe('"expires_in" must be a duration like 30m or 2h');
    }
    expect(s.agent.active).toBe('aggressive');
  });

  it('413 for a body over the limit, by Content-Length and by counting a chunked body', async () => {
    const s = await start({ token: TOKEN, bodyLimit: 1024 });
    const big = JSON.stringify({ profile: 'aggressive', reason: 'x'.repeat(5000) });
    const r = await put(s, big, bearer(TOKEN));
    expect(r.status).toBe(413);
    expect(r.json().error).toContain('1024 bytes');
    // chunked: no Content-Length, so the server must count
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${s.server.url}/api/profile`, {
        method: 'PUT',
        headers: { ...bearer(TOKEN), 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('{"profile":"aggressive","reason":"');
      req.write('y'.repeat(2000));
      req.end('"}');
    });
    expect(chunked).toBe(413);
    expect(s.agent.active).toBe('balanced');
    expect(audit(s).map((a) => a.outcome)).toEqual(['too_large', 'too_large']);
  });
});

describe('failed authentications', () => {
  it('are limited per address: after 5 failures, 429 with Retry-After, not audited one by one, then one summary line', async () => {
    let now = Date.UTC(2025, 0, 2, 3, 4, 5);
    const s = await start({ token: TOKEN, wallClock: () => now, authLimit: { maxFailures: 5, windowMs: 60_000 } });
    for (let i = 0; i < 5; i++) {
      const r = await put(s, { profile: 'aggressive' }, bearer(`guess-${i}`));
      expect(r.status).toBe(403);
      now += 1000;
    }
    expect(audit(s).map((a) => a.outcome)).toEqual(Array(5).fill('forbidden'));
    // blocked: wrong and even right tokens get 429, without being checked or audited
    for (let i = 0; i < 20; i++) {
      const r = await put(s, { profile: 'aggressive' }, bearer(i === 19 ? TOKEN : `guess-x${i}`));
      expect(r.status).toBe(429);
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    expect(s.agent.active).toBe('balanced');
    expect(audit(s)).toHaveLength(5);
    // one warning when the block starts, not one per attempt
    expect(s.logLines.filter((l) => l.includes('too many failed authentications'))).toHaveLength(1);
    // the block ends: the next request writes its summary first, then goes through
    now += 61_000;
    const ok = await put(s, { profile: 'aggressive' }, bearer(TOKEN));
    expect(ok.status).toBe(200);
    const lines = audit(s);
    expect(lines).toHaveLength(7);
    expect(lines[5]).toMatchObject({
      who: 'unauthenticated',
      remote: '127.0.0.1',
      outcome: 'rate_limited',
      status: 429,
      count: 20,
      from: '2025-01-02T03:04:09.000Z',
      until: '2025-01-02T03:05:09.000Z',
    });
    expect(lines[6]).toMatchObject({ who: 'token:ops.token', outcome: 'ok' });
  });

  it('a block still running at shutdown is summarised in the audit log', async () => {
    const s = await start({ token: TOKEN, authLimit: { maxFailures: 2, windowMs: 60_000 } });
    await put(s, { profile: 'aggressive' });
    await put(s, { profile: 'aggressive' });
    for (let i = 0; i < 3; i++) expect((await put(s, { profile: 'aggressive' })).status).toBe(429);
    await s.server.close();
    expect(audit(s).map((a) => [a.outcome, a.count])).toEqual([
      ['unauthorized', undefined],
      ['unauthorized', undefined],
      ['rate_limited', 3],
    ]);
  });

  it('the X-Nrdot-User header never chooses "who": a refused request is unauthenticated whatever it claims', async () => {
    const s = await start({ token: TOKEN });
    await put(s, { profile: 'aggressive' }, { ...bearer('wrong'), 'x-nrdot-user': 'root' });
    await put(s, { profile: 'aggressive' }, { ...bearer(TOKEN), 'x-nrdot-user': 'token:ops.token' });
    const [refused, granted] = audit(s);
    expect(refused).toMatchObject({ who: 'unauthenticated', claimed_by: 'root', outcome: 'forbidden' });
    expect(granted).toMatchObject({ who: 'token:ops.token', claimed_by: 'token:ops.token', outcome: 'ok' });
  });
});

describe('GET /api/history (the scan history, for optimize suggest --url)', () => {
  const snapshot = {
    header: { format: 'nrdot-recording', version: 2, scans: 1 } as never,
    chunks: [Buffer.from('NRDOTREC'), Buffer.from([2, 0, 0, 0, 0, 0, 0, 0])],
    bytes: 16,
  };

  it('is served only with the token, and only when one is configured', async () => {
    const agent = new FakeAgent();
    agent.history = () => ({ snapshot });
    const off = await start({ agent });
    const r0 = await call(off, '/api/history', { headers: bearer(TOKEN) });
    expect(r0.status).toBe(403);
    expect(r0.json().error).toMatch(/served only with a token configured/);

    const s = await start({ token: TOKEN, agent });
    const r1 = await call(s, '/api/history');
    expect(r1.status).toBe(401);
    expect(r1.headers['www-authenticate']).toBe('Bearer realm="nrdot"');
    const r2 = await call(s, '/api/history', { headers: bearer('wrong-token') });
    expect(r2.status).toBe(403);
    expect(r2.json().error).toBe('wrong token');
    // refusals are logged without the token sent
    expect(JSON.stringify(s.logLines)).not.toContain('wrong-token');
    const ok = await call(s, '/api/history', { headers: bearer(TOKEN) });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/vnd.nrdot.recording');
    expect(ok.text).toBe(Buffer.concat(snapshot.chunks).toString());
    const h = JSON.parse(Buffer.from(String(ok.headers['x-nrdot-recording']), 'base64url').toString('utf8'));
    expect(h).toEqual(snapshot.header);
    const head = await call(s, '/api/history', { method: 'HEAD', headers: bearer(TOKEN) });
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe('16');
    expect(head.text).toBe('');
  });

  it('failed tokens count against the per-address limit', async () => {
    const agent = new FakeAgent();
    agent.history = () => ({ snapshot });
    const s = await start({ token: TOKEN, agent, authLimit: { maxFailures: 2, windowMs: 60_000 } });
    for (let i = 0; i < 2; i++) expect((await call(s, '/api/history', { headers: bearer('nope') })).status).toBe(403);
    const r = await call(s, '/api/history', { headers: bearer(TOKEN) });
    expect(r.status).toBe(429);
    expect(r.headers['retry-after']).toBeDefined();
  });

  it('an agent without a history says why', async () => {
    const agent = new FakeAgent();
    agent.history = () => ({ off: 'scan.history.window is 0: this agent keeps no scan history' });
    const s = await start({ token: TOKEN, agent });
    const r = await call(s, '/api/history', { headers: bearer(TOKEN) });
    expect(r.status).toBe(404);
    expect(r.json().error).toMatch(/scan\.history\.window is 0/);
  });
});
