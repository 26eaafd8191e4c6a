/**
 * OTLP protobuf bytes → the JSON-mapping model of src/metrics/otlp.ts, in one
 * pass, without the intermediate protobufjs message objects (about 4x faster
 * than the generated decoder followed by a conversion, which matters at the
 * receiver's rates; bench/receiver.bench.ts measures it).
 *
 * Field numbers and types are those of opentelemetry-proto (metrics.proto,
 * common.proto, resource.proto, metrics_service.proto). The output is in the
 * canonical form documented in otlp.ts: presence follows the wire, required
 * model fields get proto defaults, optional repeated fields are absent when
 * empty. Unknown fields, and known fields with an unexpected wire type, are
 * skipped as a protobuf parser must; packed and unpacked repeated scalars are
 * both accepted; for a oneof the last value on the wire wins.
 *
 * Malformed input throws OtlpDecodeError naming the field path, e.g.
 * `resourceMetrics[2].scopeMetrics[0].metrics[5].sum.dataPoints[1]: truncated fixed64 at byte 80123`.
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
} from '../metrics/otlp.js';
import { i64String, OtlpDecodeError, Reader, u64String, WT_LEN, within } from './wire.js';

/** Nesting limit of arrayValue/kvlistValue inside attribute values. */
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

function decKeyValue(r: Reader, end: number): KeyValue {
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

function pushAttr(list: KeyValue[] | undefined, r: Reader, end: number, field: string): KeyValue[] {
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
function pointAttr(list: KeyValue[] | undefined, r: Reader, end: number): KeyValue[] {
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

function decExemplar(r: Reader, end: number): Exemplar {
  let filteredAttributes: KeyValue[] | undefined;
  let time = '0';
  let kind = 0;
  let asDouble = 0;
  let asInt = '';
  let spanId: string | undefined;
  let traceId: string | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x3a:
        filteredAttributes = pushAttr(filteredAttributes, r, end, 'filteredAttributes');
        break;
      case 0x11:
        time = r.timeNanos();
        break;
      case 0x19:
        asDouble = r.double();
        kind = 1;
        break;
      case 0x31:
        asInt = r.sfixed64String();
        kind = 2;
        break;
      case 0x22:
        spanId = r.hex(end);
        break;
      case 0x2a:
        traceId = r.hex(end);
        break;
      default:
        r.skip(tag, end);
    }
  }
  r.checkEnd(end, 'Exemplar');
  const x: Exemplar = { timeUnixNano: time };
  if (filteredAttributes) x.filteredAttributes = filteredAttributes;
  if (kind === 1) x.asDouble = asDouble;
  else if (kind === 2) x.asInt = asInt;
  if (spanId !== undefined) x.spanId = spanId;
  if (traceId !== undefined) x.traceId = traceId;
  return x;
}

function pushExemplar(list: Exemplar[] | undefined, r: Reader, end: number): Exemplar[] {
  const out = list ?? [];
  try {
    out.push(decExemplar(r, r.sub(end)));
  } catch (e) {
    throw within(e, `exemplars[${out.length}]`);
  }
  return out;
}

function decNumberPoint(r: Reader, end: number): NumberDataPoint {
  let attributes: KeyValue[] | undefined;
  let start: string | undefined;
  let time = '0';
  let kind = 0;
  let asDouble = 0;
  let asInt = '';
  let exemplars: Exemplar[] | undefined;
  let flags: number | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x3a:
        attributes = pointAttr(attributes, r, end);
        break;
      case 0x11:
        start = r.startNanos();
        break;
      case 0x19:
        time = r.timeNanos();
        break;
      case 0x21:
        asDouble = r.double();
        kind = 1;
        break;
      case 0x31:
        asInt = r.sfixed64String();
        kind = 2;
        break;
      case 0x2a:
        exemplars = pushExemplar(exemplars, r, end);
        break;
      case 0x40:
        flags = r.uint32();
        break;
      default:
        r.skip(tag, end);
    }
  }
  r.checkEnd(end, 'the data point');
  const p: NumberDataPoint = { timeUnixNano: time };
  if (attributes) p.attributes = attributes;
  if (start !== undefined) p.startTimeUnixNano = start;
  if (kind === 1) p.asDouble = asDouble;
  else if (kind === 2) p.asInt = asInt;
  if (exemplars) p.exemplars = exemplars;
  if (flags !== undefined) p.flags = flags;
  return p;
}

