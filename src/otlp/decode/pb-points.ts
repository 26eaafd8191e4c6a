/**
 * Data point decoding for the OTLP protobuf decoder: number, histogram,
 * exponential histogram and summary points, exemplars.
 */
import type {
  Exemplar,
  ExponentialHistogramBuckets,
  ExponentialHistogramDataPoint,
  HistogramDataPoint,
  KeyValue,
  NumberDataPoint,
  SummaryDataPoint,
  ValueAtQuantile,
} from '../model.js';
import { pointAttr, pushAttr } from './pb-attrs.js';
import { OtlpDecodeError, type Reader, u64String, WT_LEN, within } from './wire.js';

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

export function decNumberPoint(r: Reader, end: number): NumberDataPoint {
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

export function decHistogramPoint(r: Reader, end: number): HistogramDataPoint {
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

export function decExpHistogramPoint(r: Reader, end: number): ExponentialHistogramDataPoint {
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

export function decSummaryPoint(r: Reader, end: number): SummaryDataPoint {
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
