import { afterEach, describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  compose,
  type Layer,
  realClock,
  retryLayer,
  type Send,
  type SendResult,
} from '../../../src/exporters/chain/index.js';
import { OtlpHttpExporter } from '../../../src/exporters/otlp/send.js';
import { BREAKER, OTLP, RETRY } from '../../helpers/defaults.js';
import { type LoopbackServer, startLoopbackServer } from '../../helpers/loopback-http.js';
import { richRequest } from '../fixture.js';
import { OK, REQ } from './helpers.js';

describe('compose', () => {
  it('compose(a, b, c)(send) is a(b(c(send))): requests go down a, b, c and results come back c, b, a', async () => {
    const trace: string[] = [];
    const tag =
      (name: string): Layer =>
      (next) =>
      async (req, signal) => {
        trace.push(`${name}>`);
        const r = await next(req, signal);
        trace.push(`<${name}`);
        return r;
      };
    const send: Send = async () => {
      trace.push('send');
      return OK;
    };
    expect(await compose(tag('a'), tag('b'), tag('c'))(send)(REQ)).toEqual(OK);
    expect(trace).toEqual(['a>', 'b>', 'c>', 'send', '<c', '<b', '<a']);
    expect(await compose()(send)(REQ)).toEqual(OK);
  });
});

describe('breaker + retry over the real OTLP/HTTP exporter', () => {
  let server: LoopbackServer | undefined;
  let exporter: OtlpHttpExporter | undefined;

  afterEach(async () => {
    await exporter?.shutdown();
    await server?.close();
  });

  it('honours a real 429 Retry-After: 1 before the attempt that succeeds', async () => {
    const arrivals: number[] = [];
    server = await startLoopbackServer(() => {
      arrivals.push(performance.now());
      return arrivals.length === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 200 };
    });
    exporter = new OtlpHttpExporter({ ...OTLP, url: server.origin, timeoutMs: 5000 });
    await exporter.start();
    const request = richRequest();
    const exp = exporter;
    // the tiny adapter: the queue will hold encoded bytes; here the exporter encodes the request itself
    const send: Send = (): Promise<SendResult> => exp.export(request);

    const breaker = new CircuitBreaker({ ...BREAKER, name: exp.name, clock: realClock });
    const retry = retryLayer({ ...RETRY, clock: realClock, initialMs: 100, jitter: 0 });
    const res = await compose(breaker.layer, retry)(send)(REQ);

    expect(res).toMatchObject({ ok: true, status: 200 });
    expect(server.requests).toHaveLength(2);
    expect(retry.stats()).toMatchObject({ attempts: 2, retries: 1, retriesByReason: { '429': 1 } });
    expect(breaker.stats()).toMatchObject({ state: 'closed', consecutiveFailures: 0 });
    // the backoff alone would have waited 100 ms; a few ms of slack for timer granularity
    expect(arrivals[1]! - arrivals[0]!).toBeGreaterThanOrEqual(995);
  });
});

describe('realClock', () => {
  it('sleep resolves (does not reject) as soon as the signal aborts', async () => {
    const ac = new AbortController();
    const p = realClock.sleep(600_000, ac.signal);
    setImmediate(() => ac.abort());
    await expect(p).resolves.toBeUndefined();
    await expect(realClock.sleep(600_000, ac.signal)).resolves.toBeUndefined();
  });

  it('sleep waits, and now() moves forward', async () => {
    const t0 = realClock.now();
    await realClock.sleep(20);
    expect(realClock.now()).toBeGreaterThan(t0);
  });
});
