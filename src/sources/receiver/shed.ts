/**
 * Shedding a received request down to its critical processes, for the
 * receiver's `critical` admission (src/control/admission.ts): what is kept
 * goes on, what is not is counted for the OTLP partial success.
 *
 * - `shedProtobuf` works on the encoded request, without decoding it: a
 *   request is a run of `resource_metrics` entries (field 1), and any subset
 *   of them is a valid request. For each entry it reads only the resource's
 *   attributes it needs (process.pid, process.executable.name and .path,
 *   the command line) and counts the data points; the kept entries are
 *   copied into one new buffer. No objects per data point.
 * - `shedRequest` does the same on a decoded request (JSON bodies).
 *
 * A resource is kept when it is a process resource (it carries
 * `process.pid`) and the pre-classification calls it critical; everything
 * else (other processes, non-process resources) is shed.
 */
import type { CriticalTest } from '../../control/critical.js';
import { attrString, attrValue, countDataPoints, type ExportMetricsServiceRequest } from '../../otlp/model.js';
import { ResourceAttr } from '../../telemetry/names.js';
import { commandLine } from './mapping.js';

export interface ShedCounts {
  keptResources: number;
  shedResources: number;
  shedPoints: number;
}

export class ShedError extends Error {}

const enc = new TextEncoder();
const KEY_PID = enc.encode(ResourceAttr.pid);
const KEY_NAME = enc.encode(ResourceAttr.executableName);
const KEY_EXE = enc.encode(ResourceAttr.executablePath);
const KEY_CMDLINE = enc.encode(ResourceAttr.commandLine);
const KEY_COMMAND = enc.encode('process.command');
const KEY_ARGS = enc.encode('process.command_args');
const DATA_FIELDS = [5, 7, 9, 10, 11];

/** A cursor over protobuf bytes; lengths and positions are absolute offsets into `b`. */
class Cursor {
  pos: number;
  constructor(
    readonly b: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    const b = this.b;
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ShedError(`truncated varint at byte ${this.pos}`);
      const c = b[this.pos++]!;
      v += (c & 0x7f) * mul;
      if (c < 0x80) return v;
      mul *= 128;
    }
    throw new ShedError(`varint too long at byte ${this.pos}`);
  }

  /** Skip a field's value of wire type `wt`. */
  skip(wt: number): void {
    if (wt === 0) this.varint();
    else if (wt === 1) this.pos += 8;
    else if (wt === 5) this.pos += 4;
    else if (wt === 2) {
      const n = this.varint(); // not `pos += varint()`: that adds to the position before the length
      this.pos += n;
    } else throw new ShedError(`unsupported wire type ${wt} at byte ${this.pos}`);
    if (this.pos > this.end) throw new ShedError(`field runs past the end at byte ${this.pos}`);
  }

  /** Read a length prefix; return the body's end (the body starts at `pos`). */
  len(): number {
    const n = this.varint();
    const e = this.pos + n;
    if (e > this.end) throw new ShedError(`field runs past the end at byte ${this.pos}`);
    return e;
  }
}

function bytesEqual(b: Uint8Array, start: number, end: number, key: Uint8Array): boolean {
  if (end - start !== key.length) return false;
  for (let i = 0; i < key.length; i++) if (b[start + i] !== key[i]) return false;
  return true;
}

const decoder = new TextDecoder();

/** The string_value of an AnyValue body [start, end), or undefined. */
function anyString(b: Uint8Array, start: number, end: number): string | undefined {
  const c = new Cursor(b, start, end);
  let out: string | undefined;
  while (c.pos < end) {
    const tag = c.varint();
    if (tag === 0x0a) {
      const e = c.len();
      out = decoder.decode(b.subarray(c.pos, e));
      c.pos = e;
    } else c.skip(tag & 7);
  }
  return out;
}

/** The strings of an AnyValue holding an ArrayValue of strings, joined by spaces (undefined when not an array). */
function anyArrayJoined(b: Uint8Array, start: number, end: number): string | undefined {
  const c = new Cursor(b, start, end);
  let parts: string[] | undefined;
  while (c.pos < end) {
    const tag = c.varint();
    if (tag === 0x2a) {
      const e = c.len();
      parts ??= [];
      const a = new Cursor(b, c.pos, e);
      while (a.pos < e) {
        const t = a.varint();
        if (t === 0x0a) {
          const ve = a.len();
          parts.push(anyString(b, a.pos, ve) ?? '');
          a.pos = ve;
        } else a.skip(t & 7);
      }
      c.pos = e;
    } else c.skip(tag & 7);
  }
  return parts?.join(' ');
}

interface ProcessStrings {
  isProcess: boolean;
  name: string;
  exe: string;
  cmdline: string;
}

