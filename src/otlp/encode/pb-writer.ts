/**
 * Fast OTLP protobuf encoding of the requests nrdot builds: resources with
 * attributes, scopes, gauge and sum metrics of NumberDataPoints (with
 * exemplars), and string/bool/int/double attribute values.
 *
 * One pass over the model into a reusable scratch buffer (src/otlp/encode/pb-buf.ts),
 * no intermediate objects, 64-bit decimal strings parsed straight to words
 * (the request's timestamps, shared by every point, are parsed once).
 *
 * The bytes are identical to the generic encoder's (`encodeRequestGeneric`
 * in src/otlp/proto.ts, protobufjs generated code) for every request this
 * path takes, including its presence rules: a field is written whenever the
 * model sets it, default value or not (proto3 as protobufjs encodes plain
 * objects), an unset/undefined field never, and an AnyValue with `intValue`
 * carries only that. Anything else (histograms, exponential histograms,
 * summaries, metadata, entity refs, array/kvlist/bytes values, values of the
 * wrong type, 64-bit values the generic encoder would reject, ...) makes
 * `tryEncodeRequestFast` return undefined, so the caller uses the generic
 * encoder, which also produces the errors for malformed input.
 */
import type { ExportMetricsServiceRequest } from '../model.js';
import * as w from './pb-buf.js';
import { FALLBACK, unsupported } from './pb-buf.js';

// Loose views of the model: every field is checked at run time, as the
// generic encoder would accept or reject it.
type Rec = Record<string, unknown>;

/** Length-prefix guess sites (one per message kind and context). */
enum Site {
  ResourceMetrics = 0,
  Resource = 1,
  ResourceAttr = 2,
  AnyValue = 3,
  ScopeMetrics = 4,
  Scope = 5,
  ScopeAttr = 6,
  Metric = 7,
  Data = 8,
  Point = 9,
  PointAttr = 10,
  Exemplar = 11,
  ExemplarAttr = 12,
}

// Timestamps repeat across the points of a request: remember the last two.
let t1: string | undefined;
let t1lo = 0;
let t1hi = 0;
let t2: string | undefined;
let t2lo = 0;
let t2hi = 0;

/** A fixed64 timestamp field (unsigned), memoized. */
function nanos(tag: number, v: unknown): void {
  let lo: number;
  let hi: number;
  if (typeof v !== 'string') {
    w.words64(v, false);
    lo = w.lo;
    hi = w.hi;
  } else if (v === t1) {
    lo = t1lo;
    hi = t1hi;
  } else if (v === t2) {
    lo = t2lo;
    hi = t2hi;
  } else {
    w.words64(v, false);
    lo = w.lo;
    hi = w.hi;
    t2 = t1;
    t2lo = t1lo;
    t2hi = t1hi;
    t1 = v;
    t1lo = lo;
    t1hi = hi;
  }
  w.byte(tag);
  w.fixed64(lo, hi);
}

function str(tag: number, v: unknown): void {
  if (v == null) return;
  if (typeof v !== 'string') unsupported();
  w.string(tag, v);
}

/** A string field whose values repeat (names, units, keys, short values): through the encoded-bytes cache. */
function strRepeated(tag: number, v: unknown): void {
  if (v == null) return;
  if (typeof v !== 'string') unsupported();
  w.stringCached(tag, v);
}

function uint32(tag: number, v: unknown): void {
  if (v == null) return;
  if (typeof v !== 'number' || !(v >= 0 && v <= 0xffffffff) || v % 1 !== 0) unsupported();
  w.ensure(6);
  w.byte(tag);
  w.varint(v);
}

function dbl(tag: number, v: unknown): void {
  if (v == null) return;
  if (typeof v !== 'number') unsupported();
  w.ensure(9);
  w.byte(tag);
  w.double(v);
}

function bool(tag: number, v: unknown): void {
  if (v == null) return;
  w.ensure(2);
  w.byte(tag);
  w.byte(v ? 1 : 0);
}

