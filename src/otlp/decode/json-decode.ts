/**
 * OTLP/JSON (the OTLP/HTTP JSON encoding of ExportMetricsServiceRequest) →
 * the same canonical model the protobuf decoder produces.
 *
 * What is accepted, per the OTLP specification's JSON encoding and the proto3
 * JSON mapping it builds on:
 * - keys in lowerCamelCase, as OTLP requires; the original proto field names
 *   (`time_unix_nano`) are accepted too, as proto3 JSON parsers and the
 *   Collector's receiver do. Unknown keys are ignored (the spec's MUST).
 * - 64-bit integers as decimal strings or JSON numbers (a number beyond 2^53
 *   has already been rounded by JSON itself; its exact double value is kept).
 * - enums as integers (the spec's form), or their names.
 * - doubles as numbers or strings, including "NaN", "Infinity", "-Infinity".
 * - trace and span ids as hex (case-insensitive, stored lowercase); `bytesValue`
 *   as base64 (standard or URL-safe, stored standard).
 * - `null` anywhere means "not set".
 * A oneof given several values takes the first in declaration order.
 *
 * Bad input throws OtlpDecodeError naming the field path, e.g.
 * `resourceMetrics[0].scopeMetrics[0].metrics[1].sum.dataPoints[3].timeUnixNano: expected an unsigned 64-bit integer, got "12a"`.
 */
import type {
  AnyValue,
  EntityRef,
  Exemplar,
  ExponentialHistogramBuckets,
  ExponentialHistogramDataPoint,
  ExportMetricsServiceRequest,
  HistogramDataPoint,
  InstrumentationScope,
  KeyValue,
  Metric,
  NumberDataPoint,
  Resource,
  ResourceMetrics,
  ScopeMetrics,
  SummaryDataPoint,
  ValueAtQuantile,
} from '../model.js';
import {
  asObj,
  base64,
  bool,
  each,
  f64,
  get,
  hex,
  i64,
  int32,
  type Obj,
  optEach,
  optF64,
  optStr,
  optU32,
  optU64,
  str,
  temporality,
  u64,
} from './json-fields.js';
import { OtlpDecodeError, within } from './wire.js';

const MAX_ANY_DEPTH = 64;

// ---------------------------------------------------------------------------
// messages

function anyValue(v: unknown, depth: number): AnyValue {
  if (depth > MAX_ANY_DEPTH) throw new OtlpDecodeError(`attribute values nested deeper than ${MAX_ANY_DEPTH}`);
  const o = asObj(v);
  let x = get(o, 'stringValue', 'string_value');
  if (x !== undefined) return { stringValue: str(x, 'stringValue') };
  x = get(o, 'boolValue', 'bool_value');
  if (x !== undefined) return { boolValue: bool(x, 'boolValue') };
  x = get(o, 'intValue', 'int_value');
  if (x !== undefined) return { intValue: i64(x, 'intValue') };
  x = get(o, 'doubleValue', 'double_value');
  if (x !== undefined) return { doubleValue: f64(x, 'doubleValue') };
  x = get(o, 'arrayValue', 'array_value');
  if (x !== undefined) {
    const a = asObj(x, 'arrayValue');
    try {
      return { arrayValue: { values: each(a, 'values', undefined, (e) => anyValue(e, depth + 1)) } };
    } catch (e) {
      throw within(e, 'arrayValue');
    }
  }
  x = get(o, 'kvlistValue', 'kvlist_value');
  if (x !== undefined) {
    const a = asObj(x, 'kvlistValue');
    try {
      return { kvlistValue: { values: each(a, 'values', undefined, (e) => keyValue(e, depth + 1)) } };
    } catch (e) {
      throw within(e, 'kvlistValue');
    }
  }
  x = get(o, 'bytesValue', 'bytes_value');
  if (x !== undefined) return { bytesValue: base64(x, 'bytesValue') };
  return {};
}

function keyValue(v: unknown, depth = 0): KeyValue {
  const o = asObj(v);
  const key = get(o, 'key');
  const value = get(o, 'value');
  let decoded: AnyValue = {};
  if (value !== undefined) {
    try {
      decoded = anyValue(value, depth);
    } catch (e) {
      throw within(e, 'value');
    }
  }
  return { key: key === undefined ? '' : str(key, 'key'), value: decoded };
}

function exemplar(v: unknown): Exemplar {
  const o = asObj(v);
  const x: Exemplar = { timeUnixNano: optU64(o, 'timeUnixNano', 'time_unix_nano') ?? '0' };
  const attrs = optEach(o, 'filteredAttributes', 'filtered_attributes', (e) => keyValue(e));
  if (attrs) x.filteredAttributes = attrs;
  const d = get(o, 'asDouble', 'as_double');
  const n = get(o, 'asInt', 'as_int');
  if (d !== undefined) x.asDouble = f64(d, 'asDouble');
  else if (n !== undefined) x.asInt = i64(n, 'asInt');
  const span = get(o, 'spanId', 'span_id');
  if (span !== undefined) x.spanId = hex(span, 'spanId');
  const trace = get(o, 'traceId', 'trace_id');
  if (trace !== undefined) x.traceId = hex(trace, 'traceId');
  return x;
}

