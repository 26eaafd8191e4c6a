/**
 * The checkpoint: everything the stateful stages carry from cycle to cycle,
 * in one file, so a later run (a restart, or the next `--once` run) continues
 * where this one stopped. The identity table says which processes there
 * were; each stateful stage adds a section with its columns at those slots
 * and, optionally, a small JSON value of its own.
 *
 * Layout (little-endian):
 *   "NRDOTCKP"  u32 version  u32 header bytes  header (JSON)
 *   i32 pid[N]  f64 start[N]
 *   per section, per column: its values for the N identities (width each)
 *   u32 CRC-32 of everything before it
 *
 * Decoding checks the magic, the version, the CRC and every field: a value
 * out of its column's range fails that section (the stage starts fresh), a
 * damaged file fails the whole file; the caller moves it aside.
 */
import * as zlib from 'node:zlib';
import type { Column, IdentityTable } from '../core/identity.js';

export const CHECKPOINT_MAGIC = 'NRDOTCKP';
export const CHECKPOINT_VERSION = 1;

/** A stage whose per-process columns (and other state) survive restarts. */
export interface Stateful {
  /** section name in the checkpoint */
  readonly stateName: string;
  /** the per-slot columns to save and restore */
  columns(): Column[];
  /** state that is not per process (JSON-able) */
  saveExtra?(): unknown;
  /** restore it; returns the name of the first bad field, or undefined when it was taken */
  restoreExtra?(v: unknown): string | undefined;
  /** may a section saved at `savedAtMs` be restored at `nowMs`? A reason when not. */
  restoreAllowed?(savedAtMs: number, nowMs: number): string | undefined;
}

interface ColumnHeader {
  name: string;
  kind: 'f64' | 'i32' | 'u8';
  width: number;
}

interface SectionHeader {
  name: string;
  columns: ColumnHeader[];
  extra?: unknown;
}

interface Header {
  procRoot: string;
  savedAtMs: number;
  count: number;
  sections: SectionHeader[];
}

const BYTES = { f64: 8, i32: 4, u8: 1 } as const;

/** Encode the table's live identities and every part's columns at their slots. */
export function encodeCheckpoint(
  ids: IdentityTable,
  parts: readonly Stateful[],
  procRoot: string,
  savedAtMs: number,
): Buffer {
  const slots = [...ids.slots()];
  const n = slots.length;
  const sections: SectionHeader[] = parts.map((p) => ({
    name: p.stateName,
    columns: p.columns().map((c) => ({ name: c.name, kind: c.kind, width: c.width })),
    extra: p.saveExtra?.(),
  }));
  const header = Buffer.from(JSON.stringify({ procRoot, savedAtMs, count: n, sections } satisfies Header));
  let size = 16 + header.length + n * 12;
  for (const p of parts) for (const c of p.columns()) size += n * c.width * BYTES[c.kind];
  const out = Buffer.alloc(size + 4);
  out.write(CHECKPOINT_MAGIC, 0, 'latin1');
  out.writeUInt32LE(CHECKPOINT_VERSION, 8);
  out.writeUInt32LE(header.length, 12);
  header.copy(out, 16);
  let o = 16 + header.length;
  for (const s of slots) o = out.writeInt32LE(ids.pid.data[s]!, o);
  for (const s of slots) o = out.writeDoubleLE(ids.start.data[s]!, o);
  for (const p of parts) {
    for (const c of p.columns()) {
      const w = c.width;
      const d = c.data;
      for (const s of slots) {
        for (let k = 0; k < w; k++) {
          const v = d[s * w + k]!;
          if (c.kind === 'f64') o = out.writeDoubleLE(v, o);
          else if (c.kind === 'i32') o = out.writeInt32LE(v, o);
          else o = out.writeUInt8(v, o);
        }
      }
    }
  }
  out.writeUInt32LE(zlib.crc32(out.subarray(0, o)) >>> 0, o);
  return out;
}

export interface DecodedCheckpoint {
  procRoot: string;
  savedAtMs: number;
  pid: Int32Array;
  start: Float64Array;
  /** per section: its columns' values (N × width) and its extra */
  sections: Map<
    string,
    { columns: Map<string, { kind: string; width: number; values: Float64Array }>; extra: unknown }
  >;
}

