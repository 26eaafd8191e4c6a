/**
 * Body → request: decompression with a hard output limit, then the protobuf
 * or JSON decoder. `BodyDecoder` picks the way per body:
 *
 * - small bodies (up to `thresholdBytes`): inline, zlib on libuv's pool;
 * - big protobuf bodies: decompressed on libuv's pool, then decoded on the
 *   main thread in slices that yield to the event loop every few ms
 *   (decodeProtobufRequestSliced), so /health and other requests are
 *   answered while a 15 MB body decodes;
 * - big JSON bodies: JSON.parse cannot be sliced, so a piscina worker
 *   (workers/decode.ts) parses them and hands back the request re-encoded as
 *   protobuf, which is then decoded in slices as above. Handing back the
 *   decoded objects instead would block the main thread about as long as
 *   decoding (structured clone of the object graph; a typed array crosses as
 *   one copy). Without `decode_workers` one worker is started on the first
 *   big JSON body.
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { Piscina } from 'piscina';
import { decodeJsonRequest } from '../../otlp/decode/json-decode.js';
import { decodeProtobufRequest, decodeProtobufRequestSliced } from '../../otlp/decode/pb-decode.js';
import { OtlpDecodeError } from '../../otlp/decode/wire.js';
import { countDataPoints, type ExportMetricsServiceRequest } from '../../otlp/model.js';
import { workerModule } from '../../util/package.js';

export type BodyEncoding = 'protobuf' | 'json';

export type DecodeOutcome =
  | { ok: true; request: ExportMetricsServiceRequest; points: number; decodedBytes: number }
  | { ok: false; status: 400 | 413; message: string };

/** What a decode worker receives (workers/decode.ts). */
export interface DecodeTask {
  body: Uint8Array;
  encoding: BodyEncoding;
  gzip: boolean;
  maxBytes: number;
}

/** What a decode worker answers: the request as protobuf bytes, or the failure. */
export type ReencodeOutcome =
  | { ok: true; protobuf: Uint8Array; decodedBytes: number }
  | { ok: false; status: 400 | 413; message: string };

/** A main-thread slice of a big body's decode runs at most about this long before yielding (ms). */
export const DECODE_SLICE_MS = 8;

const gunzipAsync = promisify(zlib.gunzip) as (buf: Uint8Array, opts: zlib.ZlibOptions) => Promise<Buffer>;

function tooLarge(limit: number): DecodeOutcome {
  return { ok: false, status: 413, message: `decompressed body exceeds the ${limit}-byte limit` };
}

function gzipFailure(e: unknown, limit: number): DecodeOutcome {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) return tooLarge(limit);
  return { ok: false, status: 400, message: `gzip body cannot be decompressed: ${err?.message ?? String(e)}` };
}

