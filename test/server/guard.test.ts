/**
 * The servers against a hostile network: the Host check (DNS rebinding) on
 * both servers, and the connection cap that keeps /health answering through
 * a flood of idle connections, on a real server over loopback.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/core/log.js';
import { connectionCap, hostChecker } from '../../src/server/guard.js';
import { type ControlServer, startControlServer } from '../../src/server/http.js';
import { Registry } from '../../src/server/registry.js';
import { type OtlpReceiver, startOtlpReceiver } from '../../src/sources/receiver/index.js';
import { FakeAgent } from './fake-agent.js';

interface Line {
  level: number;
  msg: string;
  [k: string]: unknown;
}
function capture(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  return { logger: pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) }), lines };
}

const closers: (() => Promise<void>)[] = [];
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const c of closers.splice(0)) await c();
});

function get(url: string, path: string, host?: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        path,
        method: path === '/v1/metrics' ? 'POST' : 'GET',
        headers: {
          ...(host ? { host } : {}),
          ...(path === '/v1/metrics' ? { 'content-type': 'application/json' } : {}),
        },
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(path === '/v1/metrics' ? '{"resourceMetrics":[]}' : undefined);
  });
}

async function control(o: { allowedHosts?: string[]; maxConnections?: number } = {}) {
  const { logger, lines } = capture();
  const server: ControlServer = await startControlServer({
    listen: '127.0.0.1:0',
    control: new FakeAgent(),
    registry: new Registry(),
    logger,
    ...o,
  });
  closers.push(() => server.close());
  return { url: server.url, lines };
}

async function receiver(o: { allowedHosts?: string[]; maxConnections?: number } = {}) {
  const { logger, lines } = capture();
  const r: OtlpReceiver = await startOtlpReceiver({
    listen: '127.0.0.1:0',
    logger,
    sink: { admit: () => ({ ok: true }), accept: async () => ({}) },
    ...o,
  });
  closers.push(() => r.close());
  return { url: r.url.replace(/\/v1\/metrics$/, ''), lines, stats: () => r.stats() };
}

describe('Host check (DNS rebinding)', () => {
  it('serves loopback names, IP literals and this host; refuses other names unless configured', () => {
    const check = hostChecker(['collector.example', '.corp.example']);
    const req = (host?: string) => ({ headers: host === undefined ? {} : { host } }) as http.IncomingMessage;
    for (const ok of [
      'localhost',
      'localhost:9464',
      'LOCALHOST.',
      'app.localhost:80',
      '127.0.0.1:9464',
      '[::1]:9464',
      '10.1.2.3',
      '[fe80::1]:4318',
      os.hostname(),
      'collector.example:4318',
      'a.b.corp.example',
      'corp.example',
    ]) {
      expect(check(req(ok)), ok).toBeUndefined();
    }
    expect(check(req(undefined))).toBeUndefined();
    expect(check(req('evil.example'))).toBe('evil.example');
    expect(check(req('evil.example:9464'))).toBe('evil.example');
    expect(check(req('localhost.evil.example'))).toBe('localhost.evil.example');
    expect(check(req('notcorp.example'))).toBe('notcorp.example');
    expect(hostChecker(['*'])(req('evil.example'))).toBeUndefined();
  });

  it.each([
    ['control server', control, '/api/status', 'server.allowed_hosts'],
    ['otlp receiver', receiver, '/v1/metrics', 'receiver.allowed_hosts'],
  ] as const)(
    'the %s answers 403 to Host: evil.example, logs it once, and serves it once allowed',
    async (name, start, path, key) => {
      const s = await start();
      const refused = await get(s.url, path, 'evil.example');
      expect(refused.status).toBe(403);
      expect(refused.body).toContain(`Host 'evil.example' is not served here; add it to ${key}`);
      await get(s.url, path, 'evil.example');
      const warns = s.lines.filter((l) => l.level >= 40 && /refused a request for Host/.test(l.msg));
      expect(warns).toEqual([expect.objectContaining({ server: name, host: 'evil.example' })]);
      expect((await get(s.url, path)).status).toBe(200);
      const allowed = await start({ allowedHosts: ['evil.example'] });
      expect((await get(allowed.url, path, 'evil.example:80')).status).toBe(200);
    },
  );
});

describe('connection cap', () => {
  it('is the configured value, bounded by a share of the fd limit', () => {
    expect(connectionCap(1024, 0.5, 1 << 20)).toBe(1024);
    expect(connectionCap(1024, 0.5, 256)).toBe(80);
    expect(connectionCap(64, 0.25, 256)).toBe(40);
    expect(connectionCap(64, 0.25, 100)).toBe(8);
    expect(connectionCap(64, 0.25, undefined)).toBe(64);
  });

  async function flood(url: string, n: number): Promise<void> {
    const u = new URL(url);
    await Promise.all(
      Array.from(
        { length: n },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(Number(u.port), u.hostname, () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => resolve());
            sockets.push(s);
          }),
      ),
    );
  }

  it.each([
    ['control server', control, '/health'],
    ['otlp receiver', receiver, '/v1/metrics'],
  ] as const)(
    'the %s keeps answering through 200 idle connections over a cap of 16, and says so once',
    async (name, start, path) => {
      const s = await start({ maxConnections: 16 });
      await flood(s.url, 200);
      for (let i = 0; i < 5; i++) expect((await get(s.url, path)).status).toBe(200);
      const warns = s.lines.filter((l) => l.level >= 40);
      expect(warns).toEqual([expect.objectContaining({ server: name, maxConnections: 16 })]);
      expect(warns[0]!.msg).toMatch(/connection limit reached/);
      const open = sockets.filter((x) => !x.destroyed).length;
      expect(open).toBeLessThanOrEqual(16);
    },
  );

  it('shutdown does not wait for connections that never sent a request', async () => {
    const { logger } = capture();
    const r = await startOtlpReceiver({
      listen: '127.0.0.1:0',
      logger,
      sink: { admit: () => ({ ok: true }), accept: async () => ({}) },
    });
    await flood(r.url, 5);
    // Node's closeIdleConnections() leaves them, and close() stops the headers timer: it used to hang for good
    await r.close();
  }, 15_000);

  it('the receiver reports what the cap did', async () => {
    const s = await receiver({ maxConnections: 8 });
    await flood(s.url, 40);
    await get(s.url, '/v1/metrics');
    const c = s.stats().connections!;
    expect(c.max).toBe(8);
    expect(c.shed).toBeGreaterThanOrEqual(32);
  });
});
