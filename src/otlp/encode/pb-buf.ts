/**
 * Protobuf wire primitives for the fast request encoder (src/otlp/encode/pb-writer.ts):
 * one growable scratch buffer written front to back, with message lengths
 * back-patched (a length prefix is reserved from a per-site guess and the
 * body moved when the guess was wrong), plus exact 64-bit parsing of decimal
 * strings into two 32-bit words without BigInt.
 *
 * Every routine matches what protobufjs's BufferWriter (the generated OTLP
 * code's writer) emits for the same value: strings shorter than 40 UTF-16
 * units go through its own UTF-8 loop, which writes a lone surrogate as its
 * 3-byte code unit, while longer ones go through Buffer, which writes U+FFFD.
 *
 * State is module-level (one encode at a time: the encoder is synchronous).
 * An input the fast path does not take raises `FALLBACK`, caught by the
 * encoder, which then leaves the request to the generic encoder.
 */

/** Thrown (never escapes pb-writer) when the request needs the generic encoder. */
export const FALLBACK: unique symbol = Symbol('pb-fallback');

export function unsupported(): never {
  throw FALLBACK;
}

const TWO_32 = 4294967296;
/** Scratch retained between calls up to this size; bigger ones are dropped after use. */
const KEEP_BYTES = 64 << 20;
const INITIAL_BYTES = 64 << 10;

export let buf: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
export let pos = 0;
let largest = 0;

/** Start a request: an empty scratch large enough for what the last large request needed. */
export function reset(): void {
  pos = 0;
  if (buf.length > KEEP_BYTES) buf = Buffer.allocUnsafeSlow(KEEP_BYTES);
}

/** Copy the written bytes out (a Buffer, like the generic encoder returns). */
export function finish(): Buffer {
  const out = Buffer.allocUnsafe(pos);
  buf.copy(out, 0, 0, pos);
  if (pos > largest) largest = pos;
  if (buf.length > KEEP_BYTES) buf = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  return out;
}

/** Make room for `n` more bytes. */
export function ensure(n: number): void {
  if (pos + n <= buf.length) return;
  let size = Math.max(buf.length * 2, pos + n);
  // a request as large as an earlier large one: grow there in one step
  if (largest > size && largest < 4 * size) size = largest + (largest >>> 3);
  const next = Buffer.allocUnsafeSlow(size);
  buf.copy(next, 0, 0, pos);
  buf = next;
}

export function byte(b: number): void {
  buf[pos++] = b;
}

/** Bytes of a uint32 as a varint. */
export function varintSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** A uint32 (0 <= v < 2^32) as a varint; room already ensured. */
export function varint(v: number): void {
  let x = v;
  while (x > 127) {
    buf[pos++] = (x & 127) | 128;
    x = x >>> 7;
  }
  buf[pos++] = x;
}

/** A 64-bit value (two's-complement words) as a varint, as protobufjs writeVarint64 does. */
export function varint64(lo: number, hi: number): void {
  let l = lo;
  let h = hi;
  while (h !== 0) {
    buf[pos++] = (l & 127) | 128;
    l = ((l >>> 7) | (h << 25)) >>> 0;
    h = h >>> 7;
  }
  while (l > 127) {
    buf[pos++] = (l & 127) | 128;
    l = l >>> 7;
  }
  buf[pos++] = l;
}

export function fixed64(lo: number, hi: number): void {
  const b = buf;
  let p = pos;
  b[p++] = lo & 255;
  b[p++] = (lo >>> 8) & 255;
  b[p++] = (lo >>> 16) & 255;
  b[p++] = lo >>> 24;
  b[p++] = hi & 255;
  b[p++] = (hi >>> 8) & 255;
  b[p++] = (hi >>> 16) & 255;
  b[p++] = hi >>> 24;
  pos = p;
}

const f64 = new Float64Array(1);
const f64b = new Uint8Array(f64.buffer);

export function double(v: number): void {
  f64[0] = v;
  const b = buf;
  let p = pos;
  for (let i = 0; i < 8; i++) b[p++] = f64b[i]!;
  pos = p;
}

// ---------------------------------------------------------------------------
// length-delimited messages

/** Per call site: how many bytes the last length prefix there needed (the next guess). */
const guesses = new Uint8Array(32).fill(1);

/** Open a message field: its tag, then a reserved length prefix. Returns the mark to pass to `close`. */
export function open(tag: number, site: number): number {
  ensure(6);
  buf[pos++] = tag;
  const at = pos;
  pos += guesses[site]!;
  return at;
}

/** Close the message opened at `at`: write its length, moving the body if the prefix size differs. */
export function close(at: number, site: number): void {
  const guess = guesses[site]!;
  const len = pos - at - guess;
  const need = varintSize(len);
  if (need !== guess) {
    if (need > guess) ensure(need - guess);
    buf.copyWithin(at + need, at + guess, pos);
    pos += need - guess;
    guesses[site] = need;
  }
  const end = pos;
  pos = at;
  varint(len);
  pos = end;
}

// ---------------------------------------------------------------------------
// strings