/** Repeated fixed64 (packed or not) as decimal strings. */
function pushFixed64s(list: string[] | undefined, r: Reader, tag: number, end: number): string[] {
  const out = list ?? [];
  if ((tag & 7) === WT_LEN) {
    const e = r.sub(end);
    if ((e - r.pos) % 8 !== 0) throw new OtlpDecodeError('packed fixed64 field length is not a multiple of 8');
    while (r.pos < e) out.push(r.fixed64String());
  } else out.push(r.fixed64String());
  return out;
}

function pushDoubles(list: number[] | undefined, r: Reader, tag: number, end: number): number[] {
  const out = list ?? [];
  if ((tag & 7) === WT_LEN) {
    const e = r.sub(end);
    if ((e - r.pos) % 8 !== 0) throw new OtlpDecodeError('packed double field length is not a multiple of 8');
    while (r.pos < e) out.push(r.double());
  } else out.push(r.double());
  return out;
}

function decHistogramPoint(r: Reader, end: number): HistogramDataPoint {
  let attributes: KeyValue[] | undefined;
  let start: string | undefined;
  let time = '0';
  let count = '0';
  let sum: number | undefined;
  let bucketCounts: string[] | undefined;
  let explicitBounds: number[] | undefined;
  let exemplars: Exemplar[] | undefined;
  let flags: number | undefined;
  let min: number | undefined;
  let max: number | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x4a:
        attributes = pointAttr(attributes, r, end);
        break;
      case 0x11:
        start = r.startNanos();
        break;
      case 0x19:
        time = r.timeNanos();
        break;
      case 0x21:
        count = r.fixed64String();
        break;
      case 0x29:
        sum = r.double();
        break;
      case 0x32:
      case 0x31:
        bucketCounts = pushFixed64s(bucketCounts, r, tag, end);
        break;
      case 0x3a:
      case 0x39:
        explicitBounds = pushDoubles(explicitBounds, r, tag, end);
        break;
      case 0x42:
        exemplars = pushExemplar(exemplars, r, end);
        break;
      case 0x50:
        flags = r.uint32();
        break;
      case 0x59:
        min = r.double();
        break;
      case 0x61:
        max = r.double();
        break;
      default:
        r.skip(tag, end);
    }
  }
  r.checkEnd(end, 'the data point');
  const p: HistogramDataPoint = { timeUnixNano: time, count };
  if (attributes) p.attributes = attributes;
  if (start !== undefined) p.startTimeUnixNano = start;
  if (sum !== undefined) p.sum = sum;
  if (bucketCounts?.length) p.bucketCounts = bucketCounts;
  if (explicitBounds?.length) p.explicitBounds = explicitBounds;
  if (exemplars) p.exemplars = exemplars;
  if (flags !== undefined) p.flags = flags;
  if (min !== undefined) p.min = min;
  if (max !== undefined) p.max = max;
  return p;
}

function decBuckets(r: Reader, end: number): ExponentialHistogramBuckets {
  let offset = 0;
  const bucketCounts: string[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x08) offset = r.sint32();
    else if (tag === 0x12) {
      const e = r.sub(end);
      while (r.pos < e) {
        r.varint64();
        bucketCounts.push(u64String(r.lo, r.hi));
      }
      r.checkEnd(e, 'packed bucketCounts');
    } else if (tag === 0x10) {
      r.varint64();
      bucketCounts.push(u64String(r.lo, r.hi));
    } else r.skip(tag, end);
  }
  r.checkEnd(end, 'buckets');
  return { offset, bucketCounts };
}

