/**
 * OTLP protobuf encoding and decoding of metrics export requests/responses.
 *
 * The wire format comes from the official opentelemetry-proto definitions as
 * compiled to protobufjs static code by `@opentelemetry/otlp-transformer`
 * (pinned; see package.json). That generated module is CommonJS with an `any`
 * typing, so it is loaded through `createRequire` and given the small typed
 * surface below.
 *
 * Our in-memory model (src/otlp/model.ts) is the OTLP/HTTP JSON mapping:
 * 64-bit integers are decimal strings. The static encoder accepts strings only
 * through long.js; we never depend on that and convert every 64-bit field to
 * exact `{ low, high }` words ourselves (BigInt, or plain arithmetic when the
 * value is a safe integer). Only the objects that hold a 64-bit field (data
 * points, `intValue` attributes) and their parents are rebuilt; strings,
 * attribute arrays without integers, and scalars are shared with the input.
 * Hex trace/span ids and base64 `bytesValue`s become bytes.
 *
 * Decoding does not go through the generated code: `decodeRequest` is the
 * single-pass decoder of src/otlp/decode/pb-decode.ts, which writes the model
 * directly (several times faster, and the receiver's hot path).
 */

import { createRequire } from 'node:module';
import { decodeProtobufRequest } from './decode/pb-decode.js';
import { tryEncodeRequestFast } from './encode/pb-writer.js';
import type {
  AnyValue,
  EntityRef,
  Exemplar,
  ExponentialHistogramBuckets,
  ExponentialHistogramDataPoint,
  ExportMetricsServiceRequest,
  HistogramDataPoint,
  KeyValue,
  Metric,
  NumberDataPoint,
  ResourceMetrics,
  ScopeMetrics,
  SummaryDataPoint,
} from './model.js';

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

interface PbExemplar {
  filteredAttributes?: PbKeyValue[];
  timeUnixNano?: PbLong;
  asDouble?: number;
  asInt?: PbLong;
  spanId?: Uint8Array;
  traceId?: Uint8Array;
}

/** The fields every data point type shares (a NumberDataPoint is exactly this). */
interface PbPointBase {
  attributes?: PbKeyValue[] | null;
  startTimeUnixNano?: PbLong | null;
  timeUnixNano?: PbLong | null;
  asDouble?: number | null;
  asInt?: PbLong | null;
  exemplars?: PbExemplar[];
  flags?: number | null;
}
type PbNumberDataPoint = PbPointBase;

interface PbHistogramDataPoint extends PbPointBase {
  count?: PbLong;
  sum?: number;
  bucketCounts?: PbLong[];
  explicitBounds?: number[];
  min?: number;
  max?: number;
}

interface PbExpHistogramDataPoint extends PbPointBase {
  count?: PbLong;
  sum?: number;
  scale?: number;
  zeroCount?: PbLong;
  positive?: { offset?: number; bucketCounts?: PbLong[] };
  negative?: { offset?: number; bucketCounts?: PbLong[] };
  min?: number;
  max?: number;
  zeroThreshold?: number;
}

interface PbSummaryDataPoint extends PbPointBase {
  count?: PbLong;
  sum?: number;
  quantileValues?: { quantile?: number; value?: number }[];
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
  histogram?: { dataPoints?: PbHistogramDataPoint[]; aggregationTemporality?: number };
  exponentialHistogram?: { dataPoints?: PbExpHistogramDataPoint[]; aggregationTemporality?: number };
  summary?: { dataPoints?: PbSummaryDataPoint[] };
  metadata?: PbKeyValue[];
}

interface PbScope {
  name?: string | null;
  version?: string | null;
  attributes?: PbKeyValue[];
  droppedAttributesCount?: number;
}

interface PbScopeMetrics {
  scope?: PbScope | null;
  metrics?: PbMetric[] | null;
  schemaUrl?: string;
}