/** attributes, start, exemplars, flags (time is set by the caller, first, for a stable shape). */
function pointBase<P extends { timeUnixNano: string }>(o: Obj, p: P, attrField: 'attributes'): P {
  const attrs = optEach(o, attrField, undefined, (e) => keyValue(e));
  const q = p as P & Partial<NumberDataPoint>;
  if (attrs) q.attributes = attrs;
  const start = optU64(o, 'startTimeUnixNano', 'start_time_unix_nano');
  if (start !== undefined) q.startTimeUnixNano = start;
  const ex = optEach(o, 'exemplars', undefined, exemplar);
  if (ex) q.exemplars = ex;
  const flags = optU32(o, 'flags', 'flags');
  if (flags !== undefined) q.flags = flags;
  return p;
}

const time = (o: Obj) => optU64(o, 'timeUnixNano', 'time_unix_nano') ?? '0';

function numberPoint(v: unknown): NumberDataPoint {
  const o = asObj(v);
  const p = pointBase(o, { timeUnixNano: time(o) } as NumberDataPoint, 'attributes');
  const d = get(o, 'asDouble', 'as_double');
  const n = get(o, 'asInt', 'as_int');
  if (d !== undefined) p.asDouble = f64(d, 'asDouble');
  else if (n !== undefined) p.asInt = i64(n, 'asInt');
  return p;
}

function histogramPoint(v: unknown): HistogramDataPoint {
  const o = asObj(v);
  const p = pointBase(
    o,
    { timeUnixNano: time(o), count: optU64(o, 'count', 'count') ?? '0' } as HistogramDataPoint,
    'attributes',
  );
  const sum = optF64(o, 'sum');
  if (sum !== undefined) p.sum = sum;
  const counts = optEach(o, 'bucketCounts', 'bucket_counts', (e) => u64(e, 'bucketCounts'));
  if (counts) p.bucketCounts = counts;
  const bounds = optEach(o, 'explicitBounds', 'explicit_bounds', (e) => f64(e, 'explicitBounds'));
  if (bounds) p.explicitBounds = bounds;
  const min = optF64(o, 'min');
  if (min !== undefined) p.min = min;
  const max = optF64(o, 'max');
  if (max !== undefined) p.max = max;
  return p;
}

function buckets(v: unknown, field: string): ExponentialHistogramBuckets {
  const o = asObj(v, field);
  try {
    const offset = get(o, 'offset');
    return {
      offset: offset === undefined ? 0 : int32(offset, 'offset', -0x80000000, 0x7fffffff),
      bucketCounts: each(o, 'bucketCounts', 'bucket_counts', (e) => u64(e, 'bucketCounts')),
    };
  } catch (e) {
    throw within(e, field);
  }
}

function expHistogramPoint(v: unknown): ExponentialHistogramDataPoint {
  const o = asObj(v);
  const scale = get(o, 'scale');
  const p = pointBase(
    o,
    {
      timeUnixNano: time(o),
      count: optU64(o, 'count', 'count') ?? '0',
      scale: scale === undefined ? 0 : int32(scale, 'scale', -0x80000000, 0x7fffffff),
      zeroCount: optU64(o, 'zeroCount', 'zero_count') ?? '0',
    } as ExponentialHistogramDataPoint,
    'attributes',
  );
  const sum = optF64(o, 'sum');
  if (sum !== undefined) p.sum = sum;
  const pos = get(o, 'positive');
  if (pos !== undefined) p.positive = buckets(pos, 'positive');
  const neg = get(o, 'negative');
  if (neg !== undefined) p.negative = buckets(neg, 'negative');
  const min = optF64(o, 'min');
  if (min !== undefined) p.min = min;
  const max = optF64(o, 'max');
  if (max !== undefined) p.max = max;
  const zt = optF64(o, 'zeroThreshold', 'zero_threshold');
  if (zt !== undefined) p.zeroThreshold = zt;
  return p;
}

function quantile(v: unknown): ValueAtQuantile {
  const o = asObj(v);
  return { quantile: optF64(o, 'quantile') ?? 0, value: optF64(o, 'value') ?? 0 };
}

function summaryPoint(v: unknown): SummaryDataPoint {
  const o = asObj(v);
  const p = pointBase(
    o,
    {
      timeUnixNano: time(o),
      count: optU64(o, 'count', 'count') ?? '0',
      sum: optF64(o, 'sum') ?? 0,
    } as SummaryDataPoint,
    'attributes',
  );
  const q = optEach(o, 'quantileValues', 'quantile_values', quantile);
  if (q) p.quantileValues = q;
  return p;
}

function metricData<P>(o: Obj, field: string, point: (v: unknown) => P): { o: Obj; dataPoints: P[] } {
  const d = asObj(get(o, field), field);
  try {
    return { o: d, dataPoints: each(d, 'dataPoints', 'data_points', point) };
  } catch (e) {
    throw within(e, field);
  }
}