function decExpHistogramPoint(r: Reader, end: number): ExponentialHistogramDataPoint {
  let attributes: KeyValue[] | undefined;
  let start: string | undefined;
  let time = '0';
  let count = '0';
  let sum: number | undefined;
  let scale = 0;
  let zeroCount = '0';
  let positive: ExponentialHistogramBuckets | undefined;
  let negative: ExponentialHistogramBuckets | undefined;
  let flags: number | undefined;
  let exemplars: Exemplar[] | undefined;
  let min: number | undefined;
  let max: number | undefined;
  let zeroThreshold: number | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a:
        attributes = pointAttr(attributes, r, end);
        break;
      case 0x11:
        start = r.startNanos();
        break;
      case 0x19:
        time = r.timeNanos();
        break;
      case 0x21:
        count = r.fixed64String();
        break;
      case 0x29:
        sum = r.double();
        break;
      case 0x30:
        scale = r.sint32();
        break;
      case 0x39:
        zeroCount = r.fixed64String();
        break;
      case 0x42:
        try {
          positive = decBuckets(r, r.sub(end));
        } catch (e) {
          throw within(e, 'positive');
        }
        break;
      case 0x4a:
        try {
          negative = decBuckets(r, r.sub(end));
        } catch (e) {
          throw within(e, 'negative');
        }
        break;
      case 0x50:
        flags = r.uint32();
        break;
      case 0x5a:
        exemplars = pushExemplar(exemplars, r, end);
        break;
      case 0x61:
        min = r.double();
        break;
      case 0x69:
        max = r.double();
        break;
      case 0x71:
        zeroThreshold = r.double();
        break;
      default:
        r.skip(tag, end);
    }
  }
  r.checkEnd(end, 'the data point');
  const p: ExponentialHistogramDataPoint = { timeUnixNano: time, count, scale, zeroCount };
  if (attributes) p.attributes = attributes;
  if (start !== undefined) p.startTimeUnixNano = start;
  if (sum !== undefined) p.sum = sum;
  if (positive) p.positive = positive;
  if (negative) p.negative = negative;
  if (flags !== undefined) p.flags = flags;
  if (exemplars) p.exemplars = exemplars;
  if (min !== undefined) p.min = min;
  if (max !== undefined) p.max = max;
  if (zeroThreshold !== undefined) p.zeroThreshold = zeroThreshold;
  return p;
}

function decQuantile(r: Reader, end: number): ValueAtQuantile {
  let quantile = 0;
  let value = 0;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x09) quantile = r.double();
    else if (tag === 0x11) value = r.double();
    else r.skip(tag, end);
  }
  r.checkEnd(end, 'quantile value');
  return { quantile, value };
}

function decSummaryPoint(r: Reader, end: number): SummaryDataPoint {
  let attributes: KeyValue[] | undefined;
  let start: string | undefined;
  let time = '0';
  let count = '0';
  let sum = 0;
  let quantileValues: ValueAtQuantile[] | undefined;
  let flags: number | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x3a:
        attributes = pointAttr(attributes, r, end);
        break;
      case 0x11:
        start = r.startNanos();
        break;
      case 0x19:
        time = r.timeNanos();
        break;
      case 0x21:
        count = r.fixed64String();
        break;
      case 0x29:
        sum = r.double();
        break;
      case 0x32:
        quantileValues ??= [];
        try {
          quantileValues.push(decQuantile(r, r.sub(end)));
        } catch (e) {
          throw within(e, `quantileValues[${quantileValues.length}]`);
        }
        break;
      case 0x40:
        flags = r.uint32();
        break;
      default:
        r.skip(tag, end);
    }
  }
  r.checkEnd(end, 'the data point');
  const p: SummaryDataPoint = { timeUnixNano: time, count, sum };
  if (attributes) p.attributes = attributes;
  if (start !== undefined) p.startTimeUnixNano = start;
  if (quantileValues) p.quantileValues = quantileValues;
  if (flags !== undefined) p.flags = flags;
  return p;
}

type PointDecoder<P> = (r: Reader, end: number) => P;

