/**
 * OTLP/HTTP exporter: protobuf body, gzip-compressed, POSTed with undici over
 * a keep-alive connection pool.
 *
 * Endpoint rule: a URL whose path is empty or ends in `/` is a base endpoint
 * and gets `v1/metrics` appended (`http://host:4318` -> `http://host:4318/v1/metrics`,
 * `https://host/otlp/` -> `https://host/otlp/v1/metrics`); any other path,
 * e.g. `/v1/metrics` or `/custom/ingest`, is the full metrics endpoint and is
 * used as is. The query string is kept.
 *
 * Failures (unreachable endpoint, timeout, non-2xx) never throw: they are
 * logged without header values and returned as `{ ok: false }` with a
 * `retryable` hint for a later queue/retry stage. A response body that goes
 * into an error or a log line (error answers, partial-success messages) is
 * first scrubbed of every configured header value (a backend or proxy that
 * echoes the request's headers would otherwise put the api-key in the
 * logs), then truncated.
 */

import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
// undici is loaded when an OTLP exporter starts: a run that only writes files does not carry it (about 11 MiB)
import type { Pool } from 'undici';
import { type Logger, silentLogger } from '../../core/log.js';
import { decodeResponse } from '../../otlp/proto.js';
import { USER_AGENT } from '../../util/version.js';
import {
  describeError,
  type Exporter,
  type ExportPayload,
  type ExportResult,
  encodingsFor,
  Lifecycle,
} from '../exporter.js';
import { endpointLabel, normalizeHeaders, resolveOtlpEndpoint } from './endpoint.js';

export { endpointLabel, normalizeHeaders, OTLP_METRICS_PATH, resolveOtlpEndpoint } from './endpoint.js';

const gunzipAsync = promisify(gunzip);

/** Idle keep-alive time of a pooled socket (not configurable). */
const KEEP_ALIVE_MS = 30_000;
/** Response bodies beyond this are not read (a partial-success answer is tiny). */
const MAX_RESPONSE_BYTES = 1 << 20;
/** How much of an error response body goes into the result/log. */
const MAX_ERROR_SNIPPET = 300;
/**
 * Answers worth sending the same data again for: the OTLP specification's
 * 429, 502, 503 and 504, and also other 5xx (a backend failing on its side
 * must not make nrdot drop what it accepted) and 3xx (undici does not follow
 * redirects; the data waits while the URL is fixed). 501 and 505 say the
 * request can never succeed. Other 4xx are the request's fault: not retried.
 */
function retryableStatus(status: number): boolean {
  if (status === 429) return true;
  if (status >= 300 && status < 400) return true;
  return status >= 500 && status !== 501 && status !== 505;
}
/** Headers nrdot sets itself; user values for them are ignored. */
const RESERVED_HEADERS = new Set([
  'content-type',
  'content-encoding',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
]);

export interface OtlpHttpExporterOptions {
  /** http(s) URL; resolved with `resolveOtlpEndpoint` */
  url: string;
  logger?: Logger;
  /** extra request headers, e.g. `{ 'api-key': '...' }`; values are never logged */
  headers?: Readonly<Record<string, string>>;
  /** whole-request timeout (connect, send, response): `export_options.otlp.timeout` */
  timeoutMs: number;
  /** max sockets to the endpoint: `export_options.otlp.connections` */
  connections: number;
  /** idle keep-alive time of a socket (default 30 s) */
  keepAliveMs?: number;
}

export type OtlpExportResult = ExportResult & { uncompressedBytes: number };

/** A Retry-After header (seconds, or an HTTP date against `nowMs`) in ms; undefined when absent or unreadable. */
export function parseRetryAfter(v: string | string[] | undefined, nowMs = Date.now()): number | undefined {
  const s = (Array.isArray(v) ? v[0] : v)?.trim();
  if (!s) return undefined;
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.max(0, t - nowMs);
}