function metric(v: unknown): Metric {
  const o = asObj(v);
  const m: Metric = { name: optStr(o, 'name') ?? '' };
  const description = optStr(o, 'description');
  if (description !== undefined) m.description = description;
  const unit = optStr(o, 'unit');
  if (unit !== undefined) m.unit = unit;
  if (get(o, 'gauge') !== undefined) {
    m.gauge = { dataPoints: metricData(o, 'gauge', numberPoint).dataPoints };
  } else if (get(o, 'sum') !== undefined) {
    const { o: d, dataPoints } = metricData(o, 'sum', numberPoint);
    const mono = get(d, 'isMonotonic', 'is_monotonic');
    m.sum = {
      dataPoints,
      aggregationTemporality: temporality(d),
      isMonotonic: mono === undefined ? false : bool(mono, 'sum.isMonotonic'),
    };
  } else if (get(o, 'histogram') !== undefined) {
    const { o: d, dataPoints } = metricData(o, 'histogram', histogramPoint);
    m.histogram = { dataPoints, aggregationTemporality: temporality(d) };
  } else if (get(o, 'exponentialHistogram', 'exponential_histogram') !== undefined) {
    const field = get(o, 'exponentialHistogram') !== undefined ? 'exponentialHistogram' : 'exponential_histogram';
    const { o: d, dataPoints } = metricData(o, field, expHistogramPoint);
    m.exponentialHistogram = { dataPoints, aggregationTemporality: temporality(d) };
  } else if (get(o, 'summary') !== undefined) {
    m.summary = { dataPoints: metricData(o, 'summary', summaryPoint).dataPoints };
  }
  const metadata = optEach(o, 'metadata', undefined, (e) => keyValue(e));
  if (metadata) m.metadata = metadata;
  return m;
}

function scope(v: unknown): InstrumentationScope {
  const o = asObj(v);
  const s: InstrumentationScope = { name: optStr(o, 'name') ?? '' };
  const version = optStr(o, 'version');
  if (version !== undefined) s.version = version;
  const attrs = optEach(o, 'attributes', undefined, (e) => keyValue(e));
  if (attrs) s.attributes = attrs;
  const dropped = optU32(o, 'droppedAttributesCount', 'dropped_attributes_count');
  if (dropped !== undefined) s.droppedAttributesCount = dropped;
  return s;
}

function scopeMetrics(v: unknown): ScopeMetrics {
  const o = asObj(v);
  const sc = get(o, 'scope');
  let s: InstrumentationScope = { name: '' };
  if (sc !== undefined) {
    try {
      s = scope(sc);
    } catch (e) {
      throw within(e, 'scope');
    }
  }
  const sm: ScopeMetrics = { scope: s, metrics: each(o, 'metrics', undefined, metric) };
  const url = optStr(o, 'schemaUrl', 'schema_url');
  if (url !== undefined) sm.schemaUrl = url;
  return sm;
}

function entityRef(v: unknown): EntityRef {
  const o = asObj(v);
  const ref: EntityRef = {};
  const url = optStr(o, 'schemaUrl', 'schema_url');
  if (url !== undefined) ref.schemaUrl = url;
  const type = optStr(o, 'type');
  if (type !== undefined) ref.type = type;
  const ids = optEach(o, 'idKeys', 'id_keys', (e) => str(e, 'idKeys'));
  if (ids) ref.idKeys = ids;
  const desc = optEach(o, 'descriptionKeys', 'description_keys', (e) => str(e, 'descriptionKeys'));
  if (desc) ref.descriptionKeys = desc;
  return ref;
}

function resource(v: unknown): Resource {
  const o = asObj(v);
  const r: Resource = { attributes: each(o, 'attributes', undefined, (e) => keyValue(e)) };
  const dropped = optU32(o, 'droppedAttributesCount', 'dropped_attributes_count');
  if (dropped !== undefined) r.droppedAttributesCount = dropped;
  const refs = optEach(o, 'entityRefs', 'entity_refs', entityRef);
  if (refs) r.entityRefs = refs;
  return r;
}

function resourceMetrics(v: unknown): ResourceMetrics {
  const o = asObj(v);
  const res = get(o, 'resource');
  let r: Resource = { attributes: [] };
  if (res !== undefined) {
    try {
      r = resource(res);
    } catch (e) {
      throw within(e, 'resource');
    }
  }
  const rm: ResourceMetrics = { resource: r, scopeMetrics: each(o, 'scopeMetrics', 'scope_metrics', scopeMetrics) };
  const url = optStr(o, 'schemaUrl', 'schema_url');
  if (url !== undefined) rm.schemaUrl = url;
  return rm;
}

/** An already parsed OTLP/JSON request body. */
export function decodeJsonObject(v: unknown): ExportMetricsServiceRequest {
  const o = asObj(v);
  return { resourceMetrics: each(o, 'resourceMetrics', 'resource_metrics', resourceMetrics) };
}

/** Parse an OTLP/JSON ExportMetricsServiceRequest. Throws OtlpDecodeError naming the field path. */
export function decodeJsonRequest(text: string): ExportMetricsServiceRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new OtlpDecodeError(`invalid JSON: ${(e as Error).message}`);
  }
  return decodeJsonObject(parsed);
}
