/** Requests shaped like the ones the engine builds, plus every AnyValue kind and extreme 64-bit values. */
import {
  bool,
  dbl,
  type ExportMetricsServiceRequest,
  int,
  type ResourceMetrics,
  str,
  TEMPORALITY_CUMULATIVE,
} from '../../src/otlp/model.js';

export const T = '1732300000123456789'; // > 2^53: a double would round it
export const START = '1732299000987654321';

export function processResource(pid: number, name: string, tier: string, cpu: number, rss: number): ResourceMetrics {
  return {
    resource: {
      attributes: [
        int('process.pid', pid),
        int('process.parent_pid', 1),
        str('process.executable.name', name),
        str('host.name', 'h1'),
        str('nrdot.tier', tier),
        dbl('nrdot.importance', 0.75),
      ],
    },
    scopeMetrics: [
      {
        scope: { name: 'nrdot', version: '0.1.0' },
        metrics: [
          {
            name: 'process.cpu.time',
            unit: 's',
            description: 'Total CPU seconds broken down by different states.',
            sum: {
              aggregationTemporality: TEMPORALITY_CUMULATIVE,
              isMonotonic: true,
              dataPoints: [
                { attributes: [str('state', 'user')], startTimeUnixNano: START, timeUnixNano: T, asDouble: 12.25 },
                { attributes: [str('state', 'system')], startTimeUnixNano: START, timeUnixNano: T, asDouble: 0 },
              ],
            },
          },
          {
            name: 'process.cpu.utilization',
            unit: '1',
            gauge: { dataPoints: [{ timeUnixNano: T, asDouble: cpu }] },
          },
          {
            name: 'process.memory.usage',
            unit: 'By',
            sum: {
              aggregationTemporality: TEMPORALITY_CUMULATIVE,
              isMonotonic: false,
              dataPoints: [{ startTimeUnixNano: START, timeUnixNano: T, asInt: String(rss) }],
            },
          },
        ],
      },
    ],
  };
}

export function rollupResource(tier: string, count: number, cpu: number, rss: number): ResourceMetrics {
  return {
    resource: {
      attributes: [
        str('process.executable.name', '_other_'),
        str('host.name', 'h1'),
        str('nrdot.tier', tier),
        bool('nrdot.rollup', true),
      ],
    },
    scopeMetrics: [
      {
        scope: { name: 'nrdot', version: '0.1.0' },
        metrics: [
          { name: 'process.cpu.utilization', unit: '1', gauge: { dataPoints: [{ timeUnixNano: T, asDouble: cpu }] } },
          {
            name: 'process.memory.usage',
            unit: 'By',
            sum: {
              aggregationTemporality: TEMPORALITY_CUMULATIVE,
              isMonotonic: false,
              dataPoints: [{ startTimeUnixNano: START, timeUnixNano: T, asInt: String(rss) }],
            },
          },
          {
            name: 'nrdot.rollup.count',
            unit: '{processes}',
            gauge: { dataPoints: [{ timeUnixNano: T, asDouble: count }] },
          },
        ],
      },
    ],
  };
}

/** Everything the model can hold, with the awkward values. */
export function richRequest(): ExportMetricsServiceRequest {
  return {
    resourceMetrics: [
      {
        resource: {
          attributes: [
            { key: 's', value: { stringValue: 'postgres: writer ü ✓' } },
            { key: 'empty', value: { stringValue: '' } },
            { key: 'i', value: { intValue: '1234' } },
            { key: 'i-neg', value: { intValue: '-9223372036854775808' } },
            { key: 'i-max', value: { intValue: '9223372036854775807' } },
            { key: 'd', value: { doubleValue: 0.1 } },
            { key: 'd-neg', value: { doubleValue: -1.5e300 } },
            { key: 'b-true', value: { boolValue: true } },
            { key: 'b-false', value: { boolValue: false } },
          ],
        },
        scopeMetrics: [
          {
            scope: { name: 'nrdot', version: '0.1.0' },
            metrics: [
              {
                name: 'g.double',
                unit: '1',
                description: 'a gauge',
                gauge: {
                  dataPoints: [
                    { timeUnixNano: T, asDouble: 0.125 },
                    { attributes: [{ key: 'k', value: { intValue: '-1' } }], timeUnixNano: '0', asDouble: -0.5 },
                  ],
                },
              },
              {
                name: 'g.int',
                gauge: {
                  dataPoints: [
                    { timeUnixNano: '18446744073709551615', asInt: '-9223372036854775808' },
                    { timeUnixNano: '4294967296', asInt: '9223372036854775807' },
                    { timeUnixNano: '9007199254740993', asInt: '-42' },
                  ],
                },
              },
              {
                name: 's.mono',
                unit: 's',
                sum: {
                  aggregationTemporality: TEMPORALITY_CUMULATIVE,
                  isMonotonic: true,
                  dataPoints: [
                    {
                      attributes: [str('state', 'user'), bool('b', false), dbl('x', 2.5)],
                      startTimeUnixNano: START,
                      timeUnixNano: T,
                      asDouble: 123456.789,
                    },
                    { startTimeUnixNano: START, timeUnixNano: T, asInt: '1' },
                  ],
                },
              },
              {
                name: 's.nonmono',
                unit: 'By',
                sum: {
                  aggregationTemporality: 1,
                  isMonotonic: false,
                  dataPoints: [{ startTimeUnixNano: '1', timeUnixNano: T, asInt: '4503599627370497' }],
                },
              },
            ],
          },
          { scope: { name: 'other' }, metrics: [] },
        ],
      },
      processResource(4242, 'postgres', 'critical', 0.125, 512 * 1024 * 1024),
      rollupResource('noise', 42, 0.031, 120 * 1024 * 1024),
    ],
  };
}
