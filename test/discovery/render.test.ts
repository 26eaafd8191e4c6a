/**
 * The rendered Collector config: on a fixture host running every service of
 * the embedded library, each receiver uses only the keys its README
 * documents (collector-keys.ts), every credential is an ${env:VAR}
 * reference, and the pipelines send process data to nrdot and service data
 * to the backend exporter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderCollector } from '../../src/discovery/collector.js';
import { diffConfigs, formatChanges } from '../../src/discovery/diff.js';
import { discover } from '../../src/discovery/discover.js';
import { Problems } from '../../src/discovery/host.js';
import { loadTemplates } from '../../src/discovery/templates/load.js';
import type { ServiceTemplate } from '../../src/discovery/templates/types.js';
import type { DiscoveryResult } from '../../src/discovery/types.js';
import {
  EXPORTER_KEYS,
  PROCESSOR_KEYS,
  RECEIVER_KEYS,
  RECEIVER_REQUIRED,
  typeOf,
  unknownKeys,
} from './collector-keys.js';
import type { HostFixture } from './fixture.js';
import { fullHost } from './full-host.js';

let fx: HostFixture;
let templates: ServiceTemplate[];
let result: DiscoveryResult;
let config: Record<string, Record<string, unknown>>;

beforeAll(async () => {
  fx = fullHost();
  const problems = new Problems();
  templates = loadTemplates({}, problems);
  expect(problems.list).toEqual([]);
  result = await discover({ root: fx.root, templates, problems });
  config = renderCollector(result, templates).config as typeof config;
});
afterAll(() => fx.remove());

describe('rendered Collector config', () => {
  it('renders one receiver per running service of the library (all nine templates)', () => {
    const ids = Object.keys(config.receivers!).filter((k) => !k.startsWith('filelog/') && k !== 'hostmetrics');
    expect(ids.sort()).toEqual([
      'apache/8081',
      'haproxy/admin.sock',
      'memcached/11211',
      'mongodb/27017',
      'mysql/3306',
      'nginx/80',
      'postgresql/5432',
      'rabbitmq/15672',
      'redis/6379',
    ]);
    expect(new Set(templates.map((t) => t.service)).size).toBe(9);
  });

  it('uses only documented keys for every receiver, exporter and processor, and sets the required ones', () => {
    const bad: string[] = [];
    for (const [id, body] of Object.entries(config.receivers!)) {
      const table = RECEIVER_KEYS[typeOf(id)];
      if (!table) {
        bad.push(`${id}: no documented key table`);
        continue;
      }
      bad.push(...unknownKeys(body, table).map((k) => `receivers.${id}.${k}`));
      for (const k of RECEIVER_REQUIRED[typeOf(id)] ?? []) {
        if ((body as Record<string, unknown>)[k] === undefined) bad.push(`receivers.${id}: missing ${k}`);
      }
    }
    for (const [id, body] of Object.entries(config.exporters!)) {
      bad.push(...unknownKeys(body, EXPORTER_KEYS[typeOf(id)]!).map((k) => `exporters.${id}.${k}`));
    }
    for (const [id, body] of Object.entries(config.processors!)) {
      bad.push(...unknownKeys(body, PROCESSOR_KEYS[typeOf(id)]!).map((k) => `processors.${id}.${k}`));
    }
    expect(bad).toEqual([]);
  });

  it('writes each endpoint in the form its receiver expects', () => {
    const r = config.receivers as Record<string, Record<string, unknown>>;
    expect(r['redis/6379']).toMatchObject({ endpoint: '127.0.0.1:6379', transport: 'tcp' });
    expect(r['nginx/80']).toMatchObject({ endpoint: 'http://127.0.0.1:80/status' });
    expect(r['apache/8081']).toMatchObject({ endpoint: 'http://127.0.0.1:8081/server-status?auto' });
    expect(r['mysql/3306']).toMatchObject({ endpoint: '127.0.0.1:3306', transport: 'tcp' });
    expect(r['postgresql/5432']).toMatchObject({ endpoint: '127.0.0.1:5432', transport: 'tcp' });
    expect(r['mongodb/27017']).toMatchObject({ hosts: [{ endpoint: '127.0.0.1:27017' }] });
    expect(r['rabbitmq/15672']).toMatchObject({ endpoint: 'http://127.0.0.1:15672' });
    expect(r['haproxy/admin.sock']).toMatchObject({ endpoint: 'file:///run/haproxy/admin.sock' });
    expect(r['memcached/11211']).toMatchObject({ endpoint: '127.0.0.1:11211' });
    expect(r['filelog/nginx_80']).toMatchObject({ include: ['/var/log/nginx/access.log'], start_at: 'end' });
    expect(r['filelog/postgresql_5432']).toMatchObject({ include: ['/var/log/postgresql/postgresql-*.log'] });
  });

  it('writes credentials only as ${env:VAR} references', () => {
    const secrets: string[] = [];
    const walk = (v: unknown, p: string) => {
      if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, `${p}.${k}`);
      else if (/(password|api-key|token|secret)$/i.test(p)) secrets.push(`${p}=${String(v)}`);
    };
    walk(config, '');
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    for (const s of secrets) expect(s).toMatch(/=\$\{env:[A-Z_]+\}$/);
  });

  it("sends process data to nrdot's receiver and service metrics and logs to the backend", () => {
    const pipelines = (config.service as { pipelines: Record<string, { receivers: string[]; exporters: string[] }> })
      .pipelines;
    expect(pipelines['metrics/processes']).toMatchObject({ receivers: ['hostmetrics'], exporters: ['otlphttp/nrdot'] });
    expect(pipelines['metrics/services']!.exporters).toEqual(['otlphttp/backend']);
    expect(pipelines['logs/services']!.exporters).toEqual(['otlphttp/backend']);
    expect(pipelines['metrics/services']!.receivers).toHaveLength(9);
    // every component a pipeline names is defined
    for (const p of Object.values(pipelines)) {
      for (const r of p.receivers) expect(config.receivers).toHaveProperty([r]);
      for (const e of p.exporters) expect(config.exporters).toHaveProperty([e]);
    }
    expect(pipelines['logs/services']!.receivers.every((r) => r.startsWith('filelog/'))).toBe(true);
    expect((config.exporters as Record<string, { endpoint: string }>)['otlphttp/nrdot']!.endpoint).toBe(
      'http://127.0.0.1:4319',
    );
  });

  it('keeps the evidence as comments, and the YAML parses back to the same config', () => {
    const out = renderCollector(result, templates);
    expect(parse(out.yaml)).toEqual(out.config);
    expect(out.yaml).toMatch(/# Redis: confidence \d\.\d\d/);
    expect(out.yaml).toMatch(/#\s+process redis-server \(pid \d+\) matches by/);
  });
});

describe('--diff', () => {
  it('lists receivers added and removed and values changed, ignoring order and comments', () => {
    const before = structuredClone(config) as Record<string, Record<string, unknown>>;
    delete before.receivers!['redis/6379'];
    (before.receivers!['nginx/80'] as Record<string, unknown>).endpoint = 'http://127.0.0.1:80/old_status';
    before.receivers!['apache/80'] = { endpoint: 'http://127.0.0.1:80/server-status?auto' };
    const text = formatChanges(diffConfigs(before, config));
    expect(text).toContain(
      '+ receivers.redis/6379: { endpoint: 127.0.0.1:6379, transport: tcp, collection_interval: 10s, password: "${env:REDIS_PASSWORD}" }',
    );
    expect(text).toContain('- receivers.apache/80: { endpoint: http://127.0.0.1:80/server-status?auto }');
    expect(text).toContain(
      '~ receivers.nginx/80.endpoint: http://127.0.0.1:80/old_status -> http://127.0.0.1:80/status',
    );
    expect(formatChanges(diffConfigs(config, structuredClone(config)))).toBe('no changes\n');
  });
});
