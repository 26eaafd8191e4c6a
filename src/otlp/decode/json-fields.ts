/**
 * Field readers for the OTLP/JSON decoder (json-decode.ts): each validates one
 * JSON value against a proto3 JSON type and throws OtlpDecodeError naming the
 * field when it does not fit.
 */
import { OtlpDecodeError, within } from './wire.js';

export type Obj = Record<string, unknown>;

export const U64_MAX = (1n << 64n) - 1n;
export const I64_MIN = -(1n << 63n);
export const I64_MAX = (1n << 63n) - 1n;

export function fail(field: string, detail: string): never {
  throw new OtlpDecodeError(detail).prepend(field);
}

export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return String(v);
}

/** Value of a field by its lowerCamelCase or proto name; null counts as absent. */
export function get(o: Obj, camel: string, snake?: string): unknown {
  const v = o[camel];
  if (v !== undefined && v !== null) return v;
  if (snake === undefined) return undefined;
  const s = o[snake];
  return s === null ? undefined : s;
}

/** `field` names the value when the caller does not already (array elements and wrapped messages do). */
export function asObj(v: unknown, field?: string): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    const err = new OtlpDecodeError(`expected an object, got ${show(v)}`);
    throw field === undefined ? err : err.prepend(field);
  }
  return v as Obj;
}

export function list(v: unknown, field: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) fail(field, `expected an array, got ${show(v)}`);
  return v;
}

/** Decode each element of an array field, naming `field[i]` on error. */
export function each<T>(o: Obj, camel: string, snake: string | undefined, dec: (v: unknown) => T): T[] {
  const arr = list(get(o, camel, snake), camel);
  const out: T[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) {
    try {
      out[i] = dec(arr[i]);
    } catch (e) {
      throw within(e, `${camel}[${i}]`);
    }
  }
  return out;
}

export function optEach<T>(o: Obj, camel: string, snake: string | undefined, dec: (v: unknown) => T): T[] | undefined {
  const out = each(o, camel, snake, dec);
  return out.length ? out : undefined;
}

export function str(v: unknown, field: string): string {
  if (typeof v !== 'string') fail(field, `expected a string, got ${show(v)}`);
  return v;
}

export function optStr(o: Obj, camel: string, snake?: string): string | undefined {
  const v = get(o, camel, snake);
  return v === undefined ? undefined : str(v, camel);
}

export const DIGITS = /^-?\d+$/;

export function int64(v: unknown, field: string, signed: boolean): string {
  let b: bigint;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) fail(field, `expected an integer, got ${v}`);
    if (Number.isSafeInteger(v) && (signed || v >= 0)) return String(v);
    b = BigInt(v);
  } else if (typeof v === 'string' && DIGITS.test(v)) {
    if (v.length <= 15) {
      const n = Number(v);
      if (signed || n >= 0) return String(n);
    }
    b = BigInt(v);
  } else {
    fail(field, `expected ${signed ? 'a signed' : 'an unsigned'} 64-bit integer, got ${show(v)}`);
  }
  if (signed ? b < I64_MIN || b > I64_MAX : b < 0n || b > U64_MAX) {
    fail(field, `${b} is out of range for ${signed ? 'a signed' : 'an unsigned'} 64-bit integer`);
  }
  return b.toString();
}

export const u64 = (v: unknown, field: string) => int64(v, field, false);
export const i64 = (v: unknown, field: string) => int64(v, field, true);

export function optU64(o: Obj, camel: string, snake: string): string | undefined {
  const v = get(o, camel, snake);
  return v === undefined ? undefined : u64(v, camel);
}

export function int32(v: unknown, field: string, min: number, max: number): number {
  const n = typeof v === 'string' && DIGITS.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    fail(field, `expected an integer in [${min}, ${max}], got ${show(v)}`);
  }
  return n;
}

export function optU32(o: Obj, camel: string, snake: string): number | undefined {
  const v = get(o, camel, snake);
  return v === undefined ? undefined : int32(v, camel, 0, 0xffffffff);
}

export function f64(v: unknown, field: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return Number.NaN;
    if (v === 'Infinity') return Number.POSITIVE_INFINITY;
    if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
    const n = Number(v);
    if (v.trim() !== '' && !Number.isNaN(n)) return n;
  }
  fail(field, `expected a number, got ${show(v)}`);
}

export function optF64(o: Obj, camel: string, snake?: string): number | undefined {
  const v = get(o, camel, snake);
  return v === undefined ? undefined : f64(v, camel);
}

export function bool(v: unknown, field: string): boolean {
  if (typeof v !== 'boolean') fail(field, `expected true or false, got ${show(v)}`);
  return v;
}

export const HEX = /^(?:[0-9a-fA-F]{2})*$/;
export const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

export function hex(v: unknown, field: string): string {
  if (typeof v !== 'string' || !HEX.test(v)) fail(field, `expected an even-length hex string, got ${show(v)}`);
  return v.toLowerCase();
}

export function base64(v: unknown, field: string): string {
  if (typeof v !== 'string' || !BASE64.test(v)) fail(field, `expected base64, got ${show(v)}`);
  return Buffer.from(v, 'base64').toString('base64');
}

export const TEMPORALITY_NAMES: Record<string, number> = {
  AGGREGATION_TEMPORALITY_UNSPECIFIED: 0,
  AGGREGATION_TEMPORALITY_DELTA: 1,
  AGGREGATION_TEMPORALITY_CUMULATIVE: 2,
};

export function temporality(o: Obj): number {
  const v = get(o, 'aggregationTemporality', 'aggregation_temporality');
  if (v === undefined) return 0;
  if (typeof v === 'string' && v in TEMPORALITY_NAMES) return TEMPORALITY_NAMES[v]!;
  return int32(v, 'aggregationTemporality', -0x80000000, 0x7fffffff);
}
