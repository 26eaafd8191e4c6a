/**
 * OTLP protobuf encoding and decoding of metrics export requests/responses.
 *
 * The wire format comes from the official opentelemetry-proto definitions as
 * compiled to protobufjs static code by `@opentelemetry/otlp-transformer`
 * (pinned; see package.json). That generated module is CommonJS with an `any`
 * typing, so it is loaded through `createRequire` and given the small typed
 * surface below.
 *
 * Our in-memory model (src/metrics/otlp.ts) is the OTLP/HTTP JSON mapping:
 * 64-bit integers are decimal strings. The static encoder accepts strings only
 * through long.js; we never depend on that and convert every 64-bit field to
 * exact `{ low, high }` words ourselves (BigInt, or plain arithmetic when the
 * value is a safe integer). Only the objects that hold a 64-bit field (data
 * points, `intValue` attributes) and their parents are rebuilt; strings,
 * attribute arrays without integers, and scalars are shared with the input.
 */

import { createRequire } from 'node:module';
import type {
  AnyValue,
  ExportMetricsServiceRequest,
  KeyValue,
  Metric,
  NumberDataPoint,
  ResourceMetrics,
  ScopeMetrics,
} from '../metrics/otlp.js';

// ---------------------------------------------------------------------------
// Typed surface of the generated protobufjs module

/** What the generated writer/reader use for 64-bit fields (long.js Long or LongBits-like words). */
interface LongWords {
  low: number;
  high: number;
  unsigned?: boolean;
}

/** A 64-bit field as the generated code accepts or returns it. */
type PbLong = LongWords | number | string;

interface PbKeyValue {
  key?: string | null;
  value?: PbAnyValue | null;
}

interface PbAnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: PbLong | null;
  doubleValue?: number | null;
  arrayValue?: { values?: PbAnyValue[] | null } | null;
  kvlistValue?: { values?: PbKeyValue[] | null } | null;
  bytesValue?: Uint8Array | null;
}

interface PbNumberDataPoint {
  attributes?: PbKeyValue[] | null;
  startTimeUnixNano?: PbLong | null;
  timeUnixNano?: PbLong | null;
  asDouble?: number | null;
  asInt?: PbLong | null;
  flags?: number | null;
}

interface PbMetric {
  name?: string | null;
  description?: string | null;
  unit?: string | null;
  gauge?: { dataPoints?: PbNumberDataPoint[] | null } | null;
  sum?: {
    dataPoints?: PbNumberDataPoint[] | null;
    aggregationTemporality?: number | null;
    isMonotonic?: boolean | null;
  } | null;
}

interface PbScopeMetrics {
  scope?: { name?: string | null; version?: string | null } | null;
  metrics?: PbMetric[] | null;
}

interface PbResourceMetrics {
  resource?: { attributes?: PbKeyValue[] | null } | null;
  scopeMetrics?: PbScopeMetrics[] | null;
}

interface PbExportMetricsServiceRequest {
  resourceMetrics?: PbResourceMetrics[] | null;
}

interface PbExportMetricsServiceResponse {
  partialSuccess?: { rejectedDataPoints?: PbLong | null; errorMessage?: string | null } | null;
}

interface PbWriter {
  finish(): Uint8Array;
}

/** A protobufjs static message class, reduced to what we call. */
interface PbMessageType<T> {
  encode(message: T): PbWriter;
  decode(buffer: Uint8Array): T;
}

interface GeneratedRoot {
  opentelemetry: {
    proto: {
      collector: {
        metrics: {
          v1: {
            ExportMetricsServiceRequest: PbMessageType<PbExportMetricsServiceRequest>;
            ExportMetricsServiceResponse: PbMessageType<PbExportMetricsServiceResponse>;
          };
        };
      };
    };
  };
}

const GENERATED_ROOT = '@opentelemetry/otlp-transformer/build/src/generated/root.js';

function loadGenerated(): GeneratedRoot['opentelemetry']['proto']['collector']['metrics']['v1'] {
  const root = createRequire(import.meta.url)(GENERATED_ROOT) as Partial<GeneratedRoot> | undefined;
  const v1 = root?.opentelemetry?.proto?.collector?.metrics?.v1;
  for (const t of [v1?.ExportMetricsServiceRequest, v1?.ExportMetricsServiceResponse]) {
    if (typeof t?.encode !== 'function' || typeof t?.decode !== 'function') {
      throw new Error(`${GENERATED_ROOT} does not provide opentelemetry.proto.collector.metrics.v1 message classes`);
    }
  }
  return v1!;
}

const pb = loadGenerated();

// ---------------------------------------------------------------------------
// 64-bit conversion

const DECIMAL_RE = /^-?\d+$/;
const TWO_32 = 4294967296;
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

/** Per-call memo: timestamps repeat across every point of a cycle. */
type LongCache = Map<string, LongWords>;

