/**
 * One OpAMP/HTTP exchange: POST an AgentToServer (protobuf), read the
 * ServerToAgent answer. Failures that say when to come back (429/503 with
 * Retry-After, an Unavailable error_response with retry_info) are a
 * RetryAfter; the client's backoff takes the larger of that and its own.
 */
import { request } from 'undici';
import { type BackoffOptions, backoffDelay } from '../../exporters/chain/retry.js';
import { parseRetryAfter } from '../../exporters/otlp/send.js';
import {
  type AgentToServer,
  decodeServerToAgent,
  encodeAgentToServer,
  ServerErrorResponseType,
  type ServerToAgent,
} from './proto.js';

export class RetryAfter extends Error {
  constructor(
    message: string,
    readonly delayMs: number | undefined,
  ) {
    super(message);
  }
}

/**
 * The delay before retry number `failures` (1, 2, ...): the export chain's
 * backoff (doubling from `initialMs` up to `maxMs`, jittered), and at least
 * what the server asked for (at most an hour).
 */
export function retryDelay(failures: number, e: unknown, o: BackoffOptions): number {
  const jittered = backoffDelay(failures, o);
  if (e instanceof RetryAfter && e.delayMs !== undefined) return Math.min(3_600_000, Math.max(e.delayMs, jittered));
  return jittered;
}

export interface ExchangeOptions {
  endpoint: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal;
  now: () => number;
}

export async function exchange(msg: AgentToServer, o: ExchangeOptions): Promise<ServerToAgent> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(o.endpoint, {
      method: 'POST',
      headers: { ...o.headers, 'content-type': 'application/x-protobuf' },
      body: encodeAgentToServer(msg),
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      signal: o.signal,
    });
  } catch (e) {
    throw new Error((e as { code?: string }).code ?? (e as Error).message);
  }
  const buf = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode === 429 || res.statusCode === 503) {
    throw new RetryAfter(`HTTP ${res.statusCode}`, parseRetryAfter(res.headers['retry-after'], o.now()));
  }
  if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`HTTP ${res.statusCode}`);
  let answer: ServerToAgent;
  try {
    answer = decodeServerToAgent(buf);
  } catch (e) {
    throw new Error(`the answer is not a ServerToAgent message: ${(e as Error).message}`);
  }
  const err = answer.error_response;
  if (err && err.type === ServerErrorResponseType.Unavailable) {
    const ns = err.retry_info?.retry_after_nanoseconds;
    throw new RetryAfter(`server unavailable: ${err.error_message ?? ''}`, ns !== undefined ? ns / 1e6 : undefined);
  }
  return answer;
}
