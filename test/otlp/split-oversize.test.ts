/**
 * A single resource larger than max_request_bytes: split into resources
 * that fit (each repeating the resource, scope and metric identity, with a
 * share of the data), every data point delivered exactly once; what cannot
 * fit on its own (a data point, a resource's attributes) is refused and
 * counted, and the caller logs it.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { ExportMetricsServiceRequest, Metric, ResourceMetrics } from '../../src/otlp/model.js';
import { countDataPoints, str } from '../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../src/otlp/proto.js';
import { SplitReporter, splitByLane } from '../../src/otlp/split.js';

const gauge = (name: string, n: number, attrPad = 0): Metric => ({
  name,
  unit: '1',
  gauge: {
    dataPoints: Array.from({ length: n }, (_, k) => ({
      timeUnixNano: '1700000000000000000',
      asDouble: k,
      attributes: [str('k', `${name}-${k}${'p'.repeat(k === 0 ? attrPad : 0)}`)],
    })),
  },
});

const sum = (name: string, n: number): Metric => ({
  name,
  unit: 's',
  sum: {
    aggregationTemporality: 2,
    isMonotonic: true,
    dataPoints: Array.from({ length: n }, (_, k) => ({
      startTimeUnixNano: '1',
      timeUnixNano: '1700000000000000000',
      asDouble: k * 1.5,
      attributes: [str('state', `s${k}`)],
    })),
  },
});

function bigResource(): ResourceMetrics {
  return {
    resource: { attributes: [str('host.name', 'h1'), str('process.pid', '42')] },
    schemaUrl: 'https://opentelemetry.io/schemas/1.24.0',
    scopeMetrics: [
      { scope: { name: 'a', version: '1' }, metrics: [gauge('a.one', 300), sum('a.two', 200)] },
      { scope: { name: 'b' }, metrics: [gauge('b.one', 5)] },
    ],
  };
}

/** Every data point as `resource|scope|metric|type|temporality|point`, to compare what went in with what came out. */
function points(req: ExportMetricsServiceRequest): string[] {
  const out: string[] = [];
  for (const rm of req.resourceMetrics) {
    const r = JSON.stringify([rm.resource, rm.schemaUrl]);
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        const d = m.gauge ?? m.sum!;
        const agg = m.sum ? `${m.sum.aggregationTemporality}/${m.sum.isMonotonic}` : '';
        for (const p of d.dataPoints)
          out.push(`${r}|${JSON.stringify(sm.scope)}|${m.name}/${m.unit}|${agg}|${JSON.stringify(p)}`);
      }
    }
  }
  return out.sort();
}

describe('a resource over the request size limit', () => {
  it('is split into resources that fit, each point exactly once, identity repeated', () => {
    const small: ResourceMetrics = {
      resource: { attributes: [str('host.name', 'h0')] },
      scopeMetrics: [{ scope: { name: 's' }, metrics: [gauge('x', 2)] }],
    };
    const req = { resourceMetrics: [small, bigResource()] };
    const pb = encodeRequest(req);
    for (const limit of [4096, 9000, 20_000]) {
      const r = splitByLane({ protobuf: pb, lanes: ['standard', 'standard'], points: [2, 505] }, () => limit);
      expect(r.oversize).toBe(1);
      expect(r.refused).toEqual({ resources: 0, points: 0 });
      const got: ExportMetricsServiceRequest = { resourceMetrics: [] };
      for (const b of r.batches) {
        expect(b.protobuf.length).toBeLessThanOrEqual(limit);
        const d = decodeRequest(b.protobuf);
        expect(countDataPoints(d)).toBe(b.points);
        expect(d.resourceMetrics).toHaveLength(b.resources);
        got.resourceMetrics.push(...d.resourceMetrics);
      }
      expect(points(got)).toEqual(points(decodeRequest(pb)));
      expect(r.batches.length).toBeGreaterThan(1);
    }
  });

  it('refuses only a data point too big on its own, and counts it', () => {
    const rm = bigResource();
    rm.scopeMetrics[1]!.metrics = [gauge('b.huge', 3, 10_000)];
    const pb = encodeRequest({ resourceMetrics: [rm] });
    const r = splitByLane({ protobuf: pb, lanes: ['critical'], points: [503] }, () => 8192);
    expect(r.refused).toEqual({ resources: 0, points: 1 });
    const sent = r.batches.reduce((n, b) => n + b.points, 0);
    expect(sent).toBe(502);
    expect(r.batches.every((b) => b.lane === 'critical' && b.protobuf.length <= 8192)).toBe(true);
  });

  it('is reported in one warning a minute with the counts', () => {
    const lines: { msg: string; split: number; refusedPoints: number }[] = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    let now = 0;
    const rep = new SplitReporter(() => now);
    rep.report({ oversize: 2, refused: { resources: 0, points: 3 } }, logger, 1000);
    rep.report({ oversize: 1, refused: { resources: 0, points: 0 } }, logger, 1000);
    now = 61_000;
    rep.report({ oversize: 0, refused: { resources: 1, points: 7 } }, logger, 1000);
    expect(lines.map((l) => [l.split, l.refusedPoints])).toEqual([
      [2, 3],
      [1, 7],
    ]);
    expect(lines[0]!.msg).toMatch(/split into smaller ones; data points .* refused/);
    expect(rep.totals).toEqual({ split: 3, refusedResources: 1, refusedPoints: 10 });
  });
});
