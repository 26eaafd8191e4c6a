/**
 * On-disk format of the export queue (pure functions, no I/O).
 *
 * A lane directory holds segment files named after the sequence number of
 * their first record, `<16 digits>.seg`, so that name order is seq order.
 *
 *   segment header (24 bytes)
 *     0  8  magic "NRDQSEG\n"
 *     8  4  format version (u32 LE)
 *    12  4  lane code (u32 LE: 0 critical, 1 standard, 2 sampled)
 *    16  8  seq of the first record (u64 LE)
 *
 *   record frame (24 bytes + payload)
 *     0  4  payload length (u32 LE)
 *     4  4  CRC32 over bytes 0-3, then 8 to the end of the payload
 *     8  8  seq (u64 LE; the segment's first seq + index in the segment)
 *    16  8  enqueuedAtMs (f64 LE)
 *    24  n  payload
 *
 * The seq inside each frame lets recovery tell a frame that merely looks
 * valid from the one that belongs at this place, and resynchronise after
 * damage: the next frame whose CRC holds and whose seq fits is where the
 * intact records resume (see recover.ts).
 *
 *   hole marker: a valid frame (CRC and all) whose time field holds the bytes
 *   "NRDQHOLE" and whose payload starts with "NRDQHOLE" and the u64 seq the
 *   next frame carries. Recovery writes one over a damaged region it has
 *   counted, so the next start skips the region without counting it again.
 *   Readers of format version 1 that predate it see a frame with a bad time
 *   and an unknown payload; nothing else changes.
 */
import * as zlib from 'node:zlib';
import type { Lane } from './types.js';

export const SEGMENT_MAGIC = 'NRDQSEG\n';
export const FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 24;
export const FRAME_HEADER_BYTES = 24;
/** largest payload a frame can describe (u32 length, kept below 2 GiB for Buffer APIs) */
export const MAX_PAYLOAD_BYTES = 0x7fff_ffff;

export const LANE_CODES: Readonly<Record<Lane, number>> = { critical: 0, standard: 1, sampled: 2 };

const SEGMENT_NAME = /^(\d{16})\.seg$/;

export function segmentFileName(firstSeq: number): string {
  return `${String(firstSeq).padStart(16, '0')}.seg`;
}

/** The first seq a segment file name stands for, or undefined when the name is not a segment's. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = SEGMENT_NAME.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

function setU64(dv: DataView, at: number, v: number): void {
  dv.setUint32(at, v % 0x1_0000_0000, true);
  dv.setUint32(at + 4, Math.floor(v / 0x1_0000_0000), true);
}

function getU64(dv: DataView, at: number): number {
  return dv.getUint32(at, true) + dv.getUint32(at + 4, true) * 0x1_0000_0000;
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

export function encodeSegmentHeader(lane: Lane, firstSeq: number): Uint8Array {
  const b = new Uint8Array(SEGMENT_HEADER_BYTES);
  const dv = view(b);
  for (let i = 0; i < 8; i++) b[i] = SEGMENT_MAGIC.charCodeAt(i);
  dv.setUint32(8, FORMAT_VERSION, true);
  dv.setUint32(12, LANE_CODES[lane], true);
  setU64(dv, 16, firstSeq);
  return b;
}

export type HeaderCheck = { ok: true } | { ok: false; reason: string };

/** Checks a segment header against the lane and name it was found under. */
export function checkSegmentHeader(b: Uint8Array, lane: Lane, firstSeq: number): HeaderCheck {
  if (b.length < SEGMENT_HEADER_BYTES) return { ok: false, reason: `short header (${b.length} bytes)` };
  for (let i = 0; i < 8; i++) {
    if (b[i] !== SEGMENT_MAGIC.charCodeAt(i)) return { ok: false, reason: 'bad magic (not an nrdot queue segment)' };
  }
  const dv = view(b);
  const version = dv.getUint32(8, true);
  if (version !== FORMAT_VERSION) {
    return { ok: false, reason: `format version ${version} (this nrdot reads ${FORMAT_VERSION})` };
  }
  const code = dv.getUint32(12, true);
  if (code !== LANE_CODES[lane]) return { ok: false, reason: `lane code ${code} in the ${lane} lane directory` };
  const seq = getU64(dv, 16);
  if (seq !== firstSeq) return { ok: false, reason: `header names first seq ${seq}, file name ${firstSeq}` };
  return { ok: true };
}

/** True when `b` (shorter than a header) could be the start of a valid header: a torn creation. */
export function isHeaderPrefix(b: Uint8Array, lane: Lane, firstSeq: number): boolean {
  const full = encodeSegmentHeader(lane, firstSeq);
  if (b.length >= full.length) return false;
  for (let i = 0; i < b.length; i++) if (b[i] !== full[i]) return false;
  return true;
}

