import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { EncodedRequest } from '../../src/exporters/exporter.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/model.js';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../../src/otlp/proto.js';
import { processResource, richRequest, START, T } from '../exporters/fixture.js';

// The official generated classes, used here as an independent decoder.
interface Official {
  decode(b: Uint8Array): unknown;
  toObject(m: unknown, o: { longs: StringConstructor; enums: NumberConstructor }): Record<string, unknown>;
}
const official = (
  createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
    opentelemetry: { proto: { collector: { metrics: { v1: { ExportMetricsServiceRequest: Official } } } } };
  }
).opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;

describe('encodeRequest/decodeRequest', () => {
  it('round-trips every metric kind, AnyValue kind and 64-bit extreme exactly', () => {
    const req = richRequest();
    const copy = structuredClone(req);
    const bytes = encodeRequest(req);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes.length).toBeGreaterThan(100);
    expect(decodeRequest(bytes)).toStrictEqual(req);
    expect(req).toStrictEqual(copy); // input untouched
  });

  it('is read the same by the official generated decoder (nanosecond timestamps exact)', () => {
    const obj = official.toObject(official.decode(encodeRequest(richRequest())), { longs: String, enums: Number }) as {
      resourceMetrics: Array<{
        scopeMetrics: Array<{ metrics: Array<{ gauge?: { dataPoints: Array<Record<string, string>> } }> }>;
      }>;
    };
    const points = obj.resourceMetrics[0].scopeMetrics[0].metrics[1].gauge!.dataPoints;
    expect(points.map((p) => p.timeUnixNano)).toEqual(['18446744073709551615', '4294967296', '9007199254740993']);
    expect(points.map((p) => p.asInt)).toEqual(['-9223372036854775808', '9223372036854775807', '-42']);
    const first = obj.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge!.dataPoints[0];
    expect(first.timeUnixNano).toBe(T);
  });

  it('accepts data points whose attributes key is present but undefined (engine shape)', () => {
    const req: ExportMetricsServiceRequest = {
      resourceMetrics: [
        {
          resource: { attributes: [] },
          scopeMetrics: [
            {
              scope: { name: 'nrdot' },
              metrics: [
                { name: 'm', gauge: { dataPoints: [{ attributes: undefined, timeUnixNano: T, asDouble: 1 }] } },
              ],
            },
          ],
        },
      ],
    };
    expect(decodeRequest(encodeRequest(req))).toEqual(req);
  });

  it('encodes an empty request to zero bytes', () => {
    expect(encodeRequest({ resourceMetrics: [] }).length).toBe(0);
    expect(decodeRequest(new Uint8Array(0))).toStrictEqual({ resourceMetrics: [] });
  });

  it('rejects malformed 64-bit values with the field named', () => {
    const bad = (timeUnixNano: string, asInt?: string): ExportMetricsServiceRequest => ({
      resourceMetrics: [
        {
          resource: { attributes: [] },
          scopeMetrics: [
            { scope: { name: 'x' }, metrics: [{ name: 'm.x', gauge: { dataPoints: [{ timeUnixNano, asInt }] } }] },
          ],
        },
      ],
    });
    expect(() => encodeRequest(bad('12.5'))).toThrow(/m\.x timeUnixNano: "12\.5" is not a decimal integer/);
    expect(() => encodeRequest(bad(''))).toThrow(TypeError);
    expect(() => encodeRequest(bad('-1'))).toThrow(/out of range for an unsigned 64-bit integer/);
    expect(() => encodeRequest(bad('18446744073709551616'))).toThrow(RangeError);
    expect(() => encodeRequest(bad(T, '9223372036854775808'))).toThrow(/m\.x asInt/);
    const attr: ExportMetricsServiceRequest = {
      resourceMetrics: [
        { resource: { attributes: [{ key: 'process.pid', value: { intValue: 'abc' } }] }, scopeMetrics: [] },
      ],
    };
    expect(() => encodeRequest(attr)).toThrow(/attribute process\.pid/);
  });

  it('throws on bytes that are not a request', () => {
    expect(() => decodeRequest(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))).toThrow();
  });

  it('keeps repeated timestamps exact across thousands of points', () => {
    const resources = Array.from({ length: 2000 }, (_, i) =>
      processResource(i + 1, `p${i}`, 'standard', i / 2000, i * 4096),
    );
    const req = { resourceMetrics: resources };
    const back = decodeRequest(encodeRequest(req));
    expect(back).toStrictEqual(req);
    expect(back.resourceMetrics[1999].scopeMetrics[0].metrics[0].sum!.dataPoints[0].startTimeUnixNano).toBe(START);
  });
});

describe('encodeResponse/decodeResponse', () => {
  it('round-trips partial success', () => {
    const res = { partialSuccess: { rejectedDataPoints: '17', errorMessage: 'metric name too long' } };
    expect(decodeResponse(encodeResponse(res))).toStrictEqual(res);
    expect(decodeResponse(encodeResponse({ partialSuccess: { rejectedDataPoints: 3 } }))).toStrictEqual({
      partialSuccess: { rejectedDataPoints: '3' },
    });
  });

  it('an empty body is a full success', () => {
    expect(encodeResponse({}).length).toBe(0);
    expect(decodeResponse(new Uint8Array(0))).toStrictEqual({});
  });
});

describe('EncodedRequest', () => {
  it('computes each encoding once and reuses given protobuf bytes', async () => {
    const req = richRequest();
    const e = new EncodedRequest(req);
    expect(e.protobuf()).toBe(e.protobuf());
    expect(e.json()).toBe(e.json());
    expect(JSON.parse(e.json())).toStrictEqual(req);
    const gz = e.gzippedProtobuf();
    expect(e.gzippedProtobuf()).toBe(gz);
    const { gunzipSync } = await import('node:zlib');
    expect(decodeRequest(gunzipSync(await gz))).toStrictEqual(req);

    const pre = encodeRequest(req);
    expect(new EncodedRequest(req, pre).protobuf()).toBe(pre);
  });
});
