import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { promName, renderFamilies } from '../../src/server/exposition.js';
import { Registry } from '../../src/server/registry.js';
import { SelfMetrics } from '../../src/server/self-metrics.js';
import { selfValues } from './fixtures.js';

const PROMTOOL = '/usr/bin/promtool';
const hasPromtool = fs.existsSync(PROMTOOL);
if (!hasPromtool) console.warn(`skipping promtool checks: ${PROMTOOL} is not installed (apt-get install prometheus)`);

function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('metric names', () => {
  it('sanitises dotted names, appends base units and _total for counters', () => {
    expect(promName({ name: 'nrdot.cost.bytes', type: 'gauge', unit: 'By' })).toBe('nrdot_cost_bytes');
    expect(promName({ name: 'nrdot.cost.bytes', type: 'gauge' })).toBe('nrdot_cost_bytes');
    expect(promName({ name: 'nrdot.http.request.duration', type: 'histogram', unit: 's' })).toBe(
      'nrdot_http_request_duration_seconds',
    );
    expect(promName({ name: 'nrdot.scan.vanished', type: 'counter' })).toBe('nrdot_scan_vanished_total');
    expect(promName({ name: 'nrdot.requests_total', type: 'counter' })).toBe('nrdot_requests_total');
    expect(promName({ name: 'process.cpu.time', type: 'counter', unit: 's' })).toBe('process_cpu_time_seconds_total');
    expect(promName({ name: 'process.threads', type: 'gauge', unit: '{threads}' })).toBe('process_threads');
    expect(promName({ name: '9lives-x:y', type: 'gauge' })).toBe('_9lives_x_y');
  });
});

describe('Registry.render', () => {
  it('writes HELP, TYPE and samples with escaped label values and help', () => {
    const r = new Registry();
    const g = r.gauge('nrdot.cost.bytes', 'Encoded bytes\\per "cycle"\nsecond line', { unit: 'By' });
    g.set(81234);
    const c = r.counter('nrdot.export.errors', 'Failed exports.', { labelNames: ['exporter'] });
    c.inc(2, { exporter: 'otlp:http://a "quoted"\\path\nx' });
    c.inc(1, { exporter: 'otlp:http://a "quoted"\\path\nx' });
    const text = r.render();
    expect(text).toBe(
      [
        '# HELP nrdot_cost_bytes Encoded bytes\\\\per "cycle"\\nsecond line',
        '# TYPE nrdot_cost_bytes gauge',
        'nrdot_cost_bytes 81234',
        '# HELP nrdot_export_errors_total Failed exports.',
        '# TYPE nrdot_export_errors_total counter',
        'nrdot_export_errors_total{exporter="otlp:http://a \\"quoted\\"\\\\path\\nx"} 3',
        '',
      ].join('\n'),
    );
  });

  it('shows an untouched unlabelled metric as 0 and a labelled one not at all', () => {
    const r = new Registry();
    r.counter('a.b', 'plain');
    r.gauge('c.d', 'labelled', { labelNames: ['x'] });
    expect(r.render()).toBe(
      '# HELP a_b_total plain\n# TYPE a_b_total counter\na_b_total 0\n# HELP c_d labelled\n# TYPE c_d gauge\n',
    );
  });

  it('refuses labels a metric was not declared with, negative counter steps and clashing names', () => {
    const r = new Registry();
    const g = r.gauge('g', 'h', { labelNames: ['exporter'] });
    expect(() => g.set(1, { exporter: 'a', extra: 'b' })).toThrow(/takes labels \[exporter\]/);
    expect(() => g.set(1)).toThrow(/takes labels/);
    expect(() => r.counter('c', 'h').inc(-1)).toThrow(/only grow/);
    r.gauge('x.y', 'h');
    expect(() => r.gauge('x_y', 'h')).toThrow(/both map to x_y/);
    expect(() => r.counter('x.y', 'h')).toThrow(/already registered as a gauge/);
    expect(r.gauge('x.y', 'h')).toBeDefined(); // same name, same type: the same metric
  });

  it('renders histograms as cumulative buckets with +Inf, _sum and _count', () => {
    const r = new Registry();
    const h = r.histogram('nrdot.http.request.duration', 'Latency.', { unit: 's', bounds: [0.01, 0.1, 1] });
    for (const v of [0.005, 0.01, 0.05, 0.2, 3]) h.record(v, { route: '/metrics' });
    const text = r.render();
    expect(text).toContain('# TYPE nrdot_http_request_duration_seconds histogram');
    expect(text).toContain('nrdot_http_request_duration_seconds_bucket{route="/metrics",le="0.01"} 2\n');
    expect(text).toContain('nrdot_http_request_duration_seconds_bucket{route="/metrics",le="0.1"} 3\n');
    expect(text).toContain('nrdot_http_request_duration_seconds_bucket{route="/metrics",le="1"} 4\n');
    expect(text).toContain('nrdot_http_request_duration_seconds_bucket{route="/metrics",le="+Inf"} 5\n');
    expect(text).toContain('nrdot_http_request_duration_seconds_sum{route="/metrics"} 3.265\n');
    expect(text).toContain('nrdot_http_request_duration_seconds_count{route="/metrics"} 5\n');
  });

  it('reports p50/p90/p99/max from the HdrHistogram in toJSON', () => {
    const r = new Registry();
    const h = r.histogram('lat', 'Latency.', { unit: 's' });
    // 1 ms … 1000 ms, one each
    for (let i = 1; i <= 1000; i++) h.record(i / 1000);
    const s = h.snapshot()!;
    expect(s.count).toBe(1000);
    expect(s.max).toBe(1);
    expect(s.p50).toBeGreaterThanOrEqual(0.495);
    expect(s.p50).toBeLessThanOrEqual(0.505);
    expect(s.p90).toBeGreaterThanOrEqual(0.891);
    expect(s.p90).toBeLessThanOrEqual(0.909);
    expect(s.p99).toBeGreaterThanOrEqual(0.98);
    expect(s.p99).toBeLessThanOrEqual(1);
    const json = r.toJSON().metrics[0]!;
    expect(json).toMatchObject({ name: 'lat_seconds', source: 'lat', type: 'histogram', unit: 's' });
    const sample = json.samples[0] as { buckets: { le: number | string; count: number }[]; p99: number };
    expect(sample.p99).toBe(s.p99);
    expect(sample.buckets.at(-1)).toEqual({ le: '+Inf', count: 1000 });
    expect(sample.buckets.find((b) => b.le === 0.1)).toEqual({ le: 0.1, count: 100 });
  });

  it('adds collector families after registered ones and leaves out a repeated name', () => {
    const r = new Registry();
    r.gauge('nrdot.up', 'h').set(1);
    r.collect(() => [
      {
        name: 'process.memory.usage',
        type: 'gauge',
        unit: 'By',
        help: 'RSS.',
        samples: [{ labels: { 'process.pid': '42' }, value: 1024 }],
      },
      { name: 'nrdot.up', type: 'gauge', help: 'dup', samples: [{ value: 2 }] },
    ]);
    const text = r.render();
    expect(text).toContain('process_memory_usage_bytes{process_pid="42"} 1024\n');
    expect(text).toContain('nrdot_up 1\n');
    expect(text).not.toContain('nrdot_up 2');
    expect(text).toContain('# nrdot: a second family named nrdot_up was left out');
  });

  it('formats special values the way Prometheus parses them', () => {
    const text = renderFamilies([
      {
        name: 'v',
        type: 'gauge',
        help: 'h',
        samples: [
          { labels: { k: 'nan' }, value: Number.NaN },
          { labels: { k: 'inf' }, value: Number.POSITIVE_INFINITY },
          { labels: { k: 'ninf' }, value: Number.NEGATIVE_INFINITY },
          { labels: { k: 'tiny' }, value: 1e-9 },
        ],
      },
    ]);
    expect(text).toContain('v{k="nan"} NaN\n');
    expect(text).toContain('v{k="inf"} +Inf\n');
    expect(text).toContain('v{k="ninf"} -Inf\n');
    expect(text).toContain('v{k="tiny"} 1e-9\n');
  });
});

