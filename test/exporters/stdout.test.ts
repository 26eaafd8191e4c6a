import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StdoutExporter } from '../../src/exporters/stdout.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/model.js';
import { dbl, int, str } from '../../src/otlp/model.js';
import { processResource, rollupResource, T } from './fixture.js';

function collect(stream: PassThrough): () => string {
  let text = '';
  stream.on('data', (c: Buffer) => {
    text += c.toString('utf8');
  });
  return () => text;
}

const selfTelemetry = {
  resource: { attributes: [str('service.name', 'nrdot'), str('host.name', 'h1')] },
  scopeMetrics: [
    {
      scope: { name: 'nrdot' },
      metrics: [
        { name: 'nrdot.cycle.duration', gauge: { dataPoints: [{ timeUnixNano: T, asDouble: 0.01 }] } },
        { name: 'nrdot.series.active', gauge: { dataPoints: [{ timeUnixNano: T, asDouble: 12 }] } },
      ],
    },
  ],
};

describe('StdoutExporter', () => {
  it('writes a header and one concise line per resource', async () => {
    const out = new PassThrough();
    const text = collect(out);
    const e = new StdoutExporter({ stream: out });
    await e.start();
    const req: ExportMetricsServiceRequest = {
      resourceMetrics: [
        processResource(1234, 'postgres', 'critical', 0.125, 512 * 1024 * 1024),
        processResource(99, 'java', 'important', 0.0004, 3 * 1024 * 1024 * 1024),
        rollupResource('noise', 42, 0.031, 120 * 1024 * 1024),
        selfTelemetry,
      ],
    };
    const res = await e.export(req);
    await e.shutdown();
    const expected = [
      '# 2024-11-22T18:26:40.123Z 4 resources, 13 data points',
      'pid 1234 postgres [critical] cpu 12.5% rss 512.0 MiB',
      'pid 99 java [important] cpu 0.0% rss 3.0 GiB',
      '_other_ [noise] ×42 cpu 3.1% rss 120.0 MiB',
      'resource nrdot: 2 metrics, 2 data points',
      '',
    ].join('\n');
    expect(text()).toBe(expected);
    expect(res).toEqual({ ok: true, bytes: Buffer.byteLength(expected) });
  });

  it('copes with missing metrics, numeric tiers and an integer roll-up count', async () => {
    const out = new PassThrough();
    const text = collect(out);
    const e = new StdoutExporter({ stream: out });
    await e.start();
    await e.export({
      resourceMetrics: [
        { resource: { attributes: [int('process.pid', 7), int('nrdot.tier', 0)] }, scopeMetrics: [] },
        {
          resource: { attributes: [str('process.executable.name', '_other_'), int('nrdot.rollup', 5), dbl('x', 1)] },
          scopeMetrics: [],
        },
      ],
    });
    await e.export({ resourceMetrics: [] });
    expect(text()).toBe(
      ['# 2 resources, 0 data points', 'pid 7 ? [critical]', '_other_ ×5', '# 0 resources, 0 data points', ''].join(
        '\n',
      ),
    );
    await e.shutdown();
  });

  it('a broken stream gives ok:false, not an exception', async () => {
    const broken = new Writable({
      write(_c, _e, cb) {
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const e = new StdoutExporter({ stream: broken });
    await e.start();
    const res = await e.export({ resourceMetrics: [] });
    expect(res.ok).toBe(false);
    expect(res.error).toMatch(/EPIPE/);
    const again = await e.export({ resourceMetrics: [] });
    expect(again.ok).toBe(false);
    await e.shutdown();
    await e.shutdown();
    await expect(e.export({ resourceMetrics: [] })).rejects.toThrow(/stdout: export\(\) called after shutdown\(\)/);
  });
});
