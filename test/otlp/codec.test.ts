import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { describe, expect, it } from 'vitest';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import { HostmetricsEncoder } from '../../src/harness/hostmetrics-pb.js';
import { decodeJsonRequest } from '../../src/otlp/decode/json-decode.js';
import { OtlpDecodeError } from '../../src/otlp/decode/wire.js';
import { countDataPoints, type ExportMetricsServiceRequest, type Metric } from '../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../src/otlp/proto.js';
import { fullRequest, officialView, START, T } from '../sources/receiver/fixtures.js';
import { collectSdkMetrics, EXP_VALUES, HISTOGRAM_VALUES } from '../sources/receiver/sdk.js';

function metricsByName(req: ExportMetricsServiceRequest): Map<string, Metric> {
  const out = new Map<string, Metric>();
  for (const rm of req.resourceMetrics)
    for (const sm of rm.scopeMetrics) for (const m of sm.metrics) out.set(m.name, m);
  return out;
}

describe('protobuf codec completeness', () => {
  it('round-trips every metric type and optional field exactly', () => {
    const req = fullRequest();
    const copy = structuredClone(req);
    expect(decodeRequest(encodeRequest(req))).toStrictEqual(req);
    expect(req).toStrictEqual(copy);
  });

  it('keeps -0, NaN and infinities bit for bit', () => {
    const req: ExportMetricsServiceRequest = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'nan', value: { doubleValue: Number.NaN } }] },
          scopeMetrics: [
            {
              scope: { name: 's' },
              metrics: [
                {
                  name: 'g',
                  gauge: {
                    dataPoints: [
                      { timeUnixNano: T, asDouble: -0 },
                      { timeUnixNano: T, asDouble: Number.POSITIVE_INFINITY },
                    ],
                  },
                },
                {
                  name: 'h',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [{ timeUnixNano: T, count: '1', min: Number.NEGATIVE_INFINITY, sum: Number.NaN }],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    expect(decodeRequest(encodeRequest(req))).toStrictEqual(req);
  });

  it('is read the same by the official generated decoder', () => {
    const view = officialView(encodeRequest(fullRequest())) as {
      resourceMetrics: Array<{ scopeMetrics: Array<{ metrics: Array<Record<string, Record<string, unknown>>> }> }>;
    };
    const [hist, exp, summary] = view.resourceMetrics[0].scopeMetrics[0].metrics;
    const hp = (hist.histogram.dataPoints as Array<Record<string, unknown>>)[0];
    expect(hp.bucketCounts).toEqual(['1', '0', '9007199254740993', '4']);
    expect(hp.count).toBe('18446744073709551615');
    const ex = (hp.exemplars as Array<Record<string, string>>)[0];
    expect(Buffer.from(ex.traceId, 'base64').toString('hex')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(Buffer.from(ex.spanId, 'base64').toString('hex')).toBe('00f067aa0ba902b7');
    const ep = (exp.exponentialHistogram.dataPoints as Array<Record<string, unknown>>)[0];
    expect(ep.scale).toBe(-3);
    expect(ep.positive).toEqual({ offset: -2, bucketCounts: ['1', '18446744073709551615', '0'] });
    const sp = (summary.summary.dataPoints as Array<Record<string, unknown>>)[0];
    expect(sp.quantileValues).toEqual([
      { quantile: 0, value: 0.1 },
      { quantile: 0.5, value: 0.2 },
      { quantile: 1, value: 0.45 },
    ]);
  });

  it('decodes the official SDK serializers (protobuf and JSON) to the same model, and re-encodes it equivalently', async () => {
    const rm = await collectSdkMetrics();
    const pbBytes = ProtobufMetricsSerializer.serializeRequest(rm)!;
    const jsonBytes = JsonMetricsSerializer.serializeRequest(rm)!;
    const fromPb = decodeRequest(pbBytes);
    const fromJson = decodeJsonRequest(Buffer.from(jsonBytes).toString('utf8'));
    expect(fromJson).toStrictEqual(fromPb);

    const byName = metricsByName(fromPb);
    const counter = byName.get('sdk.counter')!;
    expect(counter.sum?.isMonotonic).toBe(true);
    expect(counter.sum?.dataPoints.map((p) => [p.attributes?.[0]?.value, p.asDouble ?? p.asInt])).toEqual([
      [{ stringValue: '/a' }, 12],
      [{ stringValue: '/b' }, 1],
    ]);
    expect(byName.get('sdk.gauge')?.gauge?.dataPoints[0].asDouble).toBe(42.5);
    const h = byName.get('sdk.histogram')!.histogram!.dataPoints[0];
    expect(h.count).toBe(String(HISTOGRAM_VALUES.length));
    expect(h.sum).toBe(HISTOGRAM_VALUES.reduce((a, b) => a + b, 0));
    expect(h.explicitBounds?.slice(0, 8)).toEqual([0, 5, 10, 25, 50, 75, 100, 250]);
    // 1 → (0,5]; 7,7 → (5,10]; 300 → (250,500]
    expect(h.bucketCounts?.slice(0, 9)).toEqual(['0', '1', '2', '0', '0', '0', '0', '0', '1']);
    const e = byName.get('sdk.exp')!.exponentialHistogram!.dataPoints[0];
    expect(e.count).toBe(String(EXP_VALUES.length));
    expect(e.positive!.bucketCounts.reduce((a, b) => a + Number(b), 0)).toBe(EXP_VALUES.length);

    // decode → encode keeps everything the official decoder sees
    expect(officialView(encodeRequest(fromPb))).toStrictEqual(officialView(pbBytes));
  });

  it('decodes the hostmetrics-shaped generator output exactly', () => {
    const src = new HostmetricsSource({ processes: 50, seed: 3, nowMs: 1_732_300_000_000 });
    const req = src.request(1_732_300_010_000);
    expect(countDataPoints(req)).toBe(src.pointsPerRequest);
    expect(decodeRequest(encodeRequest(req))).toStrictEqual(req);
  });

  it('names the field path of a truncated or overrunning field', () => {
    const bytes = encodeRequest(fullRequest());
    let err: unknown;
    try {
      decodeRequest(bytes.subarray(0, bytes.length - 3));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OtlpDecodeError);
    expect((err as Error).message).toMatch(/^resourceMetrics\[2\]/);
    expect(() => decodeRequest(Uint8Array.from([0x0a, 0x05, 0x0a, 0x10, 1, 2, 3]))).toThrow(
      /resourceMetrics\[0\].*truncated length-delimited field of 16 bytes/,
    );
    expect(() => decodeRequest(Uint8Array.from([0x0f]))).toThrow(/invalid wire type 7/);
    expect(() => decodeRequest(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))).toThrow(OtlpDecodeError);
  });

  it('skips unknown fields and accepts unpacked repeated scalars', () => {
    // ResourceMetrics{ unknown field 15 varint, scopeMetrics{ metrics{ name "m", histogram{ dataPoints{ count=2, bucketCounts 1,1 unpacked } } } } }
    const point = [0x21, 2, 0, 0, 0, 0, 0, 0, 0, 0x31, 1, 0, 0, 0, 0, 0, 0, 0, 0x31, 1, 0, 0, 0, 0, 0, 0, 0];
    const hist = [0x0a, point.length, ...point];
    const metric = [0x0a, 1, 0x6d, 0x4a, hist.length, ...hist, 0x78, 0x01];
    const sm = [0x12, metric.length, ...metric];
    const rm = [0x78, 0x05, 0x12, sm.length, ...sm];
    const req = decodeRequest(Uint8Array.from([0x0a, rm.length, ...rm]));
    expect(req.resourceMetrics[0].scopeMetrics[0].metrics[0]).toStrictEqual({
      name: 'm',
      histogram: {
        aggregationTemporality: 0,
        dataPoints: [{ timeUnixNano: '0', count: '2', bucketCounts: ['1', '1'] }],
      },
    });
  });
});

describe('decodeJsonRequest', () => {
  it('round-trips the canonical model through JSON.stringify', () => {
    const req = fullRequest();
    expect(decodeJsonRequest(JSON.stringify(req))).toStrictEqual(req);
  });

  it('accepts proto field names, numbers for 64-bit fields, enum names, special doubles, upper-case hex and null', () => {
    const text = JSON.stringify({
      resource_metrics: [
        {
          resource: { attributes: [{ key: 'process.pid', value: { int_value: 42 } }], dropped_attributes_count: null },
          scope_metrics: [
            {
              scope: { name: 's', version: null },
              metrics: [
                {
                  name: 'h',
                  histogram: {
                    aggregation_temporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
                    data_points: [
                      {
                        time_unix_nano: 1732300000123456800,
                        start_time_unix_nano: START,
                        count: 3,
                        sum: 'NaN',
                        bucket_counts: [1, '2'],
                        explicit_bounds: ['Infinity'],
                        exemplars: [{ time_unix_nano: T, as_int: -3, trace_id: '4BF92F3577B34DA6A3CE929D0E0E4736' }],
                        attributes: [],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(decodeJsonRequest(text)).toStrictEqual({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'process.pid', value: { intValue: '42' } }] },
          scopeMetrics: [
            {
              scope: { name: 's' },
              metrics: [
                {
                  name: 'h',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: [
                      {
                        // the number was rounded by JSON itself; its exact double value is kept
                        timeUnixNano: '1732300000123456768',
                        startTimeUnixNano: START,
                        count: '3',
                        sum: Number.NaN,
                        bucketCounts: ['1', '2'],
                        explicitBounds: [Number.POSITIVE_INFINITY],
                        exemplars: [{ timeUnixNano: T, asInt: '-3', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' }],
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    });
  });

  it('ignores unknown keys', () => {
    expect(decodeJsonRequest('{"resourceMetrics":[],"extra":{"a":1}}')).toStrictEqual({ resourceMetrics: [] });
    expect(decodeJsonRequest('{}')).toStrictEqual({ resourceMetrics: [] });
  });

  it('names the offending field path', () => {
    const bad = (point: Record<string, unknown>) =>
      JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [] },
            scopeMetrics: [{ scope: { name: 's' }, metrics: [{ name: 'm', sum: { dataPoints: [{}, point] } }] }],
          },
        ],
      });
    const path = 'resourceMetrics[0].scopeMetrics[0].metrics[0].sum.dataPoints[1]';
    expect(() => decodeJsonRequest(bad({ timeUnixNano: '12a' }))).toThrow(`${path}.timeUnixNano: expected an unsigned`);
    expect(() => decodeJsonRequest(bad({ timeUnixNano: '-1' }))).toThrow(`${path}.timeUnixNano: -1 is out of range`);
    expect(() => decodeJsonRequest(bad({ asInt: 1.5 }))).toThrow(`${path}.asInt: expected an integer, got 1.5`);
    expect(() => decodeJsonRequest(bad({ attributes: [{ key: 'k', value: { boolValue: 'yes' } }] }))).toThrow(
      `${path}.attributes[0].value.boolValue: expected true or false, got "yes"`,
    );
    expect(() => decodeJsonRequest(bad({ exemplars: [{ spanId: 'xyz' }] }))).toThrow(
      `${path}.exemplars[0].spanId: expected an even-length hex string`,
    );
    expect(() => decodeJsonRequest('{"resourceMetrics":{}}')).toThrow('resourceMetrics: expected an array');
    expect(() => decodeJsonRequest('{"resourceMetrics":[1]}')).toThrow('resourceMetrics[0]: expected an object, got 1');
    expect(() => decodeJsonRequest('{"resourceMetrics":[')).toThrow(/^invalid JSON/);
    expect(() => decodeJsonRequest('[]')).toThrow('expected an object, got an array');
  });
});

describe('HostmetricsEncoder', () => {
  it('patches a template into bytes that decode to exactly source.request(now)', () => {
    const src = new HostmetricsSource({ processes: 40, seed: 5, nowMs: 1_732_300_000_000 });
    const enc = new HostmetricsEncoder(src);
    for (const t of [1_732_300_000_000, 1_732_300_010_000, 1_732_300_017_123]) {
      expect(decodeRequest(enc.encode(t))).toStrictEqual(src.request(t));
    }
  });
});