function headerString(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of body) {
    n += chunk.length;
    if (n > MAX_RESPONSE_BYTES) {
      body.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Partial success out of a 2xx body (protobuf or, from some receivers, JSON). */
async function parsePartialSuccess(
  raw: Buffer,
  contentType: string,
  contentEncoding: string,
): Promise<{ rejected: number; message: string }> {
  let body = raw;
  if (body.length === 0) return { rejected: 0, message: '' };
  if (/\bgzip\b/i.test(contentEncoding)) body = await gunzipAsync(body);
  let rejected: string | number | undefined;
  let message: string | undefined;
  if (/json/i.test(contentType)) {
    const parsed = JSON.parse(body.toString('utf8')) as {
      partialSuccess?: { rejectedDataPoints?: string | number; errorMessage?: string };
    };
    rejected = parsed?.partialSuccess?.rejectedDataPoints;
    message = parsed?.partialSuccess?.errorMessage;
  } else {
    const ps = decodeResponse(body).partialSuccess;
    rejected = ps?.rejectedDataPoints;
    message = ps?.errorMessage;
  }
  const n = Number(rejected ?? 0);
  return { rejected: Number.isFinite(n) ? n : 0, message: message ?? '' };
}

/** Values shorter than this are not scrubbed (they would blank out ordinary words). */
const MIN_SECRET_LENGTH = 6;
const escapeRe = (v: string) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A function that replaces every configured header value in a text with
 * `[redacted]`: the value as sent, JSON-escaped and URL-encoded, in any
 * case, and each word of it (`Bearer <token>`: the token alone too).
 */
export function headerScrubber(headers: Readonly<Record<string, string>>): (text: string) => string {
  const forms = new Set<string>();
  for (const v of Object.values(headers)) {
    for (const s of [v, ...v.split(/\s+/)]) {
      if (s.length < MIN_SECRET_LENGTH) continue;
      forms.add(s);
      forms.add(JSON.stringify(s).slice(1, -1));
      forms.add(encodeURIComponent(s));
    }
  }
  if (forms.size === 0) return (t) => t;
  // longest first, so a whole value is replaced before one of its words
  const re = new RegExp(
    [...forms]
      .sort((a, b) => b.length - a.length)
      .map(escapeRe)
      .join('|'),
    'gi',
  );
  return (t) => t.replace(re, '[redacted]');
}

/** The part of an error body worth logging: scrubbed first, then cut to MAX_ERROR_SNIPPET characters. */
function snippet(raw: Buffer, contentType: string, scrub: (t: string) => string): string {
  if (raw.length === 0) return '';
  if (!/^(text\/|application\/(json|problem\+json|xml))/i.test(contentType)) return ` (${raw.length} byte body)`;
  const text = scrub(raw.toString('utf8')).replace(/\s+/g, ' ').trim();
  return text ? `: ${text.length > MAX_ERROR_SNIPPET ? `${text.slice(0, MAX_ERROR_SNIPPET)}…` : text}` : '';
}

export class OtlpHttpExporter implements Exporter {
  readonly name: string;
  readonly endpoint: URL;
  private readonly label: string;
  private readonly logger: Logger;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly connections: number;
  private readonly keepAliveMs: number;
  private readonly lifecycle: Lifecycle;
  /** removes configured header values from what the backend answers, before it is logged */
  private readonly scrub: (text: string) => string;
  private pool?: Pool;
  private consecutiveFailures = 0;

  constructor(options: OtlpHttpExporterOptions) {
    this.endpoint = resolveOtlpEndpoint(options.url);
    this.label = endpointLabel(this.endpoint);
    this.name = `otlp:${this.label}`;
    this.logger = options.logger ?? silentLogger;
    this.timeoutMs = options.timeoutMs;
    if (!(this.timeoutMs > 0)) throw new RangeError(`OTLP timeout must be positive, got ${options.timeoutMs}`);
    this.connections = options.connections;
    if (!(Number.isInteger(this.connections) && this.connections >= 1)) {
      throw new RangeError(`OTLP connections must be an integer >= 1, got ${options.connections}`);
    }
    this.keepAliveMs = options.keepAliveMs ?? KEEP_ALIVE_MS;
    this.lifecycle = new Lifecycle(this.name);

    const user = normalizeHeaders(options.headers);
    const ignored = Object.keys(user).filter((h) => RESERVED_HEADERS.has(h));
    if (ignored.length > 0) {
      this.logger.warn(
        { exporter: this.name, ignoredHeaders: ignored },
        'OTLP headers set by nrdot itself are ignored',
      );
    }
    for (const h of ignored) delete user[h];
    this.scrub = headerScrubber(user);
    this.headers = {
      'user-agent': USER_AGENT,
      ...user,
      'content-type': 'application/x-protobuf',
      'content-encoding': 'gzip',
    };
  }

  async start(): Promise<void> {
    this.lifecycle.assertStartable();
    if (this.pool) return;
    const { Pool } = await import('undici');
    if (this.pool) return;
    this.pool = new Pool(this.endpoint.origin, {
      connections: this.connections,
      keepAliveTimeout: this.keepAliveMs,
      connect: { timeout: this.timeoutMs },
    });
    this.lifecycle.markStarted();
  }

  async export(payload: ExportPayload): Promise<OtlpExportResult> {
    this.lifecycle.assertExportable();
    const enc = encodingsFor(payload);
    let raw: Uint8Array;
    let body: Uint8Array;
    try {
      raw = enc.protobuf();
      body = await enc.gzippedProtobuf();
    } catch (e) {
      return this.failed({ ok: false, bytes: 0, uncompressedBytes: 0, error: `encoding failed: ${describeError(e)}` });
    }
    return this.sendBody(body, raw.length);
  }

  /**
   * POST an already gzip-compressed protobuf body (what the export queue
   * holds). `uncompressedBytes` is only reported back. `signal` aborts the
   * request (counted as a retryable failure).
   */
  async sendBody(body: Uint8Array, uncompressedBytes: number, signal?: AbortSignal): Promise<OtlpExportResult> {
    this.lifecycle.assertExportable();
    const pool = this.pool!;
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, this.timeoutMs);
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let status: number | undefined;
    try {
      const res = await pool.request({
        path: `${this.endpoint.pathname}${this.endpoint.search}`,
        method: 'POST',
        headers: this.headers,
        body,
        signal: ac.signal,
      });
      status = res.statusCode;
      const payload = await readCapped(res.body);
      clearTimeout(timer);
      const contentType = headerString(res.headers['content-type']);

      if (status < 200 || status > 299) {
        const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
        const result: OtlpExportResult = {
          ok: false,
          bytes: body.length,
          uncompressedBytes,
          status,
          error: `HTTP ${status}${snippet(payload, contentType, this.scrub)}`,
          retryable: retryableStatus(status),
        };
        if (retryAfterMs !== undefined) result.retryAfterMs = retryAfterMs;
        return this.failed(result);
      }

      const result: OtlpExportResult = { ok: true, bytes: body.length, uncompressedBytes, status };
      try {
        const ps = await parsePartialSuccess(payload, contentType, headerString(res.headers['content-encoding']));
        if (ps.rejected > 0 || ps.message) {
          const message = this.scrub(ps.message).slice(0, MAX_ERROR_SNIPPET);
          result.rejectedDataPoints = ps.rejected;
          result.partialSuccessMessage = message;
          this.logger.warn(
            { exporter: this.name, status, rejectedDataPoints: ps.rejected, message },
            'OTLP receiver reported a partial success',
          );
        }
      } catch (e) {
        // the request was accepted; an unreadable answer does not change that
        // a JSON parse error quotes the body: scrubbed like the body
        this.logger.debug(
          { exporter: this.name, status, err: this.scrub(describeError(e)).slice(0, MAX_ERROR_SNIPPET) },
          'unparsable OTLP response body',
        );
      }
      this.succeeded();
      return result;
    } catch (e) {
      const error = timedOut
        ? `timed out after ${this.timeoutMs} ms`
        : signal?.aborted
          ? 'aborted (shutting down)'
          : this.scrub(describeError(e));
      const result: OtlpExportResult = {
        ok: false,
        bytes: status === undefined ? 0 : body.length,
        uncompressedBytes,
        error,
        retryable: true,
      };
      if (status !== undefined) result.status = status;
      return this.failed(result);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private failed(result: OtlpExportResult): OtlpExportResult {
    this.consecutiveFailures++;
    // During an outage every retry fails: log the 1st, 2nd, 4th, 8th ...
    // failure in a row at warn, the rest at debug.
    const n = this.consecutiveFailures;
    const level = (n & (n - 1)) === 0 ? 'warn' : 'debug';
    this.logger[level](
      {
        exporter: this.name,
        endpoint: this.label,
        status: result.status,
        error: result.error,
        retryable: result.retryable,
        consecutiveFailures: this.consecutiveFailures,
      },
      'OTLP export failed',
    );
    return result;
  }

  private succeeded(): void {
    if (this.consecutiveFailures > 0) {
      this.logger.info(
        { exporter: this.name, failuresBefore: this.consecutiveFailures },
        'OTLP export succeeded again',
      );
    }
    this.consecutiveFailures = 0;
  }

  shutdown(): Promise<void> {
    return this.lifecycle.shutdown(async () => {
      const pool = this.pool;
      if (!pool) return;
      try {
        // waits for in-flight requests, each bounded by the timeout
        await pool.close();
      } catch (e) {
        this.logger.debug({ exporter: this.name, err: describeError(e) }, 'closing the OTLP connection pool failed');
        await pool.destroy().catch(() => {});
      }
    });
  }
}