function isList(v: unknown): v is unknown[] {
  return Array.isArray(v);
}

/** A repeated field the fast path only takes when absent or empty. */
function emptyOrAbsent(v: unknown): void {
  if (v !== undefined && !(isList(v) && v.length === 0)) unsupported();
}

function anyValue(v: unknown): void {
  if (typeof v !== 'object' || v === null) unsupported();
  const a = v as Rec;
  const at = w.open(0x12, Site.AnyValue);
  if (a.intValue !== undefined) {
    w.words64(a.intValue, true);
    w.ensure(11);
    w.byte(0x18);
    w.varint64(w.lo, w.hi);
  } else {
    if (a.arrayValue !== undefined || a.kvlistValue !== undefined || a.bytesValue !== undefined) unsupported();
    strRepeated(0x0a, a.stringValue);
    bool(0x10, a.boolValue);
    dbl(0x21, a.doubleValue);
  }
  w.close(at, Site.AnyValue);
}

function attributes(tag: number, list: unknown, site: Site): void {
  if (!isList(list)) unsupported();
  for (let i = 0; i < list.length; i++) {
    const kv = list[i];
    if (typeof kv !== 'object' || kv === null) unsupported();
    const at = w.open(tag, site);
    strRepeated(0x0a, (kv as Rec).key);
    anyValue((kv as Rec).value);
    w.close(at, site);
  }
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function hexBytes(tag: number, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'string' || !HEX_RE.test(v)) unsupported();
  const n = v.length >>> 1;
  w.ensure(n + 6);
  w.byte(tag);
  w.varint(n);
  for (let i = 0; i < n; i++) w.byte(Number.parseInt(v.substr(i * 2, 2), 16));
}

function exemplar(x: unknown): void {
  if (typeof x !== 'object' || x === null) unsupported();
  const e = x as Rec;
  const at = w.open(0x2a, Site.Exemplar);
  w.ensure(9);
  nanos(0x11, e.timeUnixNano);
  dbl(0x19, e.asDouble);
  hexBytes(0x22, e.spanId);
  hexBytes(0x2a, e.traceId);
  if (e.asInt !== undefined) {
    w.words64(e.asInt, true);
    w.ensure(9);
    w.byte(0x31);
    w.fixed64(w.lo, w.hi);
  }
  if (e.filteredAttributes !== undefined) attributes(0x3a, e.filteredAttributes, Site.ExemplarAttr);
  w.close(at, Site.Exemplar);
}

function point(x: unknown): void {
  if (typeof x !== 'object' || x === null) unsupported();
  const p = x as Rec;
  const at = w.open(0x0a, Site.Point);
  w.ensure(40);
  if (p.startTimeUnixNano !== undefined) nanos(0x11, p.startTimeUnixNano);
  nanos(0x19, p.timeUnixNano);
  const d = p.asDouble;
  if (d != null) {
    if (typeof d !== 'number') unsupported();
    w.byte(0x21);
    w.double(d);
  }
  const ex = p.exemplars;
  if (ex !== undefined) {
    if (!isList(ex)) unsupported();
    for (let i = 0; i < ex.length; i++) exemplar(ex[i]);
  }
  if (p.asInt !== undefined) {
    w.words64(p.asInt, true);
    w.ensure(9);
    w.byte(0x31);
    w.fixed64(w.lo, w.hi);
  }
  if (p.attributes !== undefined) attributes(0x3a, p.attributes, Site.PointAttr);
  uint32(0x40, p.flags);
  w.close(at, Site.Point);
}

function points(list: unknown): void {
  if (!isList(list)) unsupported();
  for (let i = 0; i < list.length; i++) point(list[i]);
}

