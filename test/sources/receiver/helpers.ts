/** A recording sink, clients for the receiver tests, and body codecs. */
import * as net from 'node:net';
import { request } from 'undici';
import type { ExportMetricsServiceRequest } from '../../../src/otlp/model.js';
import { decodeResponse } from '../../../src/otlp/proto.js';
import type { BodyEncoding } from '../../../src/sources/receiver/decode.js';
import type { ReceiverSink } from '../../../src/sources/receiver/server.js';

export interface Accepted {
  req: ExportMetricsServiceRequest;
  meta: { points: number; bytes: number; encoding: BodyEncoding };
}

export class RecordingSink implements ReceiverSink {
  accepted: Accepted[] = [];
  admitCalls = 0;
  refuse: { retryAfterSec: number; reason: string } | undefined;
  reject: { rejectedDataPoints?: number; errorMessage?: string } = {};
  throwWith: Error | undefined;
  /** keep only counts (fuzz, load) */
  countOnly = false;
  points = 0;

  admit() {
    this.admitCalls++;
    return this.refuse ? { ok: false as const, ...this.refuse } : { ok: true as const };
  }

  async accept(req: ExportMetricsServiceRequest, meta: Accepted['meta']) {
    if (this.throwWith) throw this.throwWith;
    this.points += meta.points;
    if (!this.countOnly) this.accepted.push({ req, meta });
    return this.reject;
  }
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export async function post(
  url: string,
  body: Uint8Array | string,
  headers: Record<string, string>,
  method: 'POST' | 'GET' | 'PUT' = 'POST',
): Promise<Answer> {
  const res = await request(url, { method, body: method === 'GET' ? undefined : body, headers });
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) };
}

/** The google.rpc.Status message of an error answer (JSON or protobuf). */
export function statusMessage(a: Answer): string {
  if (String(a.headers['content-type']).startsWith('application/json')) return JSON.parse(a.body.toString()).message;
  // protobuf: field 1 varint code, field 2 string message
  let i = 0;
  if (a.body[i] === 0x08) {
    i++;
    while (a.body[i++]! & 0x80);
  }
  if (a.body[i++] !== 0x12) return '';
  let len = 0;
  let shift = 0;
  for (;;) {
    const c = a.body[i++]!;
    len |= (c & 0x7f) << shift;
    shift += 7;
    if (c < 0x80) break;
  }
  return a.body.subarray(i, i + len).toString('utf8');
}

export function partialSuccess(a: Answer) {
  if (String(a.headers['content-type']).startsWith('application/json')) return JSON.parse(a.body.toString());
  return decodeResponse(a.body);
}

/**
 * Raw HTTP over a socket: sends the head and `send` bytes of body, then waits
 * for the answer without sending the rest. Resolves with the status line's
 * code and how many body bytes were written before the answer came.
 */
export function rawExchange(
  url: string,
  head: Record<string, string>,
  bodyChunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<{ status: number; text: string; written: number }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port), u.hostname);
    let text = '';
    let written = 0;
    let answered = false;
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (!answered && /\r\n\r\n/.test(text)) answered = true;
    });
    socket.on('error', () => {
      /* the server may reset once it has answered */
    });
    socket.on('close', () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) resolve({ status: Number(m[1]), text, written });
      else reject(new Error(`no HTTP answer (got ${JSON.stringify(text.slice(0, 80))})`));
    });
    const lines = [`POST ${u.pathname} HTTP/1.1`, `Host: ${u.host}`];
    for (const [k, v] of Object.entries(head)) lines.push(`${k}: ${v}`);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    (async () => {
      for await (const c of bodyChunks as AsyncIterable<Uint8Array>) {
        if (answered || socket.destroyed) break;
        written += c.length;
        if (!socket.write(c)) await new Promise((r) => setTimeout(r, 5));
      }
      // wait for the answer, then close our side
      const started = Date.now();
      while (!answered && !socket.destroyed && Date.now() - started < 20_000)
        await new Promise((r) => setTimeout(r, 5));
      socket.end();
    })().catch(reject);
  });
}
