/**
 * Shedding a received request to its critical processes: on the encoded
 * protobuf (no decode) and on a decoded request (JSON), with the default
 * classification rules. What is kept decodes to exactly the critical
 * resources; what is shed is counted to the data point.
 */
import { describe, expect, it } from 'vitest';
import { criticalTest } from '../../../src/control/index.js';
import { CRITICAL_NAMES, HostmetricsSource, POINTS_PER_PROCESS } from '../../../src/harness/hostmetrics.js';
import { HostmetricsEncoder } from '../../../src/harness/hostmetrics-pb.js';
import { attrString, countDataPoints, type ResourceMetrics } from '../../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../../src/otlp/proto.js';
import { ShedError, shedProtobuf, shedRequest } from '../../../src/sources/receiver/shed.js';
import { DEFAULTS } from '../../helpers/defaults.js';

const isCritical = criticalTest(DEFAULTS.classification);
const NOW = 1_700_000_000_000;

function names(rms: ResourceMetrics[]): string[] {
  return rms.map((rm) => attrString(rm.resource.attributes, 'process.executable.name') ?? '(none)');
}

/** a non-process resource (a host metric) and a process known only by its command_args (critical by the `postgres: ` command-line rule) */
function extras(): ResourceMetrics[] {
  const gauge = (v: number) => ({
    name: 'system.cpu.load_average.1m',
    gauge: { dataPoints: [{ timeUnixNano: '1', asDouble: v }] },
  });
  return [
    {
      resource: { attributes: [{ key: 'host.name', value: { stringValue: 'h' } }] },
      scopeMetrics: [{ scope: { name: 's' }, metrics: [gauge(1)] }],
    },
    {
      resource: {
        attributes: [
          { key: 'process.pid', value: { intValue: '77' } },
          {
            key: 'process.command_args',
            value: { arrayValue: { values: [{ stringValue: 'postgres:' }, { stringValue: 'checkpointer' }] } },
          },
        ],
      },
      scopeMetrics: [{ scope: { name: 's' }, metrics: [gauge(2), gauge(3)] }],
    },
  ];
}

describe('shedding to the critical processes', () => {
  it('protobuf: keeps exactly the critical process resources, byte for byte, and counts every shed data point', () => {
    const src = new HostmetricsSource({ processes: 40, criticalShare: 0.25, nowMs: NOW, seed: 3 });
    const body = new HostmetricsEncoder(src).encode(NOW);
    const r = shedProtobuf(body, isCritical);
    expect(r).toMatchObject({ keptResources: 10, shedResources: 30, shedPoints: 30 * POINTS_PER_PROCESS });
    const kept = decodeRequest(r.kept);
    expect(names(kept.resourceMetrics).every((n) => (CRITICAL_NAMES as readonly string[]).includes(n))).toBe(true);
    const whole = decodeRequest(body);
    expect(countDataPoints(kept) + r.shedPoints).toBe(countDataPoints(whole));
    const wholeCritical = whole.resourceMetrics.filter((rm) =>
      (CRITICAL_NAMES as readonly string[]).includes(names([rm])[0]!),
    );
    expect(kept.resourceMetrics).toEqual(wholeCritical);
  });

  it('protobuf and decoded requests agree: non-process resources are shed, a process named by command_args is kept', () => {
    const src = new HostmetricsSource({ processes: 12, criticalShare: 0.5, nowMs: NOW });
    const req = src.request(NOW);
    req.resourceMetrics.push(...extras());
    const pb = shedProtobuf(encodeRequest(req), isCritical);
    const js = shedRequest(req, isCritical);
    const counts = { keptResources: 7, shedResources: 7, shedPoints: 6 * POINTS_PER_PROCESS + 1 };
    expect(pb).toMatchObject(counts);
    expect(js).toMatchObject(counts);
    expect(decodeRequest(pb.kept)).toEqual(js.request);
    expect(js.request.resourceMetrics.at(-1)!.resource.attributes[0]!.value).toEqual({ intValue: '77' });
  });

  it('all critical keeps everything; none critical keeps nothing', () => {
    for (const [share, kept] of [
      [1, 8],
      [0, 0],
    ] as const) {
      const src = new HostmetricsSource({ processes: 8, criticalShare: share, nowMs: NOW });
      const r = shedProtobuf(new HostmetricsEncoder(src).encode(NOW), isCritical);
      expect(r.keptResources).toBe(kept);
      expect(r.shedPoints).toBe((8 - kept) * POINTS_PER_PROCESS);
      if (kept === 0) expect(r.kept.length).toBe(0);
    }
  });

  it('throws a ShedError on bytes that are not a request (the decoder then names the problem)', () => {
    expect(() => shedProtobuf(Uint8Array.from([0x0a, 0x50, 0x01]), isCritical)).toThrow(ShedError);
    expect(() => shedProtobuf(Uint8Array.from([0x0b]), isCritical)).toThrow(ShedError);
    expect(shedProtobuf(new Uint8Array(0), isCritical)).toMatchObject({ keptResources: 0, shedResources: 0 });
  });
});
