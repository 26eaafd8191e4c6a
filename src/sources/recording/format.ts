/**
 * The on-disk format of a recording (pure functions, no I/O).
 *
 * A recording is a directory:
 *
 *   recording.json   the header: format name and version, the nrdot version
 *                    that wrote it, where and how it was recorded, and once
 *                    the recorder finished, `complete`, `scans` and `endedAt`
 *   scans.nrec       the scans, append-only:
 *
 *   file header (16 bytes)
 *     0  8  magic "NRDOTREC"
 *     8  4  format version (u32 LE)
 *    12  4  reserved (0)
 *
 *   record frame (8 bytes + payload), one per scan
 *     0  4  payload length (u32 LE)
 *     4  4  CRC32 over bytes 0-3 and the payload
 *     8  n  payload: gzip of the record body
 *
 *   record body
 *     0  4  meta length m (u32 LE)
 *     4  m  meta: JSON (RecordMeta: time, host info, counters, host files,
 *           and the strings of the identities new in this scan)
 *   4+m  …  the columns of COLUMNS, in order, `count` values each (and
 *           `fresh` values for freshRows), little-endian, no padding
 *
 * Columns other than `pid` and `freshRows` are stored XORed with the value
 * the same pid had in the previous record (0 for a pid that was not in it),
 * as raw IEEE/int bits: exact, and a process that did not change between two
 * scans is a run of zero bytes that gzip all but removes. A record therefore
 * decodes only after the one before it: replay reads from the start.
 *
 * Version 2 adds key records (meta `key: true`): a record stored without a
 * reference, whose fresh rows are every row, so the records from it on
 * decode without anything before them. An agent's scan history
 * (history.ts) starts a key record at each of its segments, and drops whole
 * segments from the front. `nrdot record` writes version 1 (only the first
 * record is without a reference, and version-1 readers read it).
 */
import * as zlib from 'node:zlib';
import { PidRows } from '../../core/pid-rows.js';
import type { HostInfo, ProcessBatch, ScanCounters } from '../batch.js';

export const RECORDING_FORMAT = 'nrdot-recording';
/**
 * The newest format version this nrdot reads (bumped when a reader of the
 * previous version could not read what is written).
 */
export const RECORDING_VERSION = 2;
/** What `nrdot record` writes: no key records after the first, so nrdot versions that read only 1 read it. */
export const RECORDING_VERSION_PLAIN = 1;
export const HEADER_FILE = 'recording.json';
export const SCANS_FILE = 'scans.nrec';
export const SCANS_MAGIC = 'NRDOTREC';
export const FILE_HEADER_BYTES = 16;
export const FRAME_HEADER_BYTES = 8;
/** A frame claiming more than this is damage, not a scan (a 1M-process scan is ~150 MB raw). */
export const MAX_RECORD_BYTES = 1 << 30;

/** The host files recorded with each scan (absent when unreadable). */
export const HOST_FILES = ['stat', 'uptime', 'meminfo', 'loadavg'] as const;
export type HostFileName = (typeof HOST_FILES)[number];
export type HostFiles = Partial<Record<HostFileName, string>>;

/** recording.json */
export interface RecordingHeader {
  format: typeof RECORDING_FORMAT;
  version: number;
  /** nrdot version that wrote it */
  nrdot: string;
  createdAt: string;
  /** the tree that was recorded and the backend that read it */
  procRoot: string;
  backend: string;
  hostname: string;
  /** the interval the recorder aimed at between scans */
  intervalMs: number;
  /** byte order of the columns (only LE is written) */
  endianness: 'LE';
  /**
   * what each scan read. `nrdot record` reads everything, so any metric set
   * and any scan options replay. An agent's history holds what the agent read
   * (`detail: exported`: `status`, `io` and `fd/` only of the processes it
   * exported, and of new ones; `bounded`: scan bounds left processes out).
   */
  scanOptions: {
    detail: 'all' | 'exported';
    files: { status: boolean; io: boolean; fds: boolean };
    cgroup: boolean;
    bounded?: boolean;
  };
  /** who wrote it: `nrdot record` (absent) or a running agent's scan history (`agent`) */
  source?: 'record' | 'agent';
  /** privacy.command_line of the agent whose history this is (its command lines were stored that way) */
  commandLine?: string;
  hostFiles: readonly HostFileName[];
  /** set when the recorder finished (absent after a crash: the scans written so far are whole) */
  complete?: boolean;
  scans?: number;
  endedAt?: string;
}

