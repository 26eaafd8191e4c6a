/** Requests for the receiver tests: every OTLP metric type and optional field, in canonical form. */
import { createRequire } from 'node:module';
import {
  bool,
  dbl,
  type ExportMetricsServiceRequest,
  int,
  type ResourceMetrics,
  str,
  TEMPORALITY_CUMULATIVE,
  TEMPORALITY_DELTA,
} from '../../../src/otlp/model.js';

export const T = '1732300000123456789';
export const START = '1732299000987654321';

/** Non-process metrics of every type a collector may send (they must pass through untouched). */
export function otherTypesResource(): ResourceMetrics {
  return {
    resource: {
      attributes: [str('service.name', 'checkout'), str('host.name', 'h1')],
      droppedAttributesCount: 2,
      entityRefs: [{ schemaUrl: 'https://x/s', type: 'service', idKeys: ['service.name'], descriptionKeys: ['d'] }],
    },
    schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
    scopeMetrics: [
      {
        scope: {
          name: 'lib',
          version: '2.0',
          attributes: [str('scope.attr', 'v'), int('n', 3)],
          droppedAttributesCount: 1,
        },
        schemaUrl: 'https://opentelemetry.io/schemas/1.25.0',
        metrics: [
          {
            name: 'http.server.duration',
            unit: 'ms',
            description: 'latency',
            metadata: [str('meta', 'x')],
            histogram: {
              aggregationTemporality: TEMPORALITY_DELTA,
              dataPoints: [
                {
                  attributes: [str('http.route', '/a'), int('code', 200)],
                  startTimeUnixNano: START,
                  timeUnixNano: T,
                  count: '18446744073709551615',
                  sum: 1234.5,
                  bucketCounts: ['1', '0', '9007199254740993', '4'],
                  explicitBounds: [0.5, 10, 250],
                  exemplars: [
                    {
                      filteredAttributes: [str('user', 'u1')],
                      timeUnixNano: T,
                      asDouble: 7.25,
                      spanId: '00f067aa0ba902b7',
                      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
                    },
                    { timeUnixNano: '1', asInt: '-9223372036854775808' },
                  ],
                  flags: 0,
                  min: -0.5,
                  max: 999,
                },
                { timeUnixNano: T, count: '0', flags: 1 },
              ],
            },
          },
          {
            name: 'rpc.latency',
            exponentialHistogram: {
              aggregationTemporality: TEMPORALITY_CUMULATIVE,
              dataPoints: [
                {
                  attributes: [bool('ok', true)],
                  startTimeUnixNano: START,
                  timeUnixNano: T,
                  count: '12',
                  sum: 88.5,
                  scale: -3,
                  zeroCount: '2',
                  positive: { offset: -2, bucketCounts: ['1', '18446744073709551615', '0'] },
                  negative: { offset: 5, bucketCounts: [] },
                  flags: 0,
                  exemplars: [{ timeUnixNano: T, asInt: '42', spanId: '', traceId: '' }],
                  min: 0.001,
                  max: 50,
                  zeroThreshold: 1e-9,
                },
                { timeUnixNano: T, count: '0', scale: 0, zeroCount: '0' },
              ],
            },
          },
          {
            name: 'gc.pause',
            unit: 's',
            summary: {
              dataPoints: [
                {
                  attributes: [str('gen', 'old')],
                  startTimeUnixNano: START,
                  timeUnixNano: T,
                  count: '3',
                  sum: 0.75,
                  quantileValues: [
                    { quantile: 0, value: 0.1 },
                    { quantile: 0.5, value: 0.2 },
                    { quantile: 1, value: 0.45 },
                  ],
                  flags: 1,
                },
                { timeUnixNano: T, count: '0', sum: 0 },
              ],
            },
          },
          {
            name: 'queue.depth',
            gauge: {
              dataPoints: [
                {
                  attributes: [
                    { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '-5' }, {}] } } },
                    {
                      key: 'map',
                      value: {
                        kvlistValue: {
                          values: [
                            { key: 'inner', value: { doubleValue: 1.5 } },
                            { key: 'deep', value: { arrayValue: { values: [] } } },
                          ],
                        },
                      },
                    },
                    { key: 'raw', value: { bytesValue: 'AAEC/w==' } },
                    { key: 'empty', value: {} },
                  ],
                  timeUnixNano: T,
                  asInt: '17',
                  exemplars: [{ timeUnixNano: T, asDouble: 3, traceId: '0af7651916cd43dd8448eb211c80319c' }],
                  flags: 1,
                },
              ],
            },
          },
          {
            name: 'requests',
            sum: {
              aggregationTemporality: TEMPORALITY_DELTA,
              isMonotonic: true,
              dataPoints: [{ startTimeUnixNano: START, timeUnixNano: T, asDouble: 0.1 }],
            },
          },
          { name: 'no.data', unit: '1' },
        ],
      },
    ],
  };
}

/** A process resource in the hostmetrics shape carrying a histogram too (odd for a process). */
export function processWithOddMetric(pid: number): ResourceMetrics {
  return {
    resource: { attributes: [int('process.pid', pid), str('process.executable.name', 'odd'), str('host.name', 'h1')] },
    scopeMetrics: [
      {
        scope: { name: 'processscraper', version: '1' },
        metrics: [
          {
            name: 'process.memory.usage',
            unit: 'By',
            sum: {
              aggregationTemporality: TEMPORALITY_CUMULATIVE,
              isMonotonic: false,
              dataPoints: [{ startTimeUnixNano: START, timeUnixNano: T, asInt: '4096' }],
            },
          },
          {
            name: 'process.custom.latency',
            histogram: {
              aggregationTemporality: TEMPORALITY_CUMULATIVE,
              dataPoints: [{ timeUnixNano: T, count: '1', bucketCounts: ['1'], sum: 2 }],
            },
          },
          { name: 'process.custom.flag', gauge: { dataPoints: [{ timeUnixNano: T, asDouble: 1 }] } },
        ],
      },
    ],
  };
}

export function fullRequest(): ExportMetricsServiceRequest {
  return {
    resourceMetrics: [
      otherTypesResource(),
      { resource: { attributes: [dbl('x', 0.5)] }, scopeMetrics: [{ scope: { name: '' }, metrics: [] }] },
      processWithOddMetric(77),
    ],
  };
}

// The official generated protobufjs classes: an independent decoder for comparisons.
export interface OfficialType {
  decode(b: Uint8Array): unknown;
  encode(m: unknown): { finish(): Uint8Array };
  toObject(m: unknown, o: Record<string, unknown>): Record<string, unknown>;
}

const root = createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { metrics: { v1: Record<string, OfficialType> } } } };
};
export const officialRequest = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest!;
export const officialResponse = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse!;

/** What the official decoder reads from protobuf bytes, with every default filled in. */
export function officialView(bytes: Uint8Array): Record<string, unknown> {
  return officialRequest.toObject(officialRequest.decode(bytes), {
    longs: String,
    enums: Number,
    bytes: String,
    defaults: true,
    arrays: true,
  });
}