/**
 * Gauge, Sum, Histogram, ExponentialHistogram, Summary: field 1 is the data
 * points; `agg` fields 2 (temporality) and 3 (monotonic) where the type has them.
 */
function decPoints<P>(
  r: Reader,
  end: number,
  point: PointDecoder<P>,
  agg: { temporality: number; monotonic: boolean } | undefined,
): P[] {
  const points: P[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) {
      try {
        points.push(point(r, r.sub(end)));
      } catch (e) {
        throw within(e, `dataPoints[${points.length}]`);
      }
    } else if (tag === 0x10 && agg) agg.temporality = r.int32();
    else if (tag === 0x18 && agg) agg.monotonic = r.bool();
    else r.skip(tag, end);
  }
  r.checkEnd(end, 'the metric data');
  return points;
}

/** `data` is a oneof: a later value on the wire replaces an earlier one. */
function clearData(m: Metric): void {
  if (m.gauge || m.sum || m.histogram || m.exponentialHistogram || m.summary) {
    delete m.gauge;
    delete m.sum;
    delete m.histogram;
    delete m.exponentialHistogram;
    delete m.summary;
  }
}

function decMetric(r: Reader, end: number): Metric {
  const m: Metric = { name: '' };
  let metadata: KeyValue[] | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a:
        m.name = r.string(end);
        break;
      case 0x12:
        m.description = r.string(end);
        break;
      case 0x1a:
        m.unit = r.string(end);
        break;
      case 0x2a:
        try {
          const dataPoints = decPoints(r, r.sub(end), decNumberPoint, undefined);
          clearData(m);
          m.gauge = { dataPoints };
        } catch (e) {
          throw within(e, 'gauge');
        }
        break;
      case 0x3a:
        try {
          const agg = { temporality: 0, monotonic: false };
          const dataPoints = decPoints(r, r.sub(end), decNumberPoint, agg);
          clearData(m);
          m.sum = { dataPoints, aggregationTemporality: agg.temporality, isMonotonic: agg.monotonic };
        } catch (e) {
          throw within(e, 'sum');
        }
        break;
      case 0x4a:
        try {
          const agg = { temporality: 0, monotonic: false };
          const dataPoints = decPoints(r, r.sub(end), decHistogramPoint, agg);
          clearData(m);
          m.histogram = { dataPoints, aggregationTemporality: agg.temporality };
        } catch (e) {
          throw within(e, 'histogram');
        }
        break;
      case 0x52:
        try {
          const agg = { temporality: 0, monotonic: false };
          const dataPoints = decPoints(r, r.sub(end), decExpHistogramPoint, agg);
          clearData(m);
          m.exponentialHistogram = { dataPoints, aggregationTemporality: agg.temporality };
        } catch (e) {
          throw within(e, 'exponentialHistogram');
        }
        break;
      case 0x5a:
        try {
          const dataPoints = decPoints(r, r.sub(end), decSummaryPoint, undefined);
          clearData(m);
          m.summary = { dataPoints };
        } catch (e) {
          throw within(e, 'summary');
        }
        break;
      case 0x62:
        metadata = pushAttr(metadata, r, end, 'metadata');
        break;
      default:
        r.skip(tag, end);
    }
  }
  r.checkEnd(end, 'the metric');
  if (metadata) m.metadata = metadata;
  return m;
}

function decScope(r: Reader, end: number): InstrumentationScope {
  const s: InstrumentationScope = { name: '' };
  let attributes: KeyValue[] | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) s.name = r.string(end);
    else if (tag === 0x12) s.version = r.string(end);
    else if (tag === 0x1a) attributes = pushAttr(attributes, r, end, 'attributes');
    else if (tag === 0x20) s.droppedAttributesCount = r.uint32();
    else r.skip(tag, end);
  }
  r.checkEnd(end, 'the scope');
  if (attributes) s.attributes = attributes;
  return s;
}

