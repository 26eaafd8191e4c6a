/**
 * A backend (or a proxy in front of it) that echoes the request's headers in
 * its error answers: the api-key must never reach a log line or an error
 * result, whatever form the echo takes (raw, JSON, URL-encoded, a bearer
 * token's token alone, a body longer than the logged snippet, a JSON parse
 * error quoting the body, a partial-success message).
 */
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { headerScrubber, OtlpHttpExporter } from '../../src/exporters/otlp/send.js';
import { OTLP } from '../helpers/defaults.js';
import { type LoopbackServer, type ReceivedRequest, startLoopbackServer } from '../helpers/loopback-http.js';
import { richRequest } from './fixture.js';

const KEY = 'NRAK-0123456789ABCDEFGHIJ';
const TOKEN = 'tok_abcdefghijklmnop0123';

function echoes(r: ReceivedRequest): { status: number; body: string; headers: Record<string, string> }[] {
  const h = r.headers;
  const dump = Object.entries(h)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return [
    { status: 400, body: `bad request; you sent:\n${dump}`, headers: { 'content-type': 'text/plain' } },
    {
      status: 403,
      body: JSON.stringify({ error: 'forbidden', request: { headers: h } }),
      headers: { 'content-type': 'application/json' },
    },
    {
      status: 502,
      body: `<html>upstream failed for ${encodeURIComponent(String(h['api-key']))}</html>`,
      headers: { 'content-type': 'text/html' },
    },
    // the key after 400 characters of padding: a snippet cut before it must not leave a prefix of it either
    { status: 503, body: `${'x'.repeat(295)} key=${h['api-key']}`, headers: { 'content-type': 'text/plain' } },
    {
      status: 401,
      body: `token ${String(h.authorization).split(' ')[1]} is not valid here`,
      headers: { 'content-type': 'text/plain' },
    },
    // a 2xx whose body is not the JSON it claims: the parse error quotes it
    { status: 200, body: `api-key=${h['api-key']} {`, headers: { 'content-type': 'application/json' } },
    {
      status: 200,
      body: JSON.stringify({
        partialSuccess: { rejectedDataPoints: '1', errorMessage: `refused for ${h['api-key']}` },
      }),
      headers: { 'content-type': 'application/json' },
    },
  ];
}

let server: LoopbackServer | undefined;
let exporter: OtlpHttpExporter | undefined;
afterEach(async () => {
  await exporter?.shutdown();
  await server?.close();
});

describe('backend error bodies', () => {
  it('are scrubbed of every configured header value before they reach a log line or a result', async () => {
    let n = 0;
    server = await startLoopbackServer((r) => echoes(r)[n++ % 7]!);
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, { write: (s: string) => lines.push(s) });
    exporter = new OtlpHttpExporter({
      ...OTLP,
      url: server.origin,
      logger,
      headers: { 'api-key': KEY, authorization: `Bearer ${TOKEN}` },
    });
    await exporter.start();
    const results = [];
    for (let i = 0; i < 7; i++) results.push(await exporter.export(richRequest()));
    expect(server.requests.every((r) => r.headers['api-key'] === KEY)).toBe(true);
    const text = `${lines.join('')}\n${JSON.stringify(results)}`;
    expect(text).toContain('[redacted]');
    for (const secret of [KEY, TOKEN, KEY.slice(0, 12), encodeURIComponent(KEY), KEY.toLowerCase()]) {
      expect(text).not.toContain(secret);
    }
    expect(results.slice(0, 5).every((r) => !r.ok && (r.error ?? '').length < 400)).toBe(true);
    expect(results[6]).toMatchObject({
      ok: true,
      rejectedDataPoints: 1,
      partialSuccessMessage: 'refused for [redacted]',
    });
  });
});

describe('headerScrubber', () => {
  it('replaces each value in its raw, JSON, URL-encoded and any-case forms, and the words of a value', () => {
    const s = headerScrubber({ 'api-key': 'a"b/c+d=e', authorization: 'Bearer tokentoken', x: 'abc' });
    expect(s('k=a"b/c+d=e j="a\\"b/c+d=e" u=a%22b%2Fc%2Bd%3De')).toBe('k=[redacted] j="[redacted]" u=[redacted]');
    expect(s('Bearer tokentoken / TOKENTOKEN')).toBe('[redacted] / [redacted]');
    // too short to scrub without blanking ordinary words
    expect(s('abc')).toBe('abc');
  });
});
