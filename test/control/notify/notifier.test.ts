/**
 * The webhook notifier against a real HTTP server on loopback: events
 * arrive as JSON with the configured headers; 5xx, 429 and network errors
 * are retried with a doubling, capped backoff (delays recorded by an
 * injected sleep, so nothing waits), and given up on after the bound,
 * counted; other 4xx are not retried; post() returns at once even when the
 * target hangs, the queue is bounded, close() aborts what is left; no log
 * line holds a header value or the URL's path.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { decisionEvent, Notifier, type NotifierOptions } from '../../../src/control/notify/index.js';

interface Seen {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

type Reply = number | { status: number; headers?: Record<string, string> } | 'hang';

/** A server that answers each request with the next scripted reply (the last one repeats). */
async function server(replies: Reply[]) {
  const seen: Seen[] = [];
  const hanging: http.ServerResponse[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        path: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      const r = replies[Math.min(seen.length - 1, replies.length - 1)]!;
      if (r === 'hang') {
        hanging.push(res);
        return;
      }
      const { status, headers } = typeof r === 'number' ? { status: r, headers: {} } : r;
      res.writeHead(status, headers).end('{"ok":false}');
    });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  const close = async () => {
    for (const r of hanging) r.destroy();
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  cleanups.push(close);
  return { seen, port, url: (p = '/hook') => `http://127.0.0.1:${port}${p}`, close };
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function logs() {
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    }),
  );
  return { lines, logger };
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A notifier whose sleeps return at once, recording the delays asked for. */
function notifier(targets: ConstructorParameters<typeof Notifier>[0], opts: NotifierOptions = {}) {
  const delays: number[] = [];
  const n = new Notifier(targets, {
    host: 'web-1',
    backoffMs: 100,
    maxBackoffMs: 1000,
    random: () => 0.5, // no jitter: delays are exact
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...opts,
  });
  cleanups.push(() => n.close(0));
  return { n, delays };
}

const T0 = Date.parse('2026-03-03T11:00:00Z');
const event = (i = 0) =>
  decisionEvent('schedule', { profile: 'balanced' }, { profile: 'aggressive', knobs: { top_n: 20 + i } }, T0 + i, {
    schedule: 'night',
  });

describe('delivery', () => {
  it('POSTs the event as JSON with the configured headers', async () => {
    const srv = await server([204]);
    const { n } = notifier([{ url: srv.url('/hook?team=ops'), headers: { Authorization: 'Bearer s3cr3t-token' } }]);
    n.post(event());
    await n.flush();
    expect(srv.seen).toHaveLength(1);
    const got = srv.seen[0]!;
    expect(got.path).toBe('/hook?team=ops');
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers.authorization).toBe('Bearer s3cr3t-token');
    expect(got.body).toEqual({
      kind: 'nrdot.control.decision',
      host: 'web-1',
      time: '2026-03-03T11:00:00.000Z',
      reason: 'schedule',
      before: { profile: 'balanced' },
      after: { profile: 'aggressive', knobs: { top_n: 20 } },
      schedule: 'night',
      text: 'nrdot on web-1: profile balanced -> profile aggressive top_n=20 (schedule night)',
    });
    expect(n.stats()).toEqual({ posted: 1, delivered: 1, retries: 0, failed: 0, dropped: 0, pending: 0 });
  });

  it('every target gets every event, in order', async () => {
    const a = await server([200]);
    const b = await server([200]);
    const { n } = notifier([{ url: a.url() }, { url: b.url('/other') }]);
    for (let i = 0; i < 5; i++) n.post(event(i));
    await n.flush();
    const tops = (s: Seen[]) => s.map((x) => (x.body as { after: { knobs: { top_n: number } } }).after.knobs.top_n);
    expect(tops(a.seen)).toEqual([20, 21, 22, 23, 24]);
    expect(tops(b.seen)).toEqual([20, 21, 22, 23, 24]);
    expect(n.targetStats().map((s) => [s.target, s.delivered])).toEqual([
      [`control.notify.0 (http://127.0.0.1:${a.port})`, 5],
      [`control.notify.1 (http://127.0.0.1:${b.port})`, 5],
    ]);
  });
});