/** Bytes of `s` in UTF-8 (a lone surrogate counts 3, as Buffer.byteLength counts it). */
function utf8Length(s: string, from: number): number {
  let n = from;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** protobufjs's own UTF-8 loop (used by its writer for strings shorter than 40 units). */
function utf8WriteLikeProtobufjs(s: string, at: number): number {
  const b = buf;
  let p = at;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) b[p++] = c;
    else if (c < 0x800) {
      b[p++] = (c >> 6) | 192;
      b[p++] = (c & 63) | 128;
    } else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(++i) & 0x03ff);
      b[p++] = (c >> 18) | 240;
      b[p++] = ((c >> 12) & 63) | 128;
      b[p++] = ((c >> 6) & 63) | 128;
      b[p++] = (c & 63) | 128;
    } else {
      b[p++] = (c >> 12) | 224;
      b[p++] = ((c >> 6) & 63) | 128;
      b[p++] = (c & 63) | 128;
    }
  }
  return p;
}

/** A string field: tag, UTF-8 length, bytes. `s` must be a string. */
export function string(tag: number, s: string): void {
  const n = s.length;
  ensure(n * 3 + 6);
  const b = buf;
  b[pos++] = tag;
  const pfx = varintSize(n);
  if (n >= 40) {
    // Buffer's encoder, as protobufjs uses for these; ASCII when bytes == units
    const len = b.write(s, pos + pfx);
    const need = varintSize(len);
    if (need !== pfx) b.copyWithin(pos + need, pos + pfx, pos + pfx + len);
    varint(len);
    pos += len;
    return;
  }
  // optimistic: ASCII, so the length is s.length
  let p = pos + pfx;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) break;
    b[p++] = c;
  }
  if (i === n) {
    varint(n);
    pos = p;
    return;
  }
  varint(utf8Length(s, i));
  pos = utf8WriteLikeProtobufjs(s, pos);
}

/** Encoded (length prefix + UTF-8) strings that repeat across a request: names, units, keys, ... */
const encoded = new Map<string, Uint8Array>();
const CACHE_ENTRIES = 4096;
const CACHE_UNITS = 200;

/** `string`, through a cache of encoded bytes: for fields whose values repeat. */
export function stringCached(tag: number, s: string): void {
  const e = encoded.get(s);
  if (e === undefined) {
    const at = pos + 1;
    string(tag, s);
    if (s.length <= CACHE_UNITS) {
      if (encoded.size >= CACHE_ENTRIES) encoded.clear();
      encoded.set(s, Uint8Array.prototype.slice.call(buf, at, pos));
    }
    return;
  }
  const n = e.length;
  ensure(n + 1);
  const b = buf;
  let p = pos;
  b[p++] = tag;
  for (let i = 0; i < n; i++) b[p++] = e[i]!;
  pos = p;
}

// ---------------------------------------------------------------------------
// 64-bit integers

/** Result words of the last `words64` call. */
export let lo = 0;
export let hi = 0;

/**
 * Parse a 64-bit integer field given as the model allows (decimal string,
 * safe integer number, bigint) into `lo`/`hi` two's-complement words, with
 * the generic encoder's range rules. Anything it would reject raises FALLBACK
 * (so the generic encoder throws its own message).
 */
export function words64(v: unknown, signed: boolean): void {
  if (typeof v === 'string') {
    parseDecimal(v, signed);
    return;
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) unsupported();
    if (v >= 0) {
      lo = v % TWO_32;
      hi = (v - lo) / TWO_32;
      return;
    }
    if (!signed) unsupported();
    negate(-v % TWO_32, Math.floor(-v / TWO_32));
    return;
  }
  if (typeof v === 'bigint') {
    if (signed ? v < -(1n << 63n) || v >= 1n << 63n : v < 0n || v >= 1n << 64n) unsupported();
    const u = BigInt.asUintN(64, v);
    lo = Number(u & 0xffffffffn);
    hi = Number(u >> 32n);
    return;
  }
  unsupported();
}

/** lo/hi = -(mLo + mHi * 2^32) in two's complement. */
function negate(mLo: number, mHi: number): void {
  lo = (~mLo + 1) >>> 0;
  hi = (~mHi + (mLo === 0 ? 1 : 0)) >>> 0;
}

/** `^-?\d+$`, in range for the field's type. */
function parseDecimal(s: string, signed: boolean): void {
  const n = s.length;
  let i = 0;
  const neg = n > 0 && s.charCodeAt(0) === 45;
  if (neg) i = 1;
  if (i >= n) unsupported();
  let l = 0;
  let h = 0;
  if (n - i <= 15) {
    let v = 0;
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) unsupported();
      v = v * 10 + d;
    }
    l = v % TWO_32;
    h = (v - l) / TWO_32;
  } else {
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) unsupported();
      l = l * 10 + d;
      const carry = Math.floor(l / TWO_32);
      l -= carry * TWO_32;
      h = h * 10 + carry;
      if (h >= TWO_32) unsupported(); // past 2^64 - 1
    }
  }
  if (!neg) {
    if (signed && h > 0x7fffffff) unsupported();
    lo = l;
    hi = h;
    return;
  }
  if (l === 0 && h === 0) {
    lo = 0;
    hi = 0;
    return;
  }
  if (!signed || h > 0x80000000 || (h === 0x80000000 && l !== 0)) unsupported();
  negate(l, h);
}
