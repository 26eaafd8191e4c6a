/**
 * Binary checkpoint of the scoring table (baselines and holds), so two
 * `--once` runs or a restart continue the same baselines.
 *
 * Layout (little-endian):
 *   0  magic "NRDSCORE" (8 bytes)
 *   8  u32 version (1)
 *  12  u32 count
 *  16  f64 savedAtMs
 *  24  u32 byte length L of the proc root, then L bytes of UTF-8
 *      then per entry, column by column:
 *      i32 pid, f64 start, f64 cpuMean, f64 cpuVar, f64 rssMean, f64 rssVar,
 *      f64 holdUntil, i32 cpuN, i32 rssN, u8 reason
 *  end u32 CRC-32 (zlib polynomial) of every byte before it
 *
 * Pure encode/decode; the state store does the file work.
 */
import * as zlib from 'node:zlib';
import { ScoreTable } from './table.js';

export const SCORE_MAGIC = 'NRDSCORE';
export const SCORE_VERSION = 1;
const ENTRY_BYTES = 4 + 8 * 6 + 4 + 4 + 1;

/** node:zlib has crc32 from Node 20.15; a table-driven fallback keeps older runtimes working. */
const crcTable = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (native) return native(data) >>> 0;
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function encodeScoreState(table: ScoreTable, procRoot: string, savedAtMs: number): Uint8Array {
  const root = Buffer.from(procRoot, 'utf8');
  const slots = [...table.index.values()];
  const n = slots.length;
  const size = 28 + root.length + n * ENTRY_BYTES + 4;
  const buf = Buffer.alloc(size);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  buf.write(SCORE_MAGIC, 0, 'latin1');
  dv.setUint32(8, SCORE_VERSION, true);
  dv.setUint32(12, n, true);
  dv.setFloat64(16, savedAtMs, true);
  dv.setUint32(24, root.length, true);
  root.copy(buf, 28);
  let o = 28 + root.length;
  const c = table.cols;
  for (const s of slots) {
    dv.setInt32(o, c.pid[s]!, true);
    o += 4;
  }
  for (const col of [c.start, c.cpuMean, c.cpuVar, c.rssMean, c.rssVar, c.holdUntil]) {
    for (const s of slots) {
      dv.setFloat64(o, col[s]!, true);
      o += 8;
    }
  }
  for (const col of [c.cpuN, c.rssN]) {
    for (const s of slots) {
      dv.setInt32(o, col[s]!, true);
      o += 4;
    }
  }
  for (const s of slots) buf[o++] = c.reason[s]!;
  dv.setUint32(o, crc32(buf.subarray(0, o)), true);
  return buf;
}

export type DecodeResult =
  | { ok: true; table: ScoreTable; procRoot: string; savedAtMs: number; entries: number }
  | { ok: false; reason: string };

export function decodeScoreState(buf: Uint8Array): DecodeResult {
  const fail = (reason: string): DecodeResult => ({ ok: false, reason });
  if (buf.length < 8 || Buffer.from(buf.subarray(0, 8)).toString('latin1') !== SCORE_MAGIC) {
    return fail('not an nrdot scoring state file (bad magic)');
  }
  if (buf.length < 32) return fail(`truncated (${buf.length} bytes)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = dv.getUint32(8, true);
  if (version !== SCORE_VERSION) return fail(`version ${version} (this nrdot reads ${SCORE_VERSION})`);
  const n = dv.getUint32(12, true);
  const savedAtMs = dv.getFloat64(16, true);
  const rootLen = dv.getUint32(24, true);
  const expected = 28 + rootLen + n * ENTRY_BYTES + 4;
  if (buf.length !== expected) {
    return fail(`${buf.length < expected ? 'truncated' : 'trailing bytes'}: ${buf.length} bytes, expected ${expected}`);
  }
  const end = buf.length - 4;
  if (crc32(buf.subarray(0, end)) !== dv.getUint32(end, true)) return fail('CRC mismatch (corrupt)');
  const procRoot = Buffer.from(buf.subarray(28, 28 + rootLen)).toString('utf8');
  const table = new ScoreTable(n);
  let o = 28 + rootLen;
  const slots = new Int32Array(n);
  const startAt = o + n * 4;
  for (let i = 0; i < n; i++) {
    const pid = dv.getInt32(o + i * 4, true);
    const start = dv.getFloat64(startAt + i * 8, true);
    if (table.index.has(pid)) return fail(`pid ${pid} appears twice`);
    slots[i] = table.restore(pid, start);
  }
  o = startAt + n * 8;
  const c = table.cols;
  for (const col of [c.cpuMean, c.cpuVar, c.rssMean, c.rssVar, c.holdUntil]) {
    for (let i = 0; i < n; i++) col[slots[i]!] = dv.getFloat64(o + i * 8, true);
    o += n * 8;
  }
  for (const col of [c.cpuN, c.rssN]) {
    for (let i = 0; i < n; i++) col[slots[i]!] = dv.getInt32(o + i * 4, true);
    o += n * 4;
  }
  for (let i = 0; i < n; i++) c.reason[slots[i]!] = buf[o + i]!;
  for (let i = 0; i < n; i++) c.lastSeen[slots[i]!] = 0;
  return { ok: true, table, procRoot, savedAtMs, entries: n };
}
