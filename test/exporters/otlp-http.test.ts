import { Writable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NrdotError } from '../../src/core/errors.js';
import { OtlpHttpExporter } from '../../src/exporters/otlp/send.js';
import { decodeRequest, encodeResponse } from '../../src/otlp/proto.js';
import { OTLP } from '../helpers/defaults.js';
import { closedPort, type LoopbackServer, startLoopbackServer } from '../helpers/loopback-http.js';
import { richRequest } from './fixture.js';

const SECRET = 'secret-license-key-0123456789';

function capturingLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('OtlpHttpExporter against a real HTTP server', () => {
  let server: LoopbackServer;
  let exporter: OtlpHttpExporter | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);

  beforeEach(async () => {
    server = await startLoopbackServer();
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });

  afterEach(async () => {
    await exporter?.shutdown();
    exporter = undefined;
    await server.close();
    await new Promise((r) => setTimeout(r, 20));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  async function make(url: string, opts: { timeoutMs?: number; headers?: Record<string, string> } = {}) {
    const log = capturingLogger();
    exporter = new OtlpHttpExporter({
      ...OTLP,
      url,
      logger: log.logger,
      headers: opts.headers ?? { 'api-key': SECRET },
      timeoutMs: opts.timeoutMs ?? OTLP.timeoutMs,
    });
    await exporter.start();
    return { exporter, lines: log.lines };
  }

  it('POSTs gzip protobuf to /v1/metrics that decodes to the request (200, empty body)', async () => {
    const { exporter } = await make(server.origin);
    expect(exporter.name).toBe(`otlp:${server.origin}/v1/metrics`);
    const req = richRequest();
    const res = await exporter.export(req);

    expect(server.requests).toHaveLength(1);
    const got = server.requests[0];
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/v1/metrics');
    expect(got.headers['content-type']).toBe('application/x-protobuf');
    expect(got.headers['content-encoding']).toBe('gzip');
    expect(got.headers['api-key']).toBe(SECRET);
    const raw = gunzipSync(got.body);
    expect(decodeRequest(raw)).toStrictEqual(req);

    expect(res).toMatchObject({ ok: true, status: 200, bytes: got.body.length, uncompressedBytes: raw.length });
    expect(res.error).toBeUndefined();
    expect(res.rejectedDataPoints).toBeUndefined();
    expect(res.bytes).toBeLessThan(res.uncompressedBytes);
  });

  it('keeps the connection alive across exports', async () => {
    const { exporter } = await make(server.origin);
    await exporter.export(richRequest());
    await exporter.export(richRequest());
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1].remotePort).toBe(server.requests[0].remotePort);
  });

  it('uses a URL with a path as is (query kept) and ignores user content headers', async () => {
    const { exporter } = await make(`${server.origin}/custom/ingest?tenant=a`, {
      headers: { 'Content-Type': 'text/plain', 'X-Api-Key': SECRET },
    });
    expect(exporter.name).toBe(`otlp:${server.origin}/custom/ingest`);
    expect((await exporter.export(richRequest())).ok).toBe(true);
    const got = server.requests[0];
    expect(got.url).toBe('/custom/ingest?tenant=a');
    expect(got.headers['content-type']).toBe('application/x-protobuf');
    expect(got.headers['x-api-key']).toBe(SECRET);
  });

  it('reports a protobuf partial success', async () => {
    server.respond(() => ({
      status: 200,
      headers: { 'content-type': 'application/x-protobuf' },
      body: encodeResponse({ partialSuccess: { rejectedDataPoints: '5', errorMessage: 'too many attributes' } }),
    }));
    const { exporter, lines } = await make(server.origin);
    const res = await exporter.export(richRequest());
    expect(res).toMatchObject({
      ok: true,
      status: 200,
      rejectedDataPoints: 5,
      partialSuccessMessage: 'too many attributes',
    });
    expect(lines.join('')).toContain('partial success');
  });

  it('reports a JSON partial success too', async () => {
    server.respond(() => ({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ partialSuccess: { rejectedDataPoints: '2', errorMessage: 'dup' } }),
    }));
    const { exporter } = await make(server.origin);
    expect(await exporter.export(richRequest())).toMatchObject({ ok: true, rejectedDataPoints: 2 });
  });

  it('503 and 500 resolve to ok:false with the status, never throw, never log header values', async () => {
    const { exporter, lines } = await make(server.origin);
    server.respond(() => ({ status: 503, headers: { 'retry-after': '7' }, body: 'overloaded' }));
    const a = await exporter.export(richRequest());
    expect(a).toMatchObject({ ok: false, status: 503, retryable: true, retryAfterMs: 7000 });
    expect(a.error).toMatch(/^HTTP 503/);
    expect(a.bytes).toBeGreaterThan(0);

    server.respond(() => ({ status: 500, headers: { 'content-type': 'text/plain' }, body: 'boom\nstack' }));
    const b = await exporter.export(richRequest());
    // a backend failing on its side: worth retrying (the data is kept)
    expect(b).toMatchObject({ ok: false, status: 500, retryable: true, error: 'HTTP 500: boom stack' });

    const log = lines.join('');
    expect(log).toContain('OTLP export failed');
    expect(log).toContain('"status":500');
    expect(log).not.toContain(SECRET);
    expect(log).not.toContain('api-key');
  });

  it('a closed port resolves to ok:false (ECONNREFUSED) without throwing or unhandled rejections', async () => {
    const port = await closedPort();
    const { exporter, lines } = await make(`http://127.0.0.1:${port}`);
    const res = await exporter.export(richRequest());
    expect(res).toMatchObject({ ok: false, bytes: 0, retryable: true });
    expect(res.error).toMatch(/ECONNREFUSED/);
    expect(res.uncompressedBytes).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(SECRET);
  });

  it('a server that never answers times out per option, and the exporter recovers', async () => {
    server.respond(() => 'hang');
    const { exporter } = await make(server.origin, { timeoutMs: 300 });
    // Without the timeout this export would never settle (the test would hit
    // vitest's own limit); the error says which path ended it.
    const res = await exporter.export(richRequest());
    expect(res).toMatchObject({ ok: false, retryable: true, error: 'timed out after 300 ms' });

    server.respond(() => ({ status: 200 }));
    expect((await exporter.export(richRequest())).ok).toBe(true);
  });

  it('shutdown waits for an in-flight request and rejects later exports', async () => {
    server.respond(() => new Promise((r) => setTimeout(() => r({ status: 200 }), 100)));
    const { exporter } = await make(server.origin);
    const inflight = exporter.export(richRequest());
    await new Promise((r) => setTimeout(r, 20));
    await Promise.all([exporter.shutdown(), exporter.shutdown()]);
    expect((await inflight).ok).toBe(true);
    await expect(exporter.export(richRequest())).rejects.toThrow(/after shutdown\(\)/);
  });
});

describe('OtlpHttpExporter construction', () => {
  it('rejects export before start', async () => {
    const e = new OtlpHttpExporter({ ...OTLP, url: 'http://127.0.0.1:1' });
    await expect(e.export(richRequest())).rejects.toThrow(/before start\(\)/);
    await e.shutdown();
  });

  it('validates header names and values without echoing values', () => {
    expect(() => new OtlpHttpExporter({ ...OTLP, url: 'http://x', headers: { 'bad name': 'v' } })).toThrow(NrdotError);
    try {
      new OtlpHttpExporter({ ...OTLP, url: 'http://x', headers: { 'api-key': `${SECRET}\r\nx: y` } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NrdotError);
      expect((e as NrdotError).code).toBe('NRDOT_ERR_BAD_EXPORT_SPEC');
      expect((e as Error).message).toContain('api-key');
      expect((e as Error).message).not.toContain(SECRET);
    }
  });
});
