/**
 * The in-memory shape of an OTLP metrics export request. It is the OTLP/HTTP
 * JSON mapping of `ExportMetricsServiceRequest` (lowerCamelCase field names,
 * 64-bit integers as decimal strings, enums as numbers), so the file sink can
 * `JSON.stringify` it as is and the protobuf encoder converts it once.
 */

/**
 * One attribute value (the `value` oneof of common.proto AnyValue). An empty
 * object is an AnyValue with no value set. `bytesValue` is base64, as in the
 * proto3 JSON mapping. The non-scalar variants declare `boolValue?: undefined`
 * so code that narrows the scalar variants with `in` keeps compiling.
 */
export type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: AnyValue[] }; boolValue?: undefined }
  | { kvlistValue: { values: KeyValue[] }; boolValue?: undefined }
  | { bytesValue: string; boolValue?: undefined }
  | { boolValue?: undefined };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

/**
 * Canonical form (what the decoders produce, and what round-trips exactly):
 * 64-bit integers are decimal strings; a field the wire did not carry is
 * absent, except the ones typed as required below, which get their proto
 * default ('0', 0, '', false, []); optional repeated fields (data point
 * `attributes`, `exemplars`, `bucketCounts`, `explicitBounds`,
 * `quantileValues`, `metadata`, scope `attributes`, `entityRefs`, ...) are
 * absent rather than empty. Trace and span ids are lowercase hex. The
 * protobuf decoder shares identical data point attribute lists (and their
 * KeyValues) between points, frozen: copy one before changing it.
 */
export interface Exemplar {
  filteredAttributes?: KeyValue[];
  timeUnixNano: string;
  asDouble?: number;
  /** decimal string */
  asInt?: string;
  /** hex, 16 characters */
  spanId?: string;
  /** hex, 32 characters */
  traceId?: string;
}

/** DataPointFlags: the point has no recorded value. */
export const FLAG_NO_RECORDED_VALUE = 1;

export interface NumberDataPoint {
  attributes?: KeyValue[];
  /** nanoseconds since the epoch, decimal string */
  startTimeUnixNano?: string;
  timeUnixNano: string;
  asDouble?: number;
  /** decimal string */
  asInt?: string;
  exemplars?: Exemplar[];
  flags?: number;
}

export interface HistogramDataPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano: string;
  /** decimal string */
  count: string;
  sum?: number;
  /** decimal strings, one more than explicitBounds */
  bucketCounts?: string[];
  explicitBounds?: number[];
  exemplars?: Exemplar[];
  flags?: number;
  min?: number;
  max?: number;
}

export interface ExponentialHistogramBuckets {
  offset: number;
  /** decimal strings */
  bucketCounts: string[];
}

export interface ExponentialHistogramDataPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano: string;
  count: string;
  sum?: number;
  scale: number;
  zeroCount: string;
  positive?: ExponentialHistogramBuckets;
  negative?: ExponentialHistogramBuckets;
  flags?: number;
  exemplars?: Exemplar[];
  min?: number;
  max?: number;
  zeroThreshold?: number;
}

export interface ValueAtQuantile {
  quantile: number;
  value: number;
}

export interface SummaryDataPoint {
  attributes?: KeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano: string;
  count: string;
  sum: number;
  quantileValues?: ValueAtQuantile[];
  flags?: number;
}

/** AggregationTemporality enum of metrics.proto */
export const TEMPORALITY_UNSPECIFIED = 0;
export const TEMPORALITY_DELTA = 1;
export const TEMPORALITY_CUMULATIVE = 2;

/** A metric carries one of gauge, sum, histogram, exponentialHistogram, summary (or none). */
export interface Metric {
  name: string;
  unit?: string;
  description?: string;
  gauge?: { dataPoints: NumberDataPoint[] };
  sum?: { dataPoints: NumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean };
  histogram?: { dataPoints: HistogramDataPoint[]; aggregationTemporality: number };
  exponentialHistogram?: { dataPoints: ExponentialHistogramDataPoint[]; aggregationTemporality: number };
  summary?: { dataPoints: SummaryDataPoint[] };
  metadata?: KeyValue[];
}

