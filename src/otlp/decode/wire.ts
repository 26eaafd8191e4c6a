/**
 * Protobuf wire-format reading for the OTLP decoder (pb-decode.ts): varints,
 * fixed-width numbers, length-delimited fields and strings, with every read
 * bounds-checked so that any byte sequence either decodes or throws an
 * `OtlpDecodeError`, never reads out of range and never loops.
 *
 * Speed matters here (the receiver decodes hundreds of thousands of data
 * points per second), so:
 * - 64-bit fields are read as two 32-bit words and turned into decimal
 *   strings (the model's JSON-mapping form) with plain number arithmetic
 *   below 2^53 and BigInt only above; the two timestamp fields remember their
 *   last value, because every point of a scrape repeats them.
 * - Short ASCII strings (keys, metric names, units, attribute values) are
 *   interned in a bounded cache keyed by a hash of their bytes, so the same
 *   string is decoded once and shared by every point that carries it.
 */

export class OtlpDecodeError extends Error {
  /** field path segments, outermost first (filled in as the error unwinds) */
  readonly path: string[] = [];

  constructor(readonly detail: string) {
    super(detail);
    this.name = 'OtlpDecodeError';
  }

  /** Adds an outer path segment; the message becomes `resourceMetrics[0].scopeMetrics[1]: <detail>`. */
  prepend(seg: string): this {
    this.path.unshift(seg);
    this.message = `${formatPath(this.path)}: ${this.detail}`;
    return this;
  }
}

function formatPath(path: string[]): string {
  let s = '';
  for (const seg of path) s += seg.startsWith('[') || s === '' ? seg : `.${seg}`;
  return s;
}

/** Prefix `seg` to the path of a decode error (any other error becomes one). */
export function within(e: unknown, seg: string): OtlpDecodeError {
  const err =
    e instanceof OtlpDecodeError
      ? e
      : new OtlpDecodeError(e instanceof RangeError ? `too deeply nested or too large (${e.message})` : String(e));
  return err.prepend(seg);
}

export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_SGROUP = 3;
export const WT_EGROUP = 4;
export const WT_I32 = 5;

const TWO_32 = 4294967296;
const MAX_GROUP_DEPTH = 32;

/** Shortest strings worth interning are all of them; longest: */
const INTERN_MAX_BYTES = 64;
const INTERN_MAX_ENTRIES = 1 << 14;
let internTable = new Map<number, string>();

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Unsigned 64-bit words to a decimal string. */
export function u64String(lo: number, hi: number): string {
  if (hi < 0x200000) return String(hi * TWO_32 + lo);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}

/** Two's-complement 64-bit words to a decimal string. */
export function i64String(lo: number, hi: number): string {
  if (hi < 0x200000) return String(hi * TWO_32 + lo);
  if (hi >= 0xffe00000) return String((hi - TWO_32) * TWO_32 + lo); // >= -2^53: exact
  return BigInt.asIntN(64, (BigInt(hi) << 32n) | BigInt(lo)).toString();
}

export class Reader {
  readonly buf: Uint8Array;
  readonly len: number;
  pos = 0;
  /** words of the last varint64/fixed64 read */
  lo = 0;
  hi = 0;
  /** AnyValue nesting depth, maintained by the decoder */
  depth = 0;
  private readonly view: DataView;
  private readonly nodeBuf: Buffer;
  // last-value memo of the two timestamp fields
  private tLo = -1;
  private tHi = -1;
  private tStr = '';
  private sLo = -1;
  private sHi = -1;
  private sStr = '';

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.len = buf.length;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.nodeBuf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  private truncated(what: string): never {
    throw new OtlpDecodeError(`truncated ${what} at byte ${this.pos}`);
  }

  /** A varint, low 32 bits as an unsigned number (tags, lengths, uint32, enums). */
  uint32(): number {
    const b = this.buf;
    let p = this.pos;
    const c = b[p++]!;
    if (c < 0x80 && p <= this.len) {
      this.pos = p;
      return c;
    }
    this.varint64();
    return this.lo;
  }

  /** A varint as a signed 32-bit number (int32 and enums; negative values take 10 bytes). */
  int32(): number {
    return this.uint32() | 0;
  }

  sint32(): number {
    const v = this.uint32();
    return (v >>> 1) ^ -(v & 1);
  }

  bool(): boolean {
    this.varint64();
    return (this.lo | this.hi) !== 0;
  }