/** The 24-byte frame header for `payload` (the payload itself is written after it, uncopied). */
export function encodeFrameHeader(seq: number, enqueuedAtMs: number, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(FRAME_HEADER_BYTES);
  const dv = view(h);
  dv.setUint32(0, payload.length, true);
  setU64(dv, 8, seq);
  dv.setFloat64(16, enqueuedAtMs, true);
  dv.setUint32(4, frameCrc(h, payload), true);
  return h;
}

/** CRC32 over the length, seq, time and payload (everything but the CRC field). */
export function frameCrc(header: Uint8Array, payload: Uint8Array): number {
  let c = zlib.crc32(header.subarray(0, 4));
  c = zlib.crc32(header.subarray(8, FRAME_HEADER_BYTES), c);
  return zlib.crc32(payload, c) >>> 0;
}

export interface FrameHeader {
  len: number;
  crc: number;
  seq: number;
  enqueuedAtMs: number;
}

export function decodeFrameHeader(b: Uint8Array): FrameHeader {
  const dv = view(b);
  return {
    len: dv.getUint32(0, true),
    crc: dv.getUint32(4, true),
    seq: getU64(dv, 8),
    enqueuedAtMs: dv.getFloat64(16, true),
  };
}

/** Bytes a record occupies in a segment (and counts against the cap). */
export const frameBytes = (payloadLength: number) => FRAME_HEADER_BYTES + payloadLength;

/** "NRDQHOLE": the time field and payload prefix of a hole marker. */
const HOLE_MAGIC = Uint8Array.from([0x4e, 0x52, 0x44, 0x51, 0x48, 0x4f, 0x4c, 0x45]);
/** Smallest region a hole marker fits in: frame header, magic, next seq. */
export const HOLE_MIN_BYTES = FRAME_HEADER_BYTES + 16;

/**
 * A hole marker filling exactly `bytes` bytes (at least HOLE_MIN_BYTES): it
 * stands for the records `seq` .. `nextSeq - 1`, already counted as lost.
 */
export function encodeHole(seq: number, nextSeq: number, bytes: number): Uint8Array {
  if (bytes < HOLE_MIN_BYTES) throw new RangeError(`a hole marker needs ${HOLE_MIN_BYTES} bytes, got ${bytes}`);
  const out = new Uint8Array(bytes);
  const dv = view(out);
  dv.setUint32(0, bytes - FRAME_HEADER_BYTES, true);
  setU64(dv, 8, seq);
  out.set(HOLE_MAGIC, 16);
  out.set(HOLE_MAGIC, FRAME_HEADER_BYTES);
  setU64(dv, FRAME_HEADER_BYTES + 8, nextSeq);
  dv.setUint32(4, frameCrc(out, out.subarray(FRAME_HEADER_BYTES)), true);
  return out;
}

/** The seq after the hole when `frame` (header and payload, CRC already checked) is a hole marker. */
export function holeEnd(frame: Uint8Array): number | undefined {
  if (frame.length < HOLE_MIN_BYTES) return undefined;
  for (let i = 0; i < 8; i++) {
    if (frame[16 + i] !== HOLE_MAGIC[i] || frame[FRAME_HEADER_BYTES + i] !== HOLE_MAGIC[i]) return undefined;
  }
  return getU64(view(frame), FRAME_HEADER_BYTES + 8);
}

/**
 * The frame at `off` in `buf` when it is whole and its CRC holds, with a seq
 * in [minSeq, maxSeq]; else undefined. Cheap tests first, so scanning every
 * offset of a damaged region stays fast.
 */
export function validFrameAt(
  buf: Uint8Array,
  off: number,
  minSeq: number,
  maxSeq: number,
): (FrameHeader & { off: number }) | undefined {
  if (buf.length - off < FRAME_HEADER_BYTES) return undefined;
  const dv = view(buf);
  const seq = getU64(dv, off + 8);
  if (seq < minSeq || seq > maxSeq) return undefined;
  const len = dv.getUint32(off, true);
  if (len > MAX_PAYLOAD_BYTES || off + FRAME_HEADER_BYTES + len > buf.length) return undefined;
  const frame = buf.subarray(off, off + FRAME_HEADER_BYTES + len);
  const crc = dv.getUint32(off + 4, true);
  if (frameCrc(frame, frame.subarray(FRAME_HEADER_BYTES)) !== crc) return undefined;
  return { off, len, crc, seq, enqueuedAtMs: dv.getFloat64(off + 16, true) };
}