function metric(x: unknown): void {
  if (typeof x !== 'object' || x === null) unsupported();
  const m = x as Rec;
  if (m.histogram || m.exponentialHistogram || m.summary) unsupported();
  emptyOrAbsent(m.metadata);
  const at = w.open(0x12, Site.Metric);
  strRepeated(0x0a, m.name);
  strRepeated(0x12, m.description);
  strRepeated(0x1a, m.unit);
  if (m.gauge) {
    const g = w.open(0x2a, Site.Data);
    points((m.gauge as Rec).dataPoints);
    w.close(g, Site.Data);
  }
  if (m.sum) {
    const s = m.sum as Rec;
    const g = w.open(0x3a, Site.Data);
    points(s.dataPoints);
    const t = s.aggregationTemporality;
    if (t != null) {
      // protobufjs writes a negative int32 as 10 bytes: leave that to it
      if (typeof t !== 'number' || !(t >= 0 && t <= 0x7fffffff) || t % 1 !== 0) unsupported();
      w.ensure(6);
      w.byte(0x10);
      w.varint(t);
    }
    bool(0x18, s.isMonotonic);
    w.close(g, Site.Data);
  }
  w.close(at, Site.Metric);
}

function scopeMetrics(x: unknown): void {
  if (typeof x !== 'object' || x === null) unsupported();
  const sm = x as Rec;
  const scope = sm.scope;
  if (typeof scope !== 'object' || scope === null) unsupported();
  const ms = sm.metrics;
  if (!isList(ms)) unsupported();
  const at = w.open(0x12, Site.ScopeMetrics);
  const s = scope as Rec;
  const sc = w.open(0x0a, Site.Scope);
  str(0x0a, s.name);
  str(0x12, s.version);
  if (s.attributes !== undefined) attributes(0x1a, s.attributes, Site.ScopeAttr);
  uint32(0x20, s.droppedAttributesCount);
  w.close(sc, Site.Scope);
  for (let i = 0; i < ms.length; i++) metric(ms[i]);
  str(0x1a, sm.schemaUrl);
  w.close(at, Site.ScopeMetrics);
}

function resourceMetrics(x: unknown): void {
  if (typeof x !== 'object' || x === null) unsupported();
  const rm = x as Rec;
  const resource = rm.resource;
  if (typeof resource !== 'object' || resource === null) unsupported();
  const r = resource as Rec;
  if (r.entityRefs != null) emptyOrAbsent(r.entityRefs);
  const sms = rm.scopeMetrics;
  if (!isList(sms)) unsupported();
  const at = w.open(0x0a, Site.ResourceMetrics);
  const rs = w.open(0x0a, Site.Resource);
  attributes(0x0a, r.attributes, Site.ResourceAttr);
  uint32(0x10, r.droppedAttributesCount);
  w.close(rs, Site.Resource);
  for (let i = 0; i < sms.length; i++) scopeMetrics(sms[i]);
  str(0x1a, rm.schemaUrl);
  w.close(at, Site.ResourceMetrics);
}

/**
 * OTLP protobuf bytes of `req`, byte-identical to the generic encoder's, or
 * undefined when the request holds something this path does not encode (or
 * that the generic encoder rejects): encode it with the generic encoder.
 */
export function tryEncodeRequestFast(req: ExportMetricsServiceRequest): Buffer | undefined {
  const rms = (req as unknown as Rec | null)?.resourceMetrics;
  if (!isList(rms)) return undefined;
  w.reset();
  t1 = undefined;
  t2 = undefined;
  try {
    for (let i = 0; i < rms.length; i++) resourceMetrics(rms[i]);
  } catch (e) {
    if (e === FALLBACK) return undefined;
    throw e;
  }
  return w.finish();
}

/** Raised by `encodeRequestFast` for a request only the generic encoder takes. */
export class FastEncodeUnsupportedError extends Error {
  constructor() {
    super('request holds fields the fast protobuf encoder does not take; use encodeRequest');
    this.name = 'FastEncodeUnsupportedError';
  }
}

/** Like `tryEncodeRequestFast`, but throws FastEncodeUnsupportedError instead of returning undefined. */
export function encodeRequestFast(req: ExportMetricsServiceRequest): Buffer {
  const out = tryEncodeRequestFast(req);
  if (out === undefined) throw new FastEncodeUnsupportedError();
  return out;
}