interface PbResourceMetrics {
  resource?: { attributes?: PbKeyValue[] | null; droppedAttributesCount?: number; entityRefs?: EntityRef[] } | null;
  scopeMetrics?: PbScopeMetrics[] | null;
  schemaUrl?: string;
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

/** AnyValue kinds the generated encoder cannot take as they are. */
interface ConvertibleValue {
  intValue?: unknown;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: unknown;
}

function encAnyValue(v: AnyValue, key: string, cache: LongCache): PbAnyValue {
  const c = v as ConvertibleValue;
  if (c.intValue !== undefined) return { intValue: toWords(c.intValue, `attribute ${key}`, true, cache) };
  if (c.arrayValue !== undefined) {
    return { arrayValue: { values: (c.arrayValue.values ?? []).map((x) => encAnyValue(x, key, cache)) } };
  }
  if (c.kvlistValue !== undefined) return { kvlistValue: { values: encAttrs(c.kvlistValue.values ?? [], cache) } };
  if (c.bytesValue !== undefined) {
    if (typeof c.bytesValue !== 'string') throw new TypeError(`attribute ${key}: bytesValue must be a base64 string`);
    return { bytesValue: Buffer.from(c.bytesValue, 'base64') };
  }
  return v as PbAnyValue;
}

function encAttrs(attrs: KeyValue[], cache: LongCache): PbKeyValue[] {
  let out: PbKeyValue[] | undefined;
  for (let i = 0; i < attrs.length; i++) {
    const kv = attrs[i];
    const value = kv.value as ConvertibleValue;
    if (
      value.intValue === undefined &&
      value.arrayValue === undefined &&
      value.kvlistValue === undefined &&
      value.bytesValue === undefined
    ) {
      if (out) out.push(kv as PbKeyValue);
      continue;
    }
    if (!out) out = attrs.slice(0, i) as PbKeyValue[];
    out.push({ key: kv.key, value: encAnyValue(kv.value, kv.key, cache) });
  }
  return out ?? (attrs as PbKeyValue[]);
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function hexBytes(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string' || !HEX_RE.test(v)) throw new TypeError(`${field}: expected an even-length hex string`);
  return Buffer.from(v, 'hex');
}

function encExemplars(list: Exemplar[], metric: string, cache: LongCache): PbExemplar[] {
  return list.map((x) => {
    const q: PbExemplar = { timeUnixNano: toWords(x.timeUnixNano, `${metric} exemplar timeUnixNano`, false, cache) };
    if (x.filteredAttributes !== undefined) q.filteredAttributes = encAttrs(x.filteredAttributes, cache);
    if (x.asDouble !== undefined) q.asDouble = x.asDouble;
    if (x.asInt !== undefined) q.asInt = toWords(x.asInt, `${metric} exemplar asInt`, true, cache);
    if (x.spanId !== undefined) q.spanId = hexBytes(x.spanId, `${metric} exemplar spanId`);
    if (x.traceId !== undefined) q.traceId = hexBytes(x.traceId, `${metric} exemplar traceId`);
    return q;
  });
}

/** Attributes, timestamps, exemplars and flags: the fields all point types share. */
function encBase(
  p: NumberDataPoint | HistogramDataPoint | ExponentialHistogramDataPoint | SummaryDataPoint,
  metric: string,
  cache: LongCache,
): PbPointBase {
  const q: PbPointBase = { timeUnixNano: toWords(p.timeUnixNano, `${metric} timeUnixNano`, false, cache) };
  if (p.attributes !== undefined) q.attributes = encAttrs(p.attributes, cache);
  if (p.startTimeUnixNano !== undefined) {
    q.startTimeUnixNano = toWords(p.startTimeUnixNano, `${metric} startTimeUnixNano`, false, cache);
  }
  const x = (p as { exemplars?: Exemplar[] }).exemplars;
  if (x !== undefined) q.exemplars = encExemplars(x, metric, cache);
  if (p.flags !== undefined) q.flags = p.flags;
  return q;
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
    if (p.exemplars !== undefined) q.exemplars = encExemplars(p.exemplars, metric, cache);
    if (p.flags !== undefined) q.flags = p.flags;
    out[i] = q;
  }
  return out;
}

const counts = (list: string[], field: string, cache: LongCache): LongWords[] =>
  list.map((c) => toWords(c, field, false, cache));

function encHistogramPoints(points: HistogramDataPoint[], metric: string, cache: LongCache): PbHistogramDataPoint[] {
  return points.map((p) => {
    const q: PbHistogramDataPoint = encBase(p, metric, cache);
    q.count = toWords(p.count, `${metric} count`, false, cache);
    if (p.sum !== undefined) q.sum = p.sum;
    if (p.bucketCounts !== undefined) q.bucketCounts = counts(p.bucketCounts, `${metric} bucketCounts`, cache);
    if (p.explicitBounds !== undefined) q.explicitBounds = p.explicitBounds;
    if (p.min !== undefined) q.min = p.min;
    if (p.max !== undefined) q.max = p.max;
    return q;
  });
}

function encBuckets(b: ExponentialHistogramBuckets, field: string, cache: LongCache) {
  return { offset: b.offset, bucketCounts: counts(b.bucketCounts ?? [], field, cache) };
}

function encExpHistogramPoints(
  points: ExponentialHistogramDataPoint[],
  metric: string,
  cache: LongCache,
): PbExpHistogramDataPoint[] {
  return points.map((p) => {
    const q: PbExpHistogramDataPoint = encBase(p, metric, cache);
    q.count = toWords(p.count, `${metric} count`, false, cache);
    if (p.sum !== undefined) q.sum = p.sum;
    q.scale = p.scale;
    q.zeroCount = toWords(p.zeroCount, `${metric} zeroCount`, false, cache);
    if (p.positive !== undefined) q.positive = encBuckets(p.positive, `${metric} positive`, cache);
    if (p.negative !== undefined) q.negative = encBuckets(p.negative, `${metric} negative`, cache);
    if (p.min !== undefined) q.min = p.min;
    if (p.max !== undefined) q.max = p.max;
    if (p.zeroThreshold !== undefined) q.zeroThreshold = p.zeroThreshold;
    return q;
  });
}

function encSummaryPoints(points: SummaryDataPoint[], metric: string, cache: LongCache): PbSummaryDataPoint[] {
  return points.map((p) => {
    const q: PbSummaryDataPoint = encBase(p, metric, cache);
    q.count = toWords(p.count, `${metric} count`, false, cache);
    q.sum = p.sum;
    if (p.quantileValues !== undefined) q.quantileValues = p.quantileValues;
    return q;
  });
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
  if (m.histogram) {
    out.histogram = {
      dataPoints: encHistogramPoints(m.histogram.dataPoints, m.name, cache),
      aggregationTemporality: m.histogram.aggregationTemporality,
    };
  }
  if (m.exponentialHistogram) {
    out.exponentialHistogram = {
      dataPoints: encExpHistogramPoints(m.exponentialHistogram.dataPoints, m.name, cache),
      aggregationTemporality: m.exponentialHistogram.aggregationTemporality,
    };
  }
  if (m.summary) out.summary = { dataPoints: encSummaryPoints(m.summary.dataPoints, m.name, cache) };
  if (m.metadata !== undefined) out.metadata = encAttrs(m.metadata, cache);
  return out;
}

function encScope(sm: ScopeMetrics, cache: LongCache): PbScopeMetrics {
  const s = sm.scope;
  const scope: PbScope = { name: s.name };
  if (s.version !== undefined) scope.version = s.version;
  if (s.attributes !== undefined) scope.attributes = encAttrs(s.attributes, cache);
  if (s.droppedAttributesCount !== undefined) scope.droppedAttributesCount = s.droppedAttributesCount;
  const out: PbScopeMetrics = { scope, metrics: sm.metrics.map((m) => encMetric(m, cache)) };
  if (sm.schemaUrl !== undefined) out.schemaUrl = sm.schemaUrl;
  return out;
}

function encResource(rm: ResourceMetrics, cache: LongCache): PbResourceMetrics {
  const r = rm.resource;
  const resource: NonNullable<PbResourceMetrics['resource']> = { attributes: encAttrs(r.attributes, cache) };
  if (r.droppedAttributesCount !== undefined) resource.droppedAttributesCount = r.droppedAttributesCount;
  if (r.entityRefs !== undefined) resource.entityRefs = r.entityRefs;
  const out: PbResourceMetrics = { resource, scopeMetrics: rm.scopeMetrics.map((sm) => encScope(sm, cache)) };
  if (rm.schemaUrl !== undefined) out.schemaUrl = rm.schemaUrl;
  return out;
}

/**
 * Encode a request to OTLP protobuf bytes. Throws TypeError/RangeError when a
 * 64-bit field is not a decimal integer in range, or a trace/span id is not
 * hex (the message names the metric or attribute).
 *
 * What nrdot builds (gauges and sums of number points, scalar attributes)
 * goes through the hand-written writer of src/otlp/encode/pb-writer.ts, several
 * times faster and byte-identical; any other request, and any malformed one,
 * through `encodeRequestGeneric`.
 */
export function encodeRequest(req: ExportMetricsServiceRequest): Uint8Array {
  return tryEncodeRequestFast(req) ?? encodeRequestGeneric(req);
}

/**
 * The generic encoder: the model converted to the protobufjs generated code's
 * input and encoded by it. Takes every message type.
 */
export function encodeRequestGeneric(req: ExportMetricsServiceRequest): Uint8Array {
  const cache: LongCache = new Map();
  const msg: PbExportMetricsServiceRequest = {
    resourceMetrics: req.resourceMetrics.map((rm) => encResource(rm, cache)),
  };
  return pb.ExportMetricsServiceRequest.encode(msg).finish();
}

/**
 * Decode OTLP protobuf bytes to the JSON-mapping model in its canonical form
 * (see src/otlp/model.ts): every metric type, exemplars, flags, metadata,
 * scope attributes, schema URLs and dropped-attribute counts; 64-bit integers
 * as decimal strings, enums as numbers, trace/span ids as hex, bytes as
 * base64. Data point `attributes` is present only when non-empty. Throws
 * OtlpDecodeError (src/otlp/decode/wire.ts), whose message names the field path,
 * on malformed input.
 */
export function decodeRequest(buf: Uint8Array): ExportMetricsServiceRequest {
  return decodeProtobufRequest(buf);
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
