/**
 * Body → request: decompression with a hard output limit, then the protobuf
 * or JSON decoder. The same function runs inline (with zlib on libuv's thread
 * pool) and on piscina workers (workers/decode.ts); `BodyDecoder` picks one
 * per body by size.
 */
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { Piscina } from 'piscina';
import { decodeJsonRequest } from '../../otlp/decode/json-decode.js';
import { decodeProtobufRequest } from '../../otlp/decode/pb-decode.js';
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
  const n = body.length;
  const isize = n >= 18 ? (body[n - 4]! | (body[n - 3]! << 8) | (body[n - 2]! << 16) | (body[n - 1]! << 24)) >>> 0 : 0;
  return Math.max(64 * 1024, Math.min(isize + 1, limit + 1, n * 1032));
}

/** Inline decode; decompression runs on the zlib thread pool. Never throws. */
export async function decodeTaskInline(task: DecodeTask): Promise<DecodeOutcome> {
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
  return decodeBytes(bytes, task.encoding);
}

/** dist/workers/decode.js */
export function decodeWorkerFile(): string {
  return workerModule('decode');
}

export interface BodyDecoderOptions {
  /** 0 = every body inline */
  workers: number;
  /** bodies (as received) larger than this go to a worker */
  thresholdBytes: number;
  /** worker module (default: decodeWorkerFile()) */
  workerFile?: string;
}

export class BodyDecoder {
  private readonly pool: Piscina<DecodeTask, DecodeOutcome> | undefined;
  private closed = false;

  constructor(private readonly opts: BodyDecoderOptions) {
    if (opts.workers > 0) {
      this.pool = new Piscina({
        filename: opts.workerFile ?? decodeWorkerFile(),
        minThreads: opts.workers,
        maxThreads: opts.workers,
        idleTimeout: 60_000,
        name: 'default',
      });
    }
  }

  /** Whether a body of this size decodes on a worker. */
  usesWorker(bodyBytes: number): boolean {
    return this.pool !== undefined && bodyBytes > this.opts.thresholdBytes;
  }

  async decode(task: DecodeTask): Promise<DecodeOutcome> {
    if (!this.pool || !this.usesWorker(task.body.length)) return decodeTaskInline(task);
    const b = task.body;
    const own = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength && b.buffer instanceof ArrayBuffer;
    return this.pool.run(task, own ? { transferList: [b.buffer as ArrayBuffer] } : undefined);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool?.destroy();
  }
}