export type ColumnKind = 'i32' | 'f64' | 'u8';
type NumericField = Exclude<
  {
    [K in keyof ProcessBatch]-?: ProcessBatch[K] extends Int32Array | Float64Array | Uint8Array ? K : never;
  }[keyof ProcessBatch],
  'freshRows'
>;

/** The per-row columns of a record, in stored order. */
export const COLUMNS: readonly (readonly [NumericField, ColumnKind])[] = [
  ['pid', 'i32'],
  ['ppid', 'i32'],
  ['startTicks', 'f64'],
  ['utimeSec', 'f64'],
  ['stimeSec', 'f64'],
  ['iowaitSec', 'f64'],
  ['rssBytes', 'f64'],
  ['vsizeBytes', 'f64'],
  ['threads', 'i32'],
  ['fds', 'i32'],
  ['state', 'u8'],
  ['readBytes', 'f64'],
  ['writeBytes', 'f64'],
  ['minFaults', 'f64'],
  ['majFaults', 'f64'],
  ['volCtx', 'f64'],
  ['involCtx', 'f64'],
  ['uid', 'i32'],
  ['flags', 'u8'],
];

const WIDTH: Record<ColumnKind, number> = { i32: 4, f64: 8, u8: 1 };

/** The JSON part of a record body. */
export interface RecordMeta {
  scannedAtMs: number;
  host: HostInfo;
  counters: ScanCounters;
  count: number;
  hostFiles: HostFiles;
  /** a key record (version 2): stored without a reference, decoded without one */
  key?: true;
  /** strings of the rows in `freshRows`, in that order */
  fresh: { name: string[]; cmdline: string[]; exe: string[]; cgroup: string[]; owner: string[] };
}

/** The strings of one identity (a process incarnation: pid and start time), as a recording carries them. */
export interface IdentityStrings {
  start: number;
  name: string;
  cmdline: string;
  exe: string;
  cgroup: string;
  owner: string;
}

/** One decoded scan: a full ProcessBatch (owners in `freshOwner`) and the host files. */
export interface RecordedScan {
  batch: ProcessBatch & { freshOwner: string[] };
  hostFiles: HostFiles;
}

/** Why a record or file cannot be read; the reader adds the file and the record number. */
export class RecordingFormatError extends Error {}

// ---- file header -------------------------------------------------------

export function encodeFileHeader(version = RECORDING_VERSION_PLAIN): Buffer {
  const b = Buffer.alloc(FILE_HEADER_BYTES);
  b.write(SCANS_MAGIC, 0, 'latin1');
  b.writeUInt32LE(version, 8);
  return b;
}

/** The format version of a scans file header; throws RecordingFormatError when it is not one. */
export function decodeFileHeader(b: Buffer): number {
  if (b.length < FILE_HEADER_BYTES) throw new RecordingFormatError(`short file header (${b.length} bytes)`);
  if (b.toString('latin1', 0, 8) !== SCANS_MAGIC) {
    throw new RecordingFormatError('bad magic (not an nrdot recording)');
  }
  return b.readUInt32LE(8);
}

// ---- frames -----------------------------------------------------------

export function frameCrc(lenBytes: Uint8Array, payload: Uint8Array): number {
  return zlib.crc32(payload, zlib.crc32(lenBytes)) >>> 0;
}

/** Frame header + payload, as one buffer (written with one write, so a crash tears at most the last record). */
export function encodeFrame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(frameCrc(out.subarray(0, 4), payload), 4);
  payload.copy(out, FRAME_HEADER_BYTES);
  return out;
}

// ---- record bodies ----------------------------------------------------

/** pid -> row of the previous record (-1: not in it), and its columns (the XOR reference). */
export interface Reference {
  rowOf: PidRows;
  batch: ProcessBatch;
}

/**
 * The reference for the next record: the columns are copied, since a
 * scanner may hand out views that its next scan overwrites. `reuse` (the
 * reference this one replaces) lends its arrays and map when they are large
 * enough, so a long recording does not allocate a copy of every scan.
 */
export function referenceOf(b: ProcessBatch, reuse?: Reference): Reference {
  const copy = { ...b };
  for (const [field] of COLUMNS) {
    const old = reuse?.batch[field];
    const src = b[field].subarray(0, b.count);
    if (old && old.length >= b.count) {
      old.set(src as never);
      (copy as Record<string, unknown>)[field] = old;
    } else {
      (copy as Record<string, unknown>)[field] = src.slice();
    }
  }
  // a repeated pid refers to its last row, as version-1 readers (a Map) read it
  return { rowOf: new PidRows(copy.pid, b.count, true), batch: copy };
}