function toWords(v: unknown, field: string, signed: boolean, cache: LongCache): LongWords {
  if (typeof v === 'string') {
    const hit = cache.get(v);
    if (hit) return hit;
    if (!DECIMAL_RE.test(v)) throw new TypeError(`${field}: "${v}" is not a decimal integer`);
    const w = wordsOf(v.length <= 15 ? Number(v) : BigInt(v), field, signed);
    cache.set(v, w);
    return w;
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new TypeError(`${field}: ${v} is not a safe integer (use a decimal string)`);
    return wordsOf(v, field, signed);
  }
  if (typeof v === 'bigint') return wordsOf(v, field, signed);
  throw new TypeError(`${field}: expected a decimal integer string, got ${v === null ? 'null' : typeof v}`);
}

function wordsOf(v: number | bigint, field: string, signed: boolean): LongWords {
  if (typeof v === 'number' && v >= 0) {
    // exact: v is a non-negative safe integer here
    return { low: v % TWO_32, high: Math.floor(v / TWO_32) };
  }
  const b = BigInt(v);
  if (signed ? b < I64_MIN || b > I64_MAX : b < 0n || b > U64_MAX) {
    throw new RangeError(`${field}: ${b} is out of range for ${signed ? 'a signed' : 'an unsigned'} 64-bit integer`);
  }
  const u = BigInt.asUintN(64, b);
  return { low: Number(u & 0xffffffffn), high: Number(u >> 32n) };
}

/** A decoded 64-bit field back to its decimal string. */
function toDecimal(v: PbLong, signed: boolean): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') {
    // only when protobufjs runs without long.js: refuse to be silently lossy
    if (!Number.isSafeInteger(v)) throw new RangeError(`64-bit value ${v} lost precision while decoding`);
    return String(v);
  }
  const low = v.low >>> 0;
  const high = v.high >>> 0;
  if (high < 0x200000) return String(high * TWO_32 + low); // < 2^53: exact as a number
  const u = (BigInt(high) << 32n) | BigInt(low);
  return (signed ? BigInt.asIntN(64, u) : u).toString();
}

// ---------------------------------------------------------------------------
// model -> generated-encoder input

function encAttrs(attrs: KeyValue[], cache: LongCache): PbKeyValue[] {
  let out: PbKeyValue[] | undefined;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i];
    const value = kv.value as { intValue?: unknown };
    if (value.intValue === undefined) {
      if (out) out.push(kv as PbKeyValue);
      continue;
    }
    if (!out) out = attrs.slice(0, i) as PbKeyValue[];
    out.push({ key: kv.key, value: { intValue: toWords(value.intValue, `attribute ${kv.key}`, true, cache) } });
  }
  return out ?? (attrs as PbKeyValue[]);
}

function encPoints(points: NumberDataPoint[], metric: string, cache: LongCache): PbNumberDataPoint[] {
  const out: PbNumberDataPoint[] = new Array(points.length);
  for (let i = 0; i < points.length; i++) {
    const p = points[i];
    const q: PbNumberDataPoint = {
      timeUnixNano: toWords(p.timeUnixNano, `${metric} timeUnixNano`, false, cache),
    };
    if (p.attributes !== undefined) q.attributes = encAttrs(p.attributes, cache);
    if (p.startTimeUnixNano !== undefined) {
      q.startTimeUnixNano = toWords(p.startTimeUnixNano, `${metric} startTimeUnixNano`, false, cache);
    }
    if (p.asDouble !== undefined) q.asDouble = p.asDouble;
    if (p.asInt !== undefined) q.asInt = toWords(p.asInt, `${metric} asInt`, true, cache);
    out[i] = q;
  }
  return out;
}

function encMetric(m: Metric, cache: LongCache): PbMetric {
  const out: PbMetric = { name: m.name };
  if (m.description !== undefined) out.description = m.description;
  if (m.unit !== undefined) out.unit = m.unit;
  if (m.gauge) out.gauge = { dataPoints: encPoints(m.gauge.dataPoints, m.name, cache) };
  if (m.sum) {
    out.sum = {
      dataPoints: encPoints(m.sum.dataPoints, m.name, cache),
      aggregationTemporality: m.sum.aggregationTemporality,
      isMonotonic: m.sum.isMonotonic,
    };
  }
  return out;
}

function encScope(sm: ScopeMetrics, cache: LongCache): PbScopeMetrics {
  const scope: { name: string; version?: string } = { name: sm.scope.name };
  if (sm.scope.version !== undefined) scope.version = sm.scope.version;
  return { scope, metrics: sm.metrics.map((m) => encMetric(m, cache)) };
}

function encResource(rm: ResourceMetrics, cache: LongCache): PbResourceMetrics {
  return {
    resource: { attributes: encAttrs(rm.resource.attributes, cache) },
    scopeMetrics: rm.scopeMetrics.map((sm) => encScope(sm, cache)),
  };
}

/**
 * Encode a request to OTLP protobuf bytes. Throws TypeError/RangeError when a
 * 64-bit field is not a decimal integer in range (the message names the metric
 * or attribute).
 */
export function encodeRequest(req: ExportMetricsServiceRequest): Uint8Array {
  const cache: LongCache = new Map();
  const msg: PbExportMetricsServiceRequest = {
    resourceMetrics: req.resourceMetrics.map((rm) => encResource(rm, cache)),
  };
  return pb.ExportMetricsServiceRequest.encode(msg).finish();
}

