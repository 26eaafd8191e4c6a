/** Shared pieces of the chain tests: a scripted `Send`, a request, a log capture. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { Send, SendRequest, SendResult } from '../../../src/exporters/chain/index.js';

export const REQ: SendRequest = { body: new Uint8Array([1, 2, 3]), uncompressedBytes: 10, points: 4, lane: 'standard' };

export const OK: SendResult = { ok: true, bytes: 3, status: 200 };

export function httpFailure(status: number, retryAfterMs?: number): SendResult {
  const r: SendResult = {
    ok: false,
    bytes: 3,
    status,
    error: `HTTP ${status}`,
    retryable: [429, 502, 503, 504].includes(status),
  };
  if (retryAfterMs !== undefined) r.retryAfterMs = retryAfterMs;
  return r;
}

export const NETWORK: SendResult = {
  ok: false,
  bytes: 0,
  error: 'ECONNREFUSED: connect ECONNREFUSED',
  retryable: true,
};

/** A Send that answers from `script` in order (the last entry repeats) and counts its calls. */
export function scripted(...script: SendResult[]): Send & { calls: number } {
  const send = Object.assign(
    async (_req: SendRequest) => {
      const r = script[Math.min(send.calls, script.length - 1)]!;
      send.calls++;
      return r;
    },
    { calls: 0 },
  );
  return send;
}

/** A Send whose calls stay pending until the test settles them. */
export function controlled(): Send & { pending: Array<(r: SendResult) => void>; calls: number } {
  const pending: Array<(r: SendResult) => void> = [];
  const send = Object.assign(
    (_req: SendRequest) =>
      new Promise<SendResult>((resolve) => {
        send.calls++;
        pending.push(resolve);
      }),
    { pending, calls: 0 },
  );
  return send;
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as LogLine);
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export const WARN = 40;
export const INFO = 30;