function bytesOf(a: Int32Array | Float64Array | Uint8Array, n: number): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, n * a.BYTES_PER_ELEMENT);
}

/**
 * XOR the raw bits of row i of `dst` with row `refRow[i]` of `refCol` (same
 * element type), for rows that have a reference: 32 bits at a time for i32
 * and f64 columns (`dst` must then be 4-byte aligned), a byte at a time for u8.
 */
function xorColumn(
  dst: Uint8Array,
  refCol: Int32Array | Float64Array | Uint8Array,
  refRow: Int32Array,
  width: number,
): void {
  if (width === 1) {
    for (let i = 0; i < refRow.length; i++) {
      const j = refRow[i]!;
      if (j >= 0) dst[i]! ^= (refCol as Uint8Array)[j]!;
    }
    return;
  }
  const w = width >> 2;
  const d = new Int32Array(dst.buffer, dst.byteOffset, refRow.length * w);
  const r = new Int32Array(refCol.buffer, refCol.byteOffset, refCol.length * w);
  if (w === 1) {
    for (let i = 0; i < refRow.length; i++) {
      const j = refRow[i]!;
      if (j >= 0) d[i]! ^= r[j]!;
    }
    return;
  }
  for (let i = 0; i < refRow.length; i++) {
    const j = refRow[i]!;
    if (j < 0) continue;
    d[2 * i]! ^= r[2 * j]!;
    d[2 * i + 1]! ^= r[2 * j + 1]!;
  }
}

function refRows(b: ProcessBatch, ref: Reference | undefined): Int32Array {
  const out = new Int32Array(b.count).fill(-1);
  if (!ref) return out;
  for (let i = 0; i < b.count; i++) out[i] = ref.rowOf.get(b.pid[i]!);
  return out;
}

/** Buffers reused from record to record by a writer that encodes many (the agent's history). */
export interface EncodeScratch {
  buf: Buffer;
  words?: ArrayBuffer;
}

/** An 8-byte aligned buffer of at least `bytes`, the scratch's when given. */
function alignedScratch(scratch: EncodeScratch | undefined, bytes: number): ArrayBuffer {
  if (!scratch) return new ArrayBuffer(bytes);
  if (!scratch.words || scratch.words.byteLength < bytes) scratch.words = new ArrayBuffer(Math.ceil(bytes * 1.25));
  return scratch.words;
}

/**
 * The gzipped body of one scan. `ref` is the previous record's reference
 * (undefined for the first, or a key record: then meta says `key`).
 * `owners` name the owners of the fresh rows.
 */
export function encodeRecord(
  b: ProcessBatch,
  owners: readonly string[],
  hostFiles: HostFiles,
  ref: Reference | undefined,
  level = 6,
  /** a buffer to build the body in, grown as needed (the history's, reused record after record) */
  scratch?: EncodeScratch,
): Buffer {
  const meta: RecordMeta = {
    scannedAtMs: b.scannedAtMs,
    host: b.host,
    counters: b.counters,
    count: b.count,
    hostFiles,
    ...(ref ? {} : { key: true as const }),
    fresh: {
      name: b.freshName,
      cmdline: b.freshCmdline,
      exe: b.freshExe,
      cgroup: b.freshCgroup,
      owner: [...owners],
    },
  };
  const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
  const n = b.count;
  const rows = refRows(b, ref);
  // one buffer for the whole body, columns copied in and XORed in place (a scratch reused across records when given)
  let size = 4 + metaBytes.length + b.freshRows.length * 4;
  for (const [, kind] of COLUMNS) size += n * WIDTH[kind];
  let body: Buffer;
  if (scratch) {
    if (scratch.buf.length < size) scratch.buf = Buffer.allocUnsafe(Math.ceil(size * 1.25));
    body = scratch.buf.subarray(0, size);
  } else {
    body = Buffer.allocUnsafe(size);
  }
  body.writeUInt32LE(metaBytes.length, 0);
  metaBytes.copy(body, 4);
  let at = 4 + metaBytes.length;
  // columns are XORed in an aligned buffer (32 bits at a time), then copied into the body
  const words = alignedScratch(scratch, n * 8);
  for (const [field, kind] of COLUMNS) {
    const len = n * WIDTH[kind];
    const col = new Uint8Array(words, 0, len);
    col.set(bytesOf(b[field], n));
    if (field !== 'pid' && ref) xorColumn(col, ref.batch[field], rows, WIDTH[kind]);
    body.set(col, at);
    at += len;
  }
  bytesOf(b.freshRows, b.freshRows.length).copy(body, at);
  return zlib.gzipSync(body, { level });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkMeta(m: unknown): RecordMeta {
  if (!isObject(m)) throw new RecordingFormatError('meta is not an object');
  const count = m.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 0) {
    throw new RecordingFormatError('meta.count is not a row count');
  }
  if (typeof m.scannedAtMs !== 'number') throw new RecordingFormatError('meta.scannedAtMs is missing');
  if (!isObject(m.host) || typeof m.host.clkTck !== 'number') throw new RecordingFormatError('meta.host is missing');
  if (!isObject(m.counters)) throw new RecordingFormatError('meta.counters is missing');
  const f = m.fresh;
  if (!isObject(f)) throw new RecordingFormatError('meta.fresh is missing');
  const n = Array.isArray(f.name) ? f.name.length : -1;
  for (const k of ['name', 'cmdline', 'exe', 'cgroup', 'owner']) {
    const list = f[k];
    if (!Array.isArray(list) || list.length !== n || !list.every((s) => typeof s === 'string')) {
      throw new RecordingFormatError(`meta.fresh.${k} is not a list of ${n} strings`);
    }
  }
  return m as unknown as RecordMeta;
}