  /** Reads a varint into `lo`/`hi`. */
  varint64(): void {
    const b = this.buf;
    let p = this.pos;
    let lo = 0;
    let hi = 0;
    let c = 0;
    let done = false;
    for (let shift = 0; shift < 28; shift += 7) {
      c = b[p++]!;
      lo |= (c & 0x7f) << shift;
      if (c < 0x80) {
        done = true;
        break;
      }
    }
    if (!done) {
      c = b[p++]!;
      lo |= (c & 0x7f) << 28;
      hi = (c & 0x7f) >>> 4;
      if (c < 0x80) done = true;
      else {
        for (let shift = 3; shift < 32; shift += 7) {
          c = b[p++]!;
          hi |= (c & 0x7f) << shift;
          if (c < 0x80) {
            done = true;
            break;
          }
        }
      }
    }
    if (p > this.len) this.truncated('varint');
    if (!done) throw new OtlpDecodeError(`malformed varint at byte ${this.pos}`);
    this.pos = p;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** Reads 8 bytes into `lo`/`hi`. */
  fixed64(): void {
    const p = this.pos;
    if (p + 8 > this.len) this.truncated('fixed64');
    const b = this.buf;
    this.lo = (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
    this.hi = (b[p + 4]! | (b[p + 5]! << 8) | (b[p + 6]! << 16) | (b[p + 7]! << 24)) >>> 0;
    this.pos = p + 8;
  }

  /** fixed64 time_unix_nano, memoized. */
  timeNanos(): string {
    this.fixed64();
    if (this.lo !== this.tLo || this.hi !== this.tHi) {
      this.tLo = this.lo;
      this.tHi = this.hi;
      this.tStr = u64String(this.lo, this.hi);
    }
    return this.tStr;
  }

  /** fixed64 start_time_unix_nano, memoized separately. */
  startNanos(): string {
    this.fixed64();
    if (this.lo !== this.sLo || this.hi !== this.sHi) {
      this.sLo = this.lo;
      this.sHi = this.hi;
      this.sStr = u64String(this.lo, this.hi);
    }
    return this.sStr;
  }

  fixed64String(): string {
    this.fixed64();
    return u64String(this.lo, this.hi);
  }

  sfixed64String(): string {
    this.fixed64();
    return i64String(this.lo, this.hi);
  }

  double(): number {
    const p = this.pos;
    if (p + 8 > this.len) this.truncated('double');
    this.pos = p + 8;
    return this.view.getFloat64(p, true);
  }

  /** Reads a length prefix; returns the end of the field, checked against the enclosing end. */
  sub(end: number): number {
    const n = this.uint32();
    const e = this.pos + n;
    if (e > end) this.truncated(`length-delimited field of ${n} bytes`);
    return e;
  }

  string(end: number): string {
    const e = this.sub(end);
    const p = this.pos;
    this.pos = e;
    const n = e - p;
    if (n === 0) return '';
    if (n > INTERN_MAX_BYTES) return this.nodeBuf.toString('utf8', p, e);
    const b = this.buf;
    let h = n;
    for (let i = p; i < e; i++) {
      const c = b[i]!;
      if (c >= 0x80) return this.nodeBuf.toString('utf8', p, e);
      h = Math.imul(h ^ c, 0x01000193);
    }
    const hit = internTable.get(h);
    if (hit !== undefined && hit.length === n) {
      let i = 0;
      while (i < n && hit.charCodeAt(i) === b[p + i]) i++;
      if (i === n) return hit;
    }
    const s = this.nodeBuf.toString('latin1', p, e);
    if (internTable.size >= INTERN_MAX_ENTRIES) internTable = new Map();
    internTable.set(h, s);
    return s;
  }

  /** A bytes field as lowercase hex (trace and span ids). */
  hex(end: number): string {
    const e = this.sub(end);
    let s = '';
    for (let i = this.pos; i < e; i++) s += HEX[this.buf[i]!];
    this.pos = e;
    return s;
  }

  /** A bytes field as base64 (the proto3 JSON form of `bytes`). */
  base64(end: number): string {
    const e = this.sub(end);
    const s = this.nodeBuf.toString('base64', this.pos, e);
    this.pos = e;
    return s;
  }

  /** Skips a field whose tag was just read (unknown field, or a known one with an unexpected wire type). */
  skip(tag: number, end: number, groupDepth = 0): void {
    if (tag >>> 3 === 0) throw new OtlpDecodeError(`invalid field number 0 at byte ${this.pos}`);
    switch (tag & 7) {
      case WT_VARINT:
        this.varint64();
        return;
      case WT_I64:
        if (this.pos + 8 > end) this.truncated('fixed64');
        this.pos += 8;
        return;
      case WT_LEN:
        this.pos = this.sub(end);
        return;
      case WT_I32:
        if (this.pos + 4 > end) this.truncated('fixed32');
        this.pos += 4;
        return;
      case WT_SGROUP: {
        if (groupDepth >= MAX_GROUP_DEPTH) throw new OtlpDecodeError('groups nested too deeply');
        for (;;) {
          if (this.pos >= end) this.truncated('group');
          const t = this.uint32();
          if ((t & 7) === WT_EGROUP) {
            if (t >>> 3 !== tag >>> 3) throw new OtlpDecodeError(`mismatched end group at byte ${this.pos}`);
            return;
          }
          this.skip(t, end, groupDepth + 1);
        }
      }
      default:
        throw new OtlpDecodeError(`invalid wire type ${tag & 7} at byte ${this.pos}`);
    }
  }

  /** After a message's fields: the last one must end exactly at the message end. */
  checkEnd(end: number, what: string): void {
    if (this.pos !== end) throw new OtlpDecodeError(`a field overruns the end of ${what}`);
  }
}
