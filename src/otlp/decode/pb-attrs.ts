/**
 * Attribute decoding for the OTLP protobuf decoder: AnyValue (with nesting
 * limit), KeyValue, and the shared, frozen data point attributes.
 */
import type { AnyValue, KeyValue } from '../model.js';
import { i64String, OtlpDecodeError, type Reader, within } from './wire.js';

const MAX_ANY_DEPTH = 64;

function decAnyValue(r: Reader, end: number): AnyValue {
  if (++r.depth > MAX_ANY_DEPTH) throw new OtlpDecodeError(`attribute values nested deeper than ${MAX_ANY_DEPTH}`);
  let v: AnyValue = {};
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a:
        v = { stringValue: r.string(end) };
        break;
      case 0x10:
        v = { boolValue: r.bool() };
        break;
      case 0x18:
        r.varint64();
        v = { intValue: i64String(r.lo, r.hi) };
        break;
      case 0x21:
        v = { doubleValue: r.double() };
        break;
      case 0x2a: {
        const e = r.sub(end);
        const values: AnyValue[] = [];
        while (r.pos < e) {
          const t = r.uint32();
          if (t === 0x0a) values.push(decAnyValue(r, r.sub(e)));
          else r.skip(t, e);
        }
        r.checkEnd(e, 'arrayValue');
        v = { arrayValue: { values } };
        break;
      }
      case 0x32: {
        const e = r.sub(end);
        const values: KeyValue[] = [];
        while (r.pos < e) {
          const t = r.uint32();
          if (t === 0x0a) values.push(decKeyValue(r, r.sub(e)));
          else r.skip(t, e);
        }
        r.checkEnd(e, 'kvlistValue');
        v = { kvlistValue: { values } };
        break;
      }
      case 0x3a:
        v = { bytesValue: r.base64(end) };
        break;
      default:
        r.skip(tag, end);
    }
  }
  r.checkEnd(end, 'AnyValue');
  r.depth--;
  return v;
}

export function decKeyValue(r: Reader, end: number): KeyValue {
  let key = '';
  let value: AnyValue | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) key = r.string(end);
    else if (tag === 0x12) value = decAnyValue(r, r.sub(end));
    else r.skip(tag, end);
  }
  r.checkEnd(end, 'KeyValue');
  return { key, value: value ?? {} };
}

export function pushAttr(list: KeyValue[] | undefined, r: Reader, end: number, field: string): KeyValue[] {
  const out = list ?? [];
  try {
    out.push(decKeyValue(r, r.sub(end)));
  } catch (e) {
    throw within(e, `${field}[${out.length}]`);
  }
  return out;
}

/**
 * Data point attributes repeat across points (`state=user`, `direction=read`),
 * so a short scalar KeyValue is decoded once and shared, frozen, by every
 * point whose attribute bytes are identical; a point with just that attribute
 * shares a frozen one-element list too. Bounded like the string table.
 */
interface SharedKv {
  bytes: Uint8Array;
  kv: KeyValue;
  one: KeyValue[];
}
const SHARED_KV_MAX_BYTES = 64;
const SHARED_KV_MAX_ENTRIES = 4096;
let sharedKvs = new Map<number, SharedKv>();

function sharedKv(r: Reader, p: number, e: number): SharedKv {
  const b = r.buf;
  const n = e - p;
  let h = n;
  for (let i = p; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  const hit = sharedKvs.get(h);
  if (hit !== undefined && hit.bytes.length === n) {
    const hb = hit.bytes;
    let i = 0;
    while (i < n && hb[i] === b[p + i]) i++;
    if (i === n) {
      r.pos = e;
      return hit;
    }
  }
  const kv = decKeyValue(r, e);
  const v = kv.value as { arrayValue?: unknown; kvlistValue?: unknown };
  const entry: SharedKv = { bytes: b.slice(p, e), kv, one: [kv] };
  if (v.arrayValue === undefined && v.kvlistValue === undefined) {
    Object.freeze(kv.value);
    Object.freeze(kv);
    Object.freeze(entry.one);
    if (sharedKvs.size >= SHARED_KV_MAX_ENTRIES) sharedKvs = new Map();
    sharedKvs.set(h, entry);
  }
  return entry;
}

/** One `attributes` entry of a data point (see SharedKv). */
export function pointAttr(list: KeyValue[] | undefined, r: Reader, end: number): KeyValue[] {
  try {
    const e = r.sub(end);
    const p = r.pos;
    if (e - p > SHARED_KV_MAX_BYTES) {
      const kv = decKeyValue(r, e);
      if (!list) return [kv];
      if (Object.isFrozen(list)) return [...list, kv];
      list.push(kv);
      return list;
    }
    const entry = sharedKv(r, p, e);
    if (!list) return entry.one;
    if (Object.isFrozen(list)) return [...list, entry.kv];
    list.push(entry.kv);
    return list;
  } catch (e) {
    throw within(e, `attributes[${list?.length ?? 0}]`);
  }
}