function column(kind: ColumnKind, src: Buffer, at: number, n: number): Int32Array | Float64Array | Uint8Array {
  const bytes = n * WIDTH[kind];
  const ab = new ArrayBuffer(bytes);
  src.copy(new Uint8Array(ab), 0, at, at + bytes);
  return kind === 'i32' ? new Int32Array(ab) : kind === 'f64' ? new Float64Array(ab) : new Uint8Array(ab);
}

/**
 * Decode one gzipped body; `ref` is the previous record's reference (a key
 * record ignores it). Throws RecordingFormatError.
 */
export function decodeRecord(payload: Buffer, prev: Reference | undefined): RecordedScan {
  let body: Buffer;
  try {
    body = zlib.gunzipSync(payload);
  } catch (e) {
    throw new RecordingFormatError(`not gzip data (${(e as Error).message})`);
  }
  if (body.length < 4) throw new RecordingFormatError('body shorter than its meta length');
  const metaLen = body.readUInt32LE(0);
  if (4 + metaLen > body.length) throw new RecordingFormatError('meta runs past the end of the body');
  let meta: RecordMeta;
  try {
    meta = checkMeta(JSON.parse(body.toString('utf8', 4, 4 + metaLen)));
  } catch (e) {
    if (e instanceof RecordingFormatError) throw e;
    throw new RecordingFormatError(`meta is not JSON (${(e as Error).message})`);
  }
  const ref = meta.key === true ? undefined : prev;
  const n = meta.count;
  const nFresh = meta.fresh.name.length;
  const rowBytes = COLUMNS.reduce((s, [, k]) => s + WIDTH[k], 0);
  const expected = 4 + metaLen + n * rowBytes + nFresh * 4;
  if (body.length !== expected) {
    throw new RecordingFormatError(`body is ${body.length} bytes, ${n} rows and ${nFresh} fresh need ${expected}`);
  }
  let at = 4 + metaLen;
  const cols: Partial<Record<NumericField, Int32Array | Float64Array | Uint8Array>> = {};
  for (const [field, kind] of COLUMNS) {
    cols[field] = column(kind, body, at, n);
    at += n * WIDTH[kind];
  }
  const freshRows = column('i32', body, at, nFresh) as Int32Array;
  for (const r of freshRows) {
    if (r < 0 || r >= n) throw new RecordingFormatError(`fresh row ${r} is not a row (${n} rows)`);
  }
  const batch = {
    count: n,
    host: meta.host,
    scannedAtMs: meta.scannedAtMs,
    ...cols,
    freshRows,
    freshName: meta.fresh.name,
    freshCmdline: meta.fresh.cmdline,
    freshExe: meta.fresh.exe,
    freshCgroup: meta.fresh.cgroup,
    freshOwner: meta.fresh.owner,
    counters: meta.counters,
  } as ProcessBatch & { freshOwner: string[] };
  if (ref) {
    const rows = refRows(batch, ref);
    for (const [field, kind] of COLUMNS) {
      if (field === 'pid') continue;
      const c = batch[field];
      xorColumn(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), ref.batch[field], rows, WIDTH[kind]);
    }
  }
  return { batch, hostFiles: isObject(meta.hostFiles) ? (meta.hostFiles as HostFiles) : {} };
}