describe('SelfMetrics', () => {
  it('puts a cycle of self-telemetry on /metrics under the self-telemetry names', () => {
    const r = new Registry();
    const m = new SelfMetrics(r);
    m.update(selfValues(), 'balanced');
    m.update(selfValues({ scanSeconds: 0.02, scanVanished: 6 }), 'aggressive');
    const text = r.render();
    expect(text).toContain('nrdot_cost_bytes 81234\n');
    expect(text).toContain('nrdot_reduction_ratio{baseline="hostmetrics"} 0.91\n');
    expect(text).toContain('nrdot_reduction_ratio{baseline="same_set"} 0.955\n');
    expect(text).toContain('nrdot_datapoints_baseline{baseline="hostmetrics"} 6100\n');
    expect(text).toContain('nrdot_scan_vanished_total 6\n');
    expect(text).toContain('nrdot_anomalies_promoted_total{reason="new"} 7\n');
    expect(text).toContain('nrdot_datapoints_dropped{reason="top_n"} 1200\n');
    expect(text).toContain('nrdot_profile_active{profile="aggressive"} 1\n');
    expect(text).not.toContain('profile="balanced"');
    expect(text).toContain('nrdot_queue_oldest_age_seconds{exporter="otlp:http://collector:4318"} 12.5\n');
    expect(text).toContain('nrdot_export_dropped_total{exporter="otlp:http://collector:4318",reason="rejected"} 1\n');
    expect(text).toContain('nrdot_breaker_state{exporter="otlp:http://collector:4318"} 2\n');
    expect(text).toContain('nrdot_scan_duration_seconds_count 2\n');
    expect(text).toContain('nrdot_scan_duration_seconds_bucket{le="0.025"} 2\n');
    expect(text).toContain('nrdot_scan_duration_seconds_bucket{le="0.01"} 0\n');
  });

  it.skipIf(!hasPromtool)('passes promtool check metrics', () => {
    const r = new Registry();
    const m = new SelfMetrics(r);
    m.update(selfValues(), 'balanced');
    r.histogram('nrdot.http.request.duration', 'Request latency.', { unit: 's' }).record(0.002, {
      route: '/metrics',
      code: '200',
    });
    r.collect(() => [
      {
        name: 'process.memory.usage',
        type: 'gauge',
        unit: 'By',
        help: 'RSS.',
        samples: [{ labels: { 'process.pid': '1' }, value: 5 }],
      },
      {
        name: 'process.cpu.time',
        type: 'counter',
        unit: 's',
        help: 'CPU.',
        samples: [{ labels: { state: 'user' }, value: 1.5 }],
      },
    ]);
    const { status, output } = promtoolCheck(r.render());
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it.skipIf(!hasPromtool)('promtool does fail on broken exposition text (the check is real)', () => {
    const { status } = promtoolCheck('# TYPE x counter\nx{a="1} 1\n');
    expect(status).not.toBe(0);
  });
});