describe('retry', () => {
  it('retries 5xx with a doubling backoff until it is accepted', async () => {
    const srv = await server([503, 500, 502, 200]);
    const { n, delays } = notifier([{ url: srv.url() }]);
    n.post(event());
    await n.flush();
    expect(srv.seen).toHaveLength(4);
    expect(delays).toEqual([100, 200, 400]);
    expect(n.stats()).toMatchObject({ delivered: 1, retries: 3, failed: 0 });
  });

  it('gives up after maxAttempts, counted, and goes on with the next event', async () => {
    const srv = await server([500, 500, 500, 500, 500, 500, 500, 500, 500, 200]);
    const { lines, logger } = logs();
    const { n, delays } = notifier([{ url: srv.url() }], { logger });
    n.post(event(0));
    n.post(event(1));
    await n.flush();
    // 5 attempts at the first event, then the second: 4 more 500s and a 200
    expect(srv.seen).toHaveLength(10);
    expect(delays).toEqual([100, 200, 400, 800, 100, 200, 400, 800]);
    expect(n.stats()).toEqual({ posted: 2, delivered: 1, retries: 8, failed: 1, dropped: 0, pending: 0 });
    const gaveUp = lines.map((l) => JSON.parse(l)).filter((l) => /gave up/.test(l.msg));
    expect(gaveUp).toHaveLength(1);
    expect(gaveUp[0]).toMatchObject({ attempts: 5, error: 'HTTP 500' });
  });

  it('caps the backoff, honours Retry-After up to the cap, and jitters', async () => {
    const srv = await server([
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 503, headers: { 'retry-after': '0' } },
      500,
      500,
      500,
      200,
    ]);
    const { n, delays } = notifier([{ url: srv.url() }], { maxAttempts: 6, backoffMs: 300, maxBackoffMs: 2000 });
    n.post(event());
    await n.flush();
    // Retry-After 3 s, capped at 2 s; Retry-After 0; then 300 * 2^2, 2^3, 2^4 capped
    expect(delays).toEqual([2000, 0, 1200, 2000, 2000]);
    const down = notifier([{ url: `http://127.0.0.1:${await deadPort()}/x` }], { random: () => 0, backoffMs: 300 });
    down.n.post(event());
    await down.n.flush();
    expect(down.delays).toEqual([240, 480, 800, 800]); // the jitter's low end (x0.8), then the 1 s cap x0.8
  });

  it('does not retry other 4xx', async () => {
    const srv = await server([404, 200]);
    const { n, delays } = notifier([{ url: srv.url() }]);
    n.post(event());
    await n.flush();
    expect(srv.seen).toHaveLength(1);
    expect(delays).toEqual([]);
    expect(n.stats()).toMatchObject({ delivered: 0, retries: 0, failed: 1 });
  });

  it('a target that is down: retried, given up on, and nothing secret logged', async () => {
    const port = await deadPort();
    const { lines, logger } = logs();
    const url = `http://127.0.0.1:${port}/services/T0001/B0002/xoxb-path-secret?key=query-secret`;
    const { n } = notifier(
      [{ url, headers: { authorization: 'Bearer header-secret-123', 'x-api-key': 'apikey-secret-456' } }],
      {
        logger,
        maxAttempts: 3,
      },
    );
    n.post(event());
    await n.flush();
    expect(n.stats()).toMatchObject({ delivered: 0, retries: 2, failed: 1 });
    const all = lines.join('\n');
    expect(all).toMatch(/ECONNREFUSED/);
    expect(all).toContain(`control.notify.0 (http://127.0.0.1:${port})`);
    for (const secret of ['xoxb-path-secret', 'query-secret', 'T0001', 'header-secret-123', 'apikey-secret-456']) {
      expect(all).not.toContain(secret);
    }
  });

  it('an attempt that times out is retried', async () => {
    const srv = await server(['hang', 200]);
    const { n } = notifier([{ url: srv.url() }], { timeoutMs: 200 });
    n.post(event());
    await n.flush();
    // the first attempt hung until its timeout; a loaded machine may time out the second too
    expect(srv.seen.length).toBeGreaterThanOrEqual(2);
    expect(n.stats()).toMatchObject({ delivered: 1, retries: srv.seen.length - 1, failed: 0 });
  });
});

describe('never blocking the cycle', () => {
  it('post() returns at once while the target hangs; the queue is bounded; close() drops what is left', async () => {
    const srv = await server(['hang']);
    const { n } = notifier([{ url: srv.url() }], { maxQueue: 3, timeoutMs: 60_000 });
    for (let i = 0; i < 10; i++) n.post(event(i)); // synchronous: nothing awaited
    // one in flight (hanging), three waiting, the six oldest waiting ones dropped
    expect(n.stats()).toMatchObject({ posted: 10, delivered: 0, dropped: 6, pending: 4 });
    const final = await n.close(20);
    expect(final).toMatchObject({ posted: 10, delivered: 0, failed: 0, dropped: 10, pending: 0 });
    n.post(event(11)); // after close: ignored
    expect(n.stats().posted).toBe(10);
    expect(srv.seen).toHaveLength(1);
  });

  it('close() waits for pending deliveries within its grace period', async () => {
    const srv = await server([200]);
    const { n } = notifier([{ url: srv.url() }]);
    n.post(event(0));
    n.post(event(1));
    expect(await n.close(10_000)).toMatchObject({ delivered: 2, dropped: 0, pending: 0 });
    expect(srv.seen).toHaveLength(2);
  });

  it('with no targets, post() does nothing', async () => {
    const n = new Notifier([]);
    n.post(event());
    expect(await n.close()).toEqual({ posted: 0, delivered: 0, retries: 0, failed: 0, dropped: 0, pending: 0 });
  });
});
