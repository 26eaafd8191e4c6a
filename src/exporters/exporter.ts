/**
 * The exporter contract shared by every sink (file, OTLP/HTTP, stdout, none)
 * and the memoized encodings the fan-out hands to all of them.
 */

import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import type { ExportMetricsServiceRequest } from '../otlp/model.js';
import { encodeRequest } from '../otlp/proto.js';

const gzipAsync = promisify(gzip);

export interface ExportResult {
  /** the data reached its destination (for OTLP: a 2xx answer, possibly a partial success) */
  ok: boolean;
  /** bytes written (file, stdout) or sent on the wire (OTLP: compressed body, 0 when no response arrived) */
  bytes: number;
  /** why it failed; set when `ok` is false */
  error?: string;
  /** OTLP: protobuf size before compression */
  uncompressedBytes?: number;
  /** OTLP: HTTP status, when a response arrived */
  status?: number;
  /** OTLP partial success: data points the receiver rejected although it accepted the request */
  rejectedDataPoints?: number;
  /** OTLP partial success: the receiver's explanation */
  partialSuccessMessage?: string;
  /** sending the same data again may succeed (network error, timeout, HTTP 429/502/503/504) */
  retryable?: boolean;
  /** the receiver's Retry-After, in milliseconds */
  retryAfterMs?: number;
}

export interface Exporter {
  /** spec-like label for logs and stats, e.g. `file:/var/lib/nrdot/m.jsonl`; never holds secrets */
  readonly name: string;
  /** Prepare the sink; throws NrdotError (e.g. OUTPUT_UNWRITABLE) when it cannot work at all. Idempotent. */
  start(): Promise<void>;
  /**
   * Deliver one request. Runtime failures resolve to `{ ok: false }`; the
   * promise rejects only on misuse (before `start()` or after `shutdown()`).
   * An EncodedRequest lets a caller share encodings across exporters.
   */
  export(payload: ExportPayload): Promise<ExportResult>;
  /** Finish pending work and release resources. Safe to call more than once. */
  shutdown(): Promise<void>;
}

/**
 * Encodings of one request, each computed at most once and only when some
 * exporter asks for it: the JSON line for file sinks, the protobuf bytes and
 * their gzip for OTLP sinks.
 */
export class EncodedRequest {
  private jsonText?: string;
  private pbBytes?: Uint8Array;
  private gzBytes?: Promise<Uint8Array>;
  private req?: ExportMetricsServiceRequest;
  private readonly make?: () => ExportMetricsServiceRequest;

  /**
   * `request`: the request, or a function that makes it on first use (the
   * engine hands over protobuf bytes and decodes them only if a file or
   * stdout exporter asks for the model). `protobuf`: bytes already produced
   * by `encodeRequest(request)`, reused as is.
   */
  constructor(request: ExportMetricsServiceRequest | (() => ExportMetricsServiceRequest), protobuf?: Uint8Array) {
    if (typeof request === 'function') this.make = request;
    else this.req = request;
    this.pbBytes = protobuf;
  }

  /** The request as the OTLP/JSON model. */
  get request(): ExportMetricsServiceRequest {
    this.req ??= this.make!();
    return this.req;
  }

  /** `JSON.stringify` of the request (OTLP/JSON), without a trailing newline. */
  json(): string {
    this.jsonText ??= JSON.stringify(this.request);
    return this.jsonText;
  }

  /** OTLP protobuf bytes; throws when the request holds a malformed 64-bit value. */
  protobuf(): Uint8Array {
    this.pbBytes ??= encodeRequest(this.request);
    return this.pbBytes;
  }

  /** gzip of `protobuf()`, compressed off the event loop (zlib thread pool). */
  gzippedProtobuf(): Promise<Uint8Array> {
    if (!this.gzBytes) {
      const p = (async () => gzipAsync(this.protobuf()))();
      // let a later caller retry after a failure rather than share the rejection forever
      p.catch(() => {
        if (this.gzBytes === p) this.gzBytes = undefined;
      });
      this.gzBytes = p;
    }
    return this.gzBytes;
  }
}

/** What an exporter takes: a request, or a request with encodings to share. */
export type ExportPayload = ExportMetricsServiceRequest | EncodedRequest;

/** The encodings of a payload (fresh ones for a bare request). */
export function encodingsFor(payload: ExportPayload): EncodedRequest {
  return payload instanceof EncodedRequest ? payload : new EncodedRequest(payload);
}

/** Start/shutdown bookkeeping shared by the exporters. */
export class Lifecycle {
  private state: 'new' | 'started' | 'stopped' = 'new';
  private stopping?: Promise<void>;

  constructor(private readonly name: string) {}

  get started(): boolean {
    return this.state === 'started';
  }

  get stopped(): boolean {
    return this.state === 'stopped';
  }

  markStarted(): void {
    if (this.state === 'new') this.state = 'started';
  }

  /** Throw unless export() is allowed now. */
  assertExportable(): void {
    if (this.state === 'started') return;
    throw new NrdotError(
      ErrorCodes.RUNTIME,
      this.state === 'new'
        ? `exporter ${this.name}: export() called before start()`
        : `exporter ${this.name}: export() called after shutdown()`,
    );
  }

  assertStartable(): void {
    if (this.state === 'stopped') {
      throw new NrdotError(ErrorCodes.RUNTIME, `exporter ${this.name}: start() called after shutdown()`);
    }
  }

  /** Run `close` once; later calls get the same promise. */
  shutdown(close: () => Promise<void>): Promise<void> {
    if (!this.stopping) {
      this.state = 'stopped';
      this.stopping = close();
    }
    return this.stopping;
  }
}

/** One-line description of any thrown value, with its errno code when there is one. */
export function describeError(e: unknown): string {
  if (e instanceof AggregateError && e.errors.length > 0) {
    return [...new Set(e.errors.map(describeError))].join('; ');
  }
  if (e instanceof Error) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = e.message || e.name;
    if (code && !msg.includes(code)) return `${code}: ${msg}`;
    if (!e.message && e.cause !== undefined) return `${msg}: ${describeError(e.cause)}`;
    return msg;
  }
  return String(e);
}