export interface InstrumentationScope {
  name: string;
  version?: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

export interface ScopeMetrics {
  scope: InstrumentationScope;
  metrics: Metric[];
  schemaUrl?: string;
}

/** common.proto EntityRef (development in OTLP; kept so it round-trips) */
export interface EntityRef {
  schemaUrl?: string;
  type?: string;
  idKeys?: string[];
  descriptionKeys?: string[];
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  entityRefs?: EntityRef[];
}

export interface ResourceMetrics {
  resource: Resource;
  scopeMetrics: ScopeMetrics[];
  schemaUrl?: string;
}

export interface ExportMetricsServiceRequest {
  resourceMetrics: ResourceMetrics[];
}

/** The value of attribute `key`, or undefined. */
export function attrValue(attrs: readonly KeyValue[] | undefined, key: string): AnyValue | undefined {
  if (!attrs) return undefined;
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key === key) return attrs[i]!.value;
  return undefined;
}

/** A string attribute's value (undefined when absent or not a string). */
export function attrString(attrs: readonly KeyValue[] | undefined, key: string): string | undefined {
  return (attrValue(attrs, key) as { stringValue?: string } | undefined)?.stringValue;
}

/** An int, double or numeric string attribute as a finite number. */
export function attrNumber(attrs: readonly KeyValue[] | undefined, key: string): number | undefined {
  const v = attrValue(attrs, key) as
    | { intValue?: string | number; doubleValue?: number; stringValue?: string }
    | undefined;
  if (!v) return undefined;
  const n = v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? Number(v.stringValue ?? Number.NaN));
  return Number.isFinite(n) ? n : undefined;
}

/** Any scalar attribute (string, int, double, bool) as text. */
export function attrText(attrs: readonly KeyValue[] | undefined, key: string): string | undefined {
  const v = attrValue(attrs, key) as Record<string, unknown> | undefined;
  const x = v?.stringValue ?? v?.intValue ?? v?.doubleValue ?? v?.boolValue;
  return x === undefined ? undefined : String(x);
}

export const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
export const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: String(Math.trunc(v)) } });
export const dbl = (key: string, v: number): KeyValue => ({ key, value: { doubleValue: v } });
export const bool = (key: string, v: boolean): KeyValue => ({ key, value: { boolValue: v } });

/** Nanoseconds since the epoch as a decimal string, exact for any ms/sec input. */
export function nanosFromSec(sec: number): string {
  const whole = Math.floor(sec);
  const frac = Math.round((sec - whole) * 1e9);
  return (BigInt(whole) * 1_000_000_000n + BigInt(frac)).toString();
}

export function nanosFromMs(ms: number): string {
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1_000_000n + BigInt(frac)).toString();
}

/** The data points of one metric, whatever its type (a metric carries one type). */
export function metricDataPoints(m: Metric): readonly { timeUnixNano: string }[] {
  return (
    m.sum?.dataPoints ??
    m.gauge?.dataPoints ??
    m.histogram?.dataPoints ??
    m.exponentialHistogram?.dataPoints ??
    m.summary?.dataPoints ??
    []
  );
}

/** Data points of one metric, whatever its type. */
export function metricPoints(m: Metric): number {
  return (
    (m.gauge?.dataPoints.length ?? 0) +
    (m.sum?.dataPoints.length ?? 0) +
    (m.histogram?.dataPoints.length ?? 0) +
    (m.exponentialHistogram?.dataPoints.length ?? 0) +
    (m.summary?.dataPoints.length ?? 0)
  );
}

/** Count data points in a request (every metric type). */
export function countDataPoints(req: ExportMetricsServiceRequest): number {
  let n = 0;
  for (const rm of req.resourceMetrics)
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) n += metricPoints(m);
  return n;
}
