/**
 * A single resource larger than max_request_bytes arriving at the receiver
 * (the built CLI behind a "collector", forwarding to a loopback backend):
 * it used to be forwarded whole without the promised warning. Now it
 * reaches the backend split into requests under the limit, every data point
 * once; a data point too big on its own is refused; both are counted on
 * /metrics and in a warning.
 */
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { countDataPoints, type ExportMetricsServiceRequest, str } from '../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../src/otlp/proto.js';
import { type RunningAgent, startAgent } from '../helpers/cli.js';
import { startLoopbackServer } from '../helpers/loopback-http.js';

let agent: RunningAgent | undefined;
afterAll(() => agent?.kill());

function request(points: number, hugePointBytes: number): ExportMetricsServiceRequest {
  const dataPoints = Array.from({ length: points }, (_, k) => ({
    timeUnixNano: '1700000000000000000',
    asDouble: k,
    attributes: [str('series', `series-${k}-${'x'.repeat(60)}`)],
  }));
  return {
    resourceMetrics: [
      {
        resource: { attributes: [str('service.name', 'big-app'), str('host.name', 'h')] },
        scopeMetrics: [
          { scope: { name: 'app' }, metrics: [{ name: 'app.requests', unit: '1', gauge: { dataPoints } }] },
          {
            scope: { name: 'huge' },
            metrics: [
              {
                name: 'app.blob',
                unit: '1',
                gauge: {
                  dataPoints: [
                    { timeUnixNano: '1', asDouble: 1, attributes: [str('blob', 'b'.repeat(hugePointBytes))] },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('a resource over max_request_bytes at the receiver', () => {
  it('is split under the limit, the too-big point refused, and both counted and logged', async () => {
    const got: { bytes: number; points: number }[] = [];
    const backend = await startLoopbackServer((r) => {
      const raw = gunzipSync(r.body);
      got.push({ bytes: raw.length, points: countDataPoints(decodeRequest(raw)) });
      return { status: 200 };
    });
    try {
      agent = startAgent(['run', '--no-scan', '--otlp-listen', '127.0.0.1:0', '--export', `otlp:${backend.origin}`]);
      const control = await agent.controlUrl();
      const receiver = String((await agent.waitForLog(/^otlp receiver listening$/)).url);
      const body = encodeRequest(request(40_000, 1_200_000));
      expect(body.length).toBeGreaterThan(4_000_000);
      const res = await fetch(receiver, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      });
      expect(res.status).toBe(200);
      const warn = await agent.waitForLog(/^resources larger than the request size limit/);
      expect(warn).toMatchObject({ split: 1, refusedPoints: 1, maxRequestBytes: 1_000_000 });
      for (let i = 0; i < 300 && got.reduce((n, g) => n + g.points, 0) < 40_000; i++) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(got.reduce((n, g) => n + g.points, 0)).toBe(40_000);
      expect(got.length).toBeGreaterThan(3);
      expect(Math.max(...got.map((g) => g.bytes))).toBeLessThanOrEqual(1_000_000);
      const metrics = await (await fetch(`${control}/metrics`)).text();
      expect(metrics).toContain('nrdot_export_oversize_resources_total{outcome="split"} 1');
      expect(metrics).toContain('nrdot_export_oversize_refused_datapoints_total 1');
      agent.child.kill('SIGTERM');
      expect((await agent.exited).code).toBe(0);
    } finally {
      await backend.close();
    }
  }, 60_000);
});