// ---------------------------------------------------------------------------
// generated-decoder output -> model

/**
 * AnyValue kinds our model has no room for (arrayValue, kvlistValue,
 * bytesValue) and attributes without a value are dropped.
 */
function decAnyValue(v: PbAnyValue): AnyValue | undefined {
  if (v.stringValue != null) return { stringValue: v.stringValue };
  if (v.intValue != null) return { intValue: toDecimal(v.intValue, true) };
  if (v.doubleValue != null) return { doubleValue: v.doubleValue };
  if (v.boolValue != null) return { boolValue: v.boolValue };
  return undefined;
}

function decAttrs(attrs: PbKeyValue[] | null | undefined): KeyValue[] {
  const out: KeyValue[] = [];
  if (!attrs) return out;
  for (const kv of attrs) {
    const value = kv.value ? decAnyValue(kv.value) : undefined;
    if (value) out.push({ key: kv.key ?? '', value });
  }
  return out;
}

function decPoints(points: PbNumberDataPoint[] | null | undefined): NumberDataPoint[] {
  if (!points) return [];
  return points.map((p) => {
    const q: NumberDataPoint = { timeUnixNano: p.timeUnixNano != null ? toDecimal(p.timeUnixNano, false) : '0' };
    if (p.attributes?.length) q.attributes = decAttrs(p.attributes);
    if (p.startTimeUnixNano != null) q.startTimeUnixNano = toDecimal(p.startTimeUnixNano, false);
    if (p.asDouble != null) q.asDouble = p.asDouble;
    if (p.asInt != null) q.asInt = toDecimal(p.asInt, true);
    return q;
  });
}

function decMetric(m: PbMetric): Metric {
  const out: Metric = { name: m.name ?? '' };
  if (m.unit != null) out.unit = m.unit;
  if (m.description != null) out.description = m.description;
  if (m.gauge) out.gauge = { dataPoints: decPoints(m.gauge.dataPoints) };
  if (m.sum) {
    out.sum = {
      dataPoints: decPoints(m.sum.dataPoints),
      aggregationTemporality: m.sum.aggregationTemporality ?? 0,
      isMonotonic: m.sum.isMonotonic ?? false,
    };
  }
  return out;
}

/**
 * Decode OTLP protobuf bytes to the JSON-mapping model: 64-bit integers as
 * decimal strings, enums as numbers, absent proto3 scalars that the model
 * requires filled with their proto defaults. Data point `attributes` is present
 * only when non-empty. Histogram, exponential histogram and summary data have
 * no place in the model: such a metric keeps its name/unit/description and no
 * data. Throws on malformed input.
 */
export function decodeRequest(buf: Uint8Array): ExportMetricsServiceRequest {
  const msg = pb.ExportMetricsServiceRequest.decode(buf);
  return {
    resourceMetrics: (msg.resourceMetrics ?? []).map((rm) => ({
      resource: { attributes: decAttrs(rm.resource?.attributes) },
      scopeMetrics: (rm.scopeMetrics ?? []).map((sm) => {
        const scope: ScopeMetrics['scope'] = { name: sm.scope?.name ?? '' };
        if (sm.scope?.version != null) scope.version = sm.scope.version;
        return { scope, metrics: (sm.metrics ?? []).map(decMetric) };
      }),
    })),
  };
}

// ---------------------------------------------------------------------------
// ExportMetricsServiceResponse

/** JSON mapping of ExportMetricsServiceResponse (int64 as a decimal string). */
export interface ExportMetricsServiceResponse {
  partialSuccess?: {
    /** decimal string; encodeResponse also takes a number */
    rejectedDataPoints?: string | number;
    errorMessage?: string;
  };
}

export function encodeResponse(res: ExportMetricsServiceResponse): Uint8Array {
  const msg: PbExportMetricsServiceResponse = {};
  const ps = res.partialSuccess;
  if (ps) {
    const out: NonNullable<PbExportMetricsServiceResponse['partialSuccess']> = {};
    if (ps.rejectedDataPoints !== undefined) {
      out.rejectedDataPoints = toWords(ps.rejectedDataPoints, 'rejectedDataPoints', true, new Map());
    }
    if (ps.errorMessage !== undefined) out.errorMessage = ps.errorMessage;
    msg.partialSuccess = out;
  }
  return pb.ExportMetricsServiceResponse.encode(msg).finish();
}

/** Decode a response; `rejectedDataPoints` comes back as a decimal string. Throws on malformed input. */
export function decodeResponse(buf: Uint8Array): ExportMetricsServiceResponse {
  const msg = pb.ExportMetricsServiceResponse.decode(buf);
  const ps = msg.partialSuccess;
  if (!ps) return {};
  const out: NonNullable<ExportMetricsServiceResponse['partialSuccess']> = {};
  if (ps.rejectedDataPoints != null) out.rejectedDataPoints = toDecimal(ps.rejectedDataPoints, true);
  if (ps.errorMessage != null) out.errorMessage = ps.errorMessage;
  return { partialSuccess: out };
}