/** The attributes a Resource body [start, end) holds that the pre-classification needs. */
function resourceStrings(b: Uint8Array, start: number, end: number): ProcessStrings {
  const r: ProcessStrings = { isProcess: false, name: '', exe: '', cmdline: '' };
  let line: string | undefined;
  let command: string | undefined;
  let args: string | undefined;
  const c = new Cursor(b, start, end);
  while (c.pos < end) {
    const tag = c.varint();
    if (tag !== 0x0a) {
      c.skip(tag & 7);
      continue;
    }
    const kvEnd = c.len();
    let kStart = -1;
    let kEnd = -1;
    let vStart = -1;
    let vEnd = -1;
    while (c.pos < kvEnd) {
      const t = c.varint();
      if (t === 0x0a) {
        kEnd = c.len();
        kStart = c.pos;
        c.pos = kEnd;
      } else if (t === 0x12) {
        vEnd = c.len();
        vStart = c.pos;
        c.pos = vEnd;
      } else c.skip(t & 7);
    }
    c.pos = kvEnd;
    if (kStart < 0) continue;
    if (bytesEqual(b, kStart, kEnd, KEY_PID)) r.isProcess = true;
    else if (vStart < 0) continue;
    else if (bytesEqual(b, kStart, kEnd, KEY_NAME)) r.name = anyString(b, vStart, vEnd) ?? '';
    else if (bytesEqual(b, kStart, kEnd, KEY_EXE)) r.exe = anyString(b, vStart, vEnd) ?? '';
    else if (bytesEqual(b, kStart, kEnd, KEY_CMDLINE)) line = anyString(b, vStart, vEnd);
    else if (bytesEqual(b, kStart, kEnd, KEY_COMMAND)) command = anyString(b, vStart, vEnd);
    else if (bytesEqual(b, kStart, kEnd, KEY_ARGS)) args = anyArrayJoined(b, vStart, vEnd);
  }
  // as mapping.ts's commandLine: the line, else the joined arguments, else the command
  r.cmdline = line ?? (args !== undefined && args !== '' ? args : (command ?? ''));
  return r;
}

/** Data points in the scope_metrics of a ResourceMetrics body [start, end). */
function pointsIn(b: Uint8Array, start: number, end: number): number {
  let n = 0;
  const rm = new Cursor(b, start, end);
  while (rm.pos < end) {
    const tag = rm.varint();
    if (tag !== 0x12) {
      rm.skip(tag & 7);
      continue;
    }
    const smEnd = rm.len();
    const sm = new Cursor(b, rm.pos, smEnd);
    while (sm.pos < smEnd) {
      const t = sm.varint();
      if (t !== 0x12) {
        sm.skip(t & 7);
        continue;
      }
      const mEnd = sm.len();
      const m = new Cursor(b, sm.pos, mEnd);
      while (m.pos < mEnd) {
        const mt = m.varint();
        if ((mt & 7) !== 2 || !DATA_FIELDS.includes(mt >>> 3)) {
          m.skip(mt & 7);
          continue;
        }
        const dEnd = m.len();
        const d = new Cursor(b, m.pos, dEnd);
        while (d.pos < dEnd) {
          const dt = d.varint();
          if (dt === 0x0a) n++;
          d.skip(dt & 7);
        }
        m.pos = dEnd;
      }
      sm.pos = mEnd;
    }
    rm.pos = smEnd;
  }
  return n;
}

/**
 * Keep the critical process resources of an encoded request. Throws a
 * ShedError on bytes that are not a well-formed request at this level (the
 * caller then lets the decoder name the problem).
 */
export function shedProtobuf(buf: Uint8Array, isCritical: CriticalTest): ShedCounts & { kept: Uint8Array } {
  const keep: number[] = []; // start, end pairs of kept entries (tag included)
  let keptBytes = 0;
  const counts: ShedCounts = { keptResources: 0, shedResources: 0, shedPoints: 0 };
  const c = new Cursor(buf, 0, buf.length);
  while (c.pos < buf.length) {
    const entryStart = c.pos;
    const tag = c.varint();
    if (tag !== 0x0a) {
      c.skip(tag & 7); // not a resource_metrics entry: dropped, as the decoder ignores it
      continue;
    }
    const end = c.len();
    const bodyStart = c.pos;
    let strings: ProcessStrings | undefined;
    const r = new Cursor(buf, bodyStart, end);
    while (r.pos < end) {
      const t = r.varint();
      if (t === 0x0a) {
        const re = r.len();
        strings = resourceStrings(buf, r.pos, re);
        r.pos = re;
      } else r.skip(t & 7);
    }
    if (strings?.isProcess && isCritical(strings.name, strings.exe, strings.cmdline)) {
      keep.push(entryStart, end);
      keptBytes += end - entryStart;
      counts.keptResources++;
    } else {
      counts.shedResources++;
      counts.shedPoints += pointsIn(buf, bodyStart, end);
    }
    c.pos = end;
  }
  const kept = new Uint8Array(keptBytes);
  let o = 0;
  for (let i = 0; i < keep.length; i += 2) {
    kept.set(buf.subarray(keep[i]!, keep[i + 1]!), o);
    o += keep[i + 1]! - keep[i]!;
  }
  return { ...counts, kept };
}

/** Keep the critical process resources of a decoded request. */
export function shedRequest(
  req: ExportMetricsServiceRequest,
  isCritical: CriticalTest,
): ShedCounts & { request: ExportMetricsServiceRequest } {
  const counts: ShedCounts = { keptResources: 0, shedResources: 0, shedPoints: 0 };
  const kept = req.resourceMetrics.filter((rm) => {
    const a = rm.resource.attributes;
    const keep =
      attrValue(a, ResourceAttr.pid) !== undefined &&
      isCritical(
        attrString(a, ResourceAttr.executableName) ?? '',
        attrString(a, ResourceAttr.executablePath) ?? '',
        commandLine(a),
      );
    if (keep) counts.keptResources++;
    else {
      counts.shedResources++;
      counts.shedPoints += countDataPoints({ resourceMetrics: [rm] });
    }
    return keep;
  });
  return { ...counts, request: { resourceMetrics: kept } };
}
