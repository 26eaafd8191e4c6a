/**
 * OTLP protobuf bytes → the JSON-mapping model of src/otlp/model.ts, in one
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
  EntityRef,
  ExportMetricsServiceRequest,
  InstrumentationScope,
  KeyValue,
  Metric,
  Resource,
  ResourceMetrics,
  ScopeMetrics,
} from '../model.js';
import { pushAttr } from './pb-attrs.js';
import { decExpHistogramPoint, decHistogramPoint, decNumberPoint, decSummaryPoint } from './pb-points.js';
import { Reader, within } from './wire.js';

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

export interface SliceOptions {
  /** yield to the event loop once a slice has run this long (ms) */
  sliceMs: number;
  /** monotonic ms (default performance.now) */
  now?: () => number;
  /** how to yield (default setImmediate) */
  yieldNow?: () => Promise<void>;
}

const immediate = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * decodeProtobufRequest for big bodies: the same decoding, resource by
 * resource, yielding to the event loop whenever a slice has run `sliceMs`,
 * so a 15 MB body does not hold every other request (and /health) for the
 * half second it takes. A single resource is decoded in one go.
 */
export async function decodeProtobufRequestSliced(
  buf: Uint8Array,
  o: SliceOptions,
): Promise<ExportMetricsServiceRequest> {
  const now = o.now ?? (() => performance.now());
  const yieldNow = o.yieldNow ?? immediate;
  const r = new Reader(buf);
  const end = buf.length;
  const resourceMetrics: ResourceMetrics[] = [];
  let sliceStart = now();
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) {
      try {
        resourceMetrics.push(decResourceMetrics(r, r.sub(end)));
      } catch (e) {
        throw within(e, `resourceMetrics[${resourceMetrics.length}]`);
      }
      if (now() - sliceStart >= o.sliceMs) {
        await yieldNow();
        sliceStart = now();
      }
    } else r.skip(tag, end);
  }
  r.checkEnd(end, 'the request');
  return { resourceMetrics };
}
