/**
 * Splitting an encoded request by lane and size: every resource lands in
 * exactly one batch of its lane, each batch decodes as a valid request, and
 * no batch passes the limit (split-oversize.test.ts: resources over it).
 */
import { describe, expect, it } from 'vitest';
import type { Lane } from '../../src/core/lanes.js';
import { dbl, type ResourceMetrics, str } from '../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../src/otlp/proto.js';
import { resourceBounds, splitByLane } from '../../src/otlp/split.js';

function resource(i: number, points: number, pad = 0): ResourceMetrics {
  return {
    resource: { attributes: [str('process.executable.name', `p${i}${'x'.repeat(pad)}`), dbl('i', i)] },
    scopeMetrics: [
      {
        scope: { name: 'nrdot', version: '0' },
        metrics: [
          {
            name: 'process.memory.usage',
            unit: 'By',
            gauge: {
              dataPoints: Array.from({ length: points }, (_, k) => ({
                timeUnixNano: '1700000000000000000',
                asDouble: i * 100 + k,
                attributes: [str('k', String(k))],
              })),
            },
          },
        ],
      },
    ],
  };
}

const lanesCycle: Lane[] = ['standard', 'critical', 'sampled', 'standard', 'critical'];

describe('resourceBounds', () => {
  it('finds every resource entry of an encoded request', () => {
    const rs = Array.from({ length: 7 }, (_, i) => resource(i, 3, i * 50));
    const pb = encodeRequest({ resourceMetrics: rs });
    const b = resourceBounds(pb);
    expect(b).toHaveLength(8);
    expect(b[7]).toBe(pb.length);
    for (let i = 0; i < 7; i++) {
      const one = decodeRequest(pb.subarray(b[i], b[i + 1]));
      expect(one.resourceMetrics).toHaveLength(1);
      expect(one.resourceMetrics[0]).toEqual(
        decodeRequest(encodeRequest({ resourceMetrics: [rs[i]!] })).resourceMetrics[0],
      );
    }
  });

  it('refuses bytes that are not a run of resource entries', () => {
    expect(() => resourceBounds(Uint8Array.from([0x12, 0x00]))).toThrow(/unexpected protobuf tag 0x12/);
    expect(() => resourceBounds(Uint8Array.from([0x0a, 0x05, 1, 2]))).toThrow(/past the end/);
    expect(() => resourceBounds(Uint8Array.from([0x0a, 0x85]))).toThrow(/truncated/);
  });
});

describe('splitByLane', () => {
  const rs = Array.from({ length: 60 }, (_, i) => resource(i, 1 + (i % 5), (i % 3) * 200));
  const lanes = rs.map((_, i) => lanesCycle[i % lanesCycle.length]!);
  const points = rs.map((_, i) => 1 + (i % 5));
  const pb = encodeRequest({ resourceMetrics: rs });

  it('puts each resource in one batch of its own lane, critical first, under the limit', () => {
    const limit = 2000;
    const { batches, oversize } = splitByLane({ protobuf: pb, lanes, points }, () => limit);
    expect(oversize).toBe(0);
    const order = batches.map((b) => b.lane);
    expect(order).toEqual(
      [...order].sort(
        (a, b) => ['critical', 'standard', 'sampled'].indexOf(a) - ['critical', 'standard', 'sampled'].indexOf(b),
      ),
    );
    const seen: number[] = [];
    for (const b of batches) {
      expect(b.protobuf.length).toBeLessThanOrEqual(limit);
      const req = decodeRequest(b.protobuf);
      expect(req.resourceMetrics).toHaveLength(b.resources);
      let pts = 0;
      for (const r of req.resourceMetrics) {
        const i = (r.resource.attributes.find((a) => a.key === 'i')!.value as { doubleValue: number }).doubleValue;
        expect(lanes[i]).toBe(b.lane);
        seen.push(i);
        pts += points[i]!;
      }
      expect(b.points).toBe(pts);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(rs.map((_, i) => i));
    expect(batches.length).toBeGreaterThan(3);
  });

  it('uses the lane limit it is given (smaller critical requests)', () => {
    const { batches } = splitByLane({ protobuf: pb, lanes, points }, (lane) => (lane === 'critical' ? 600 : 1e6));
    const critical = batches.filter((b) => b.lane === 'critical');
    expect(critical.length).toBeGreaterThan(1);
    expect(batches.filter((b) => b.lane === 'standard')).toHaveLength(1);
  });

  it('refuses a resource whose own attributes are bigger than the limit, and counts it (it used to be sent whole)', () => {
    const big = [resource(0, 1), resource(1, 1, 5000), resource(2, 1)];
    const enc = encodeRequest({ resourceMetrics: big });
    const { batches, oversize, refused } = splitByLane(
      { protobuf: enc, lanes: ['standard', 'standard', 'standard'], points: [1, 1, 1] },
      () => 1000,
    );
    expect(oversize).toBe(1);
    expect(refused).toEqual({ resources: 1, points: 1 });
    expect(batches.map((b) => b.resources)).toEqual([2]);
    expect(batches.every((b) => b.protobuf.length <= 1000)).toBe(true);
  });

  it('refuses a lane list that does not match the request', () => {
    expect(() => splitByLane({ protobuf: pb, lanes: lanes.slice(1), points }, () => 1e6)).toThrow(/60 resources/);
  });
});