export type DecodeResult = ({ ok: true } & DecodedCheckpoint) | { ok: false; reason: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parse a checkpoint; every structural problem is a reason naming the field. */
export function decodeCheckpoint(buf: Buffer): DecodeResult {
  const fail = (reason: string): DecodeResult => ({ ok: false, reason });
  if (buf.length < 20 || buf.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) return fail('not an nrdot checkpoint');
  const version = buf.readUInt32LE(8);
  if (version !== CHECKPOINT_VERSION) return fail(`version ${version} (this nrdot reads ${CHECKPOINT_VERSION})`);
  const end = buf.length - 4;
  if (zlib.crc32(buf.subarray(0, end)) >>> 0 !== buf.readUInt32LE(end)) return fail('CRC mismatch (corrupt)');
  const hlen = buf.readUInt32LE(12);
  if (16 + hlen > end) return fail('header length past the end');
  let h: unknown;
  try {
    h = JSON.parse(buf.toString('utf8', 16, 16 + hlen));
  } catch (e) {
    return fail(`header is not JSON: ${(e as Error).message}`);
  }
  if (!isObj(h)) return fail('header');
  const { procRoot, savedAtMs, count, sections } = h;
  if (typeof procRoot !== 'string') return fail('procRoot');
  if (typeof savedAtMs !== 'number' || !Number.isFinite(savedAtMs) || savedAtMs < 0) return fail('savedAtMs');
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return fail('count');
  if (!Array.isArray(sections)) return fail('sections');
  let o = 16 + hlen;
  const n = count;
  if (o + n * 12 > end) return fail('identities past the end');
  const pid = new Int32Array(n);
  const start = new Float64Array(n);
  for (let i = 0; i < n; i++, o += 4) pid[i] = buf.readInt32LE(o);
  for (let i = 0; i < n; i++, o += 8) start[i] = buf.readDoubleLE(o);
  for (let i = 0; i < n; i++) {
    if (!(pid[i]! > 0)) return fail(`identity ${i}: pid ${pid[i]}`);
    if (!(Number.isFinite(start[i]!) && start[i]! >= 0)) return fail(`identity ${i}: start time ${start[i]}`);
  }
  const out: DecodedCheckpoint['sections'] = new Map();
  for (const [si, sec] of sections.entries()) {
    if (!isObj(sec) || typeof sec.name !== 'string' || !Array.isArray(sec.columns)) return fail(`sections[${si}]`);
    const cols = new Map<string, { kind: string; width: number; values: Float64Array }>();
    for (const [ci, c] of sec.columns.entries()) {
      if (!isObj(c) || typeof c.name !== 'string') return fail(`sections[${si}].columns[${ci}]`);
      const kind = c.kind;
      const width = c.width;
      if (kind !== 'f64' && kind !== 'i32' && kind !== 'u8') return fail(`${sec.name}.${c.name}: kind`);
      if (typeof width !== 'number' || !Number.isSafeInteger(width) || width < 1 || width > 64) {
        return fail(`${sec.name}.${c.name}: width`);
      }
      const bytes = n * width * BYTES[kind];
      if (o + bytes > end) return fail(`${sec.name}.${c.name}: past the end`);
      const values = new Float64Array(n * width);
      for (let j = 0; j < n * width; j++) {
        if (kind === 'f64') values[j] = buf.readDoubleLE(o + j * 8);
        else if (kind === 'i32') values[j] = buf.readInt32LE(o + j * 4);
        else values[j] = buf[o + j]!;
      }
      o += bytes;
      cols.set(c.name, { kind, width, values });
    }
    out.set(sec.name, { columns: cols, extra: sec.extra });
  }
  if (o !== end) return fail(`${end - o} unexpected bytes before the CRC`);
  return { ok: true, procRoot, savedAtMs, pid, start, sections: out };
}

/**
 * Restore one part from a decoded checkpoint into the slots `slotOf[i]` of
 * the identities. Every value is checked with its column's `valid` rule
 * before anything is written; returns the first bad field, or undefined.
 */
export function restorePart(part: Stateful, d: DecodedCheckpoint, slotOf: Int32Array): string | undefined {
  const sec = d.sections.get(part.stateName);
  if (!sec) return 'missing section';
  const cols = part.columns();
  for (const c of cols) {
    const saved = sec.columns.get(c.name);
    if (!saved) return `${c.name}: missing`;
    if (saved.kind !== c.kind || saved.width !== c.width) return `${c.name}: saved as ${saved.kind}×${saved.width}`;
    const bad = saved.values.findIndex((v) => !c.accepts(v));
    if (bad >= 0) {
      return `${c.name}[${Math.floor(bad / c.width)}]: ${saved.values[bad]} is out of range (pid ${d.pid[Math.floor(bad / c.width)]})`;
    }
  }
  if (part.restoreExtra) {
    const why = part.restoreExtra(sec.extra);
    if (why !== undefined) return `extra.${why}`;
  }
  for (const c of cols) {
    const saved = sec.columns.get(c.name)!;
    const w = c.width;
    for (let i = 0; i < slotOf.length; i++) {
      const s = slotOf[i]!;
      for (let k = 0; k < w; k++) c.data[s * w + k] = saved.values[i * w + k]!;
    }
  }
  return undefined;
}