function decScopeMetrics(r: Reader, end: number): ScopeMetrics {
  let scope: InstrumentationScope | undefined;
  const metrics: Metric[] = [];
  let schemaUrl: string | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x12) {
      try {
        metrics.push(decMetric(r, r.sub(end)));
      } catch (e) {
        throw within(e, `metrics[${metrics.length}]`);
      }
    } else if (tag === 0x0a) {
      try {
        scope = decScope(r, r.sub(end));
      } catch (e) {
        throw within(e, 'scope');
      }
    } else if (tag === 0x1a) schemaUrl = r.string(end);
    else r.skip(tag, end);
  }
  r.checkEnd(end, 'scopeMetrics');
  const sm: ScopeMetrics = { scope: scope ?? { name: '' }, metrics };
  if (schemaUrl !== undefined) sm.schemaUrl = schemaUrl;
  return sm;
}

function decStrings(list: string[] | undefined, r: Reader, end: number): string[] {
  const out = list ?? [];
  out.push(r.string(end));
  return out;
}

function decEntityRef(r: Reader, end: number): EntityRef {
  const ref: EntityRef = {};
  let idKeys: string[] | undefined;
  let descriptionKeys: string[] | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) ref.schemaUrl = r.string(end);
    else if (tag === 0x12) ref.type = r.string(end);
    else if (tag === 0x1a) idKeys = decStrings(idKeys, r, end);
    else if (tag === 0x22) descriptionKeys = decStrings(descriptionKeys, r, end);
    else r.skip(tag, end);
  }
  r.checkEnd(end, 'the entity ref');
  if (idKeys) ref.idKeys = idKeys;
  if (descriptionKeys) ref.descriptionKeys = descriptionKeys;
  return ref;
}

function decResource(r: Reader, end: number): Resource {
  let attributes: KeyValue[] | undefined;
  let dropped: number | undefined;
  let entityRefs: EntityRef[] | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) attributes = pushAttr(attributes, r, end, 'attributes');
    else if (tag === 0x10) dropped = r.uint32();
    else if (tag === 0x1a) {
      entityRefs ??= [];
      try {
        entityRefs.push(decEntityRef(r, r.sub(end)));
      } catch (e) {
        throw within(e, `entityRefs[${entityRefs.length}]`);
      }
    } else r.skip(tag, end);
  }
  r.checkEnd(end, 'the resource');
  const res: Resource = { attributes: attributes ?? [] };
  if (dropped !== undefined) res.droppedAttributesCount = dropped;
  if (entityRefs) res.entityRefs = entityRefs;
  return res;
}

function decResourceMetrics(r: Reader, end: number): ResourceMetrics {
  let resource: Resource | undefined;
  const scopeMetrics: ScopeMetrics[] = [];
  let schemaUrl: string | undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x12) {
      try {
        scopeMetrics.push(decScopeMetrics(r, r.sub(end)));
      } catch (e) {
        throw within(e, `scopeMetrics[${scopeMetrics.length}]`);
      }
    } else if (tag === 0x0a) {
      try {
        resource = decResource(r, r.sub(end));
      } catch (e) {
        throw within(e, 'resource');
      }
    } else if (tag === 0x1a) schemaUrl = r.string(end);
    else r.skip(tag, end);
  }
  r.checkEnd(end, 'resourceMetrics');
  const rm: ResourceMetrics = { resource: resource ?? { attributes: [] }, scopeMetrics };
  if (schemaUrl !== undefined) rm.schemaUrl = schemaUrl;
  return rm;
}

/**
 * Decode an ExportMetricsServiceRequest. Throws OtlpDecodeError (with the
 * field path in its message) on malformed input.
 */
export function decodeProtobufRequest(buf: Uint8Array): ExportMetricsServiceRequest {
  const r = new Reader(buf);
  const end = buf.length;
  const resourceMetrics: ResourceMetrics[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) {
      try {
        resourceMetrics.push(decResourceMetrics(r, r.sub(end)));
      } catch (e) {
        throw within(e, `resourceMetrics[${resourceMetrics.length}]`);
      }
    } else r.skip(tag, end);
  }
  r.checkEnd(end, 'the request');
  return { resourceMetrics };
}