/** Decode already-decompressed bytes. Never throws. */
export function decodeBytes(bytes: Uint8Array, encoding: BodyEncoding): DecodeOutcome {
  try {
    const request =
      encoding === 'protobuf'
        ? decodeProtobufRequest(bytes)
        : decodeJsonRequest(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
    return { ok: true, request, points: countDataPoints(request), decodedBytes: bytes.length };
  } catch (e) {
    const what = encoding === 'protobuf' ? 'protobuf' : 'JSON';
    const message = e instanceof OtlpDecodeError ? e.message : String((e as Error)?.message ?? e);
    return { ok: false, status: 400, message: `malformed ${what} ExportMetricsServiceRequest: ${message}` };
  }
}

/**
 * Called with the decompressed protobuf bytes of a body before they are
 * decoded; returns the bytes to decode (the receiver's shedding, shed.ts).
 * What it throws comes out of `decode`.
 */
export type ProtobufHook = (bytes: Uint8Array) => Uint8Array;

/** Synchronous decompress + decode (what a worker runs). Never throws. */
export function decodeTaskSync(task: DecodeTask): DecodeOutcome {
  let bytes = task.body;
  if (task.gzip) {
    try {
      bytes = zlib.gunzipSync(task.body, { maxOutputLength: task.maxBytes });
    } catch (e) {
      return gzipFailure(e, task.maxBytes);
    }
  }
  return decodeBytes(bytes, task.encoding);
}

/**
 * zlib output chunk for a gzip body: its trailer's ISIZE (the uncompressed
 * size mod 2^32, exact for one member under 4 GiB) so that one pass on the
 * thread pool inflates it, instead of a round trip per 16 KiB; clamped to
 * [64 KiB, limit + 1] and to what deflate can reach from this many bytes, so
 * a lying trailer cannot make it allocate more than a real body would.
 */
export function gunzipChunkSize(body: Uint8Array, limit: number): number {
  return Math.max(64 * 1024, Math.min(gzipIsize(body) + 1, limit + 1, body.length * 1032));
}

function gzipIsize(body: Uint8Array): number {
  const n = body.length;
  return n >= 18 ? (body[n - 4]! | (body[n - 3]! << 8) | (body[n - 2]! << 16) | (body[n - 1]! << 24)) >>> 0 : 0;
}

/**
 * What a gzip body will decompress to, for admission: the trailer's ISIZE,
 * clamped to what deflate can reach from this many bytes and to `limit`
 * (a lying trailer is caught by the decompression's own limit).
 */
export function gzipDecompressedSize(body: Uint8Array, limit: number): number {
  return Math.min(gzipIsize(body), limit, body.length * 1032);
}

/**
 * Inline decode; decompression runs on the zlib thread pool. Never throws,
 * except what `hook` throws.
 */
export async function decodeTaskInline(task: DecodeTask, hook?: ProtobufHook): Promise<DecodeOutcome> {
  let bytes = task.body;
  if (task.gzip) {
    try {
      bytes = await gunzipAsync(task.body, {
        maxOutputLength: task.maxBytes,
        chunkSize: gunzipChunkSize(task.body, task.maxBytes),
      });
    } catch (e) {
      return gzipFailure(e, task.maxBytes);
    }
  }
  if (hook && task.encoding === 'protobuf') bytes = hook(bytes);
  return decodeBytes(bytes, task.encoding);
}

/** Decode protobuf bytes in slices that yield to the event loop. Never throws. */
export async function decodeBytesSliced(bytes: Uint8Array, sliceMs = DECODE_SLICE_MS): Promise<DecodeOutcome> {
  try {
    const request = await decodeProtobufRequestSliced(bytes, { sliceMs });
    return { ok: true, request, points: countDataPoints(request), decodedBytes: bytes.length };
  } catch (e) {
    const message = e instanceof OtlpDecodeError ? e.message : String((e as Error)?.message ?? e);
    return { ok: false, status: 400, message: `malformed protobuf ExportMetricsServiceRequest: ${message}` };
  }
}

/** dist/workers/decode.js */
export function decodeWorkerFile(): string {
  return workerModule('decode');
}

export interface BodyDecoderOptions {
  /** decode worker threads for big JSON bodies; 0 = one, started when the first one arrives */
  workers: number;
  /** bodies (as received) larger than this are big: decoded in slices, JSON on a worker */
  thresholdBytes: number;
  /** worker module (default: decodeWorkerFile()) */
  workerFile?: string;
  /** main-thread slice length (default DECODE_SLICE_MS) */
  sliceMs?: number;
}

export class BodyDecoder {
  private pool: Piscina<DecodeTask, ReencodeOutcome> | undefined;
  private closed = false;

  constructor(private readonly opts: BodyDecoderOptions) {
    if (opts.workers > 0) this.pool = this.newPool(opts.workers, opts.workers);
  }

  private newPool(min: number, max: number): Piscina<DecodeTask, ReencodeOutcome> {
    return new Piscina({
      filename: this.opts.workerFile ?? decodeWorkerFile(),
      minThreads: min,
      maxThreads: max,
      idleTimeout: 60_000,
      name: 'default',
    });
  }

  /** Whether a body of this size and encoding is parsed on a worker (big JSON bodies). */
  usesWorker(bodyBytes: number, encoding: BodyEncoding = 'json'): boolean {
    return encoding === 'json' && bodyBytes > this.opts.thresholdBytes;
  }

  /** `hook` sees protobuf bodies after decompression (not JSON ones). */
  async decode(task: DecodeTask, hook?: ProtobufHook): Promise<DecodeOutcome> {
    const sliceMs = this.opts.sliceMs ?? DECODE_SLICE_MS;
    if (task.body.length <= this.opts.thresholdBytes) return decodeTaskInline(task, hook);
    if (task.encoding === 'protobuf') {
      let bytes = task.body;
      if (task.gzip) {
        try {
          bytes = await gunzipAsync(task.body, {
            maxOutputLength: task.maxBytes,
            chunkSize: gunzipChunkSize(task.body, task.maxBytes),
          });
        } catch (e) {
          return gzipFailure(e, task.maxBytes);
        }
      }
      if (hook) bytes = hook(bytes);
      return decodeBytesSliced(bytes, sliceMs);
    }
    if (this.closed) return { ok: false, status: 400, message: 'the receiver is shutting down' };
    this.pool ??= this.newPool(0, 1);
    const b = task.body;
    const own = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
    const r = await this.pool.run(task, own ? { transferList: [b.buffer as ArrayBuffer] } : undefined);
    if (!r.ok) return r;
    const out = await decodeBytesSliced(r.protobuf, sliceMs);
    return out.ok ? { ...out, decodedBytes: r.decodedBytes } : out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool?.destroy();
  }
}
