/**
 * deploy/collector: the gateway Collector config that receives from many
 * nrdot agents and forwards to New Relic, and the agent config that points
 * at it. No Collector binary is available here (it is not a Debian package),
 * so the config is checked against the keys the Collector documents for each
 * component (collector-keys.ts), its internal references, and nrdot's side.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { parseExportSpec } from '../../src/exporters/spec-parse.js';
import { REPO } from '../helpers/cli.js';
import { DOCUMENTED, GO_DURATION, undocumented } from './collector-keys.js';

const DIR = path.join(REPO, 'deploy', 'collector');
type Section = 'receivers' | 'processors' | 'exporters' | 'extensions';
interface CollectorConfig {
  receivers: Record<string, unknown>;
  processors: Record<string, unknown>;
  exporters: Record<string, Record<string, unknown>>;
  extensions?: Record<string, Record<string, unknown>>;
  service: {
    extensions?: string[];
    pipelines: Record<string, { receivers: string[]; processors?: string[]; exporters: string[] }>;
  };
}
const gw = parse(fs.readFileSync(path.join(DIR, 'otelcol-gateway.yaml'), 'utf8')) as CollectorConfig;
const typeOf = (id: string) => id.split('/')[0]!;

describe('deploy/collector/otelcol-gateway.yaml', () => {
  it('uses only keys the Collector documents for each component', () => {
    const problems: string[] = [];
    for (const section of ['receivers', 'processors', 'exporters', 'extensions'] as Section[]) {
      for (const [id, cfg] of Object.entries(gw[section] ?? {})) {
        const schema = DOCUMENTED[section][typeOf(id)];
        if (!schema) problems.push(`${section}.${id}: component type not in collector-keys.ts`);
        else problems.push(...undocumented(cfg, schema, `${section}.${id}`));
      }
    }
    expect(problems).toEqual([]);
  });

  it('the key check is real: a misspelt key is caught', () => {
    const bad = { ...gw.exporters['otlphttp/newrelic'], retry_on_failure: { enabled: true, max_elapsed: '1m' } };
    expect(undocumented(bad, DOCUMENTED.exporters.otlphttp!, 'x')).toEqual(['x.retry_on_failure.max_elapsed']);
  });

  it('every pipeline component is defined, every defined one is used; the memory limiter comes first', () => {
    const p = gw.service.pipelines.metrics!;
    for (const [section, ids] of [
      ['receivers', p.receivers],
      ['processors', p.processors ?? []],
      ['exporters', p.exporters],
      ['extensions', gw.service.extensions ?? []],
    ] as [Section, string[]][]) {
      expect(Object.keys(gw[section] ?? {}).sort(), section).toEqual([...ids].sort());
    }
    expect(p.processors?.[0]).toBe('memory_limiter');
    expect(Object.keys(gw.service.pipelines)).toEqual(['metrics']);
  });

  it('forwards to New Relic over OTLP/HTTP with the license key from the environment, queued on disk', () => {
    const nr = gw.exporters['otlphttp/newrelic']!;
    expect(nr.endpoint).toBe('https://otlp.nr-data.net');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the Collector's own ${env:VAR} syntax
    expect(nr.headers).toEqual({ 'api-key': '${env:NEW_RELIC_LICENSE_KEY}' });
    expect(nr.compression).toBe('gzip');
    const queue = nr.sending_queue as { storage: string };
    expect(gw.extensions?.[queue.storage]).toBeDefined();
    expect(typeOf(queue.storage)).toBe('file_storage');
  });

  it('has values of the right shape: durations, percentages, batch sizes', () => {
    const ml = gw.processors.memory_limiter as Record<string, number | string>;
    expect(String(ml.check_interval)).toMatch(GO_DURATION);
    expect(ml.spike_limit_percentage).toBeLessThan(ml.limit_percentage as number);
    expect(ml.limit_percentage).toBeLessThanOrEqual(100);
    const b = gw.processors.batch as Record<string, number | string>;
    expect(String(b.timeout)).toMatch(GO_DURATION);
    expect(b.send_batch_max_size).toBeGreaterThanOrEqual(b.send_batch_size as number);
    const r = gw.exporters['otlphttp/newrelic']!.retry_on_failure as Record<string, string>;
    for (const k of ['initial_interval', 'max_interval', 'max_elapsed_time']) expect(r[k], k).toMatch(GO_DURATION);
  });

  it("is where nrdot-agent.yaml sends: the receiver's port and metrics path, a body limit above nrdot's requests", () => {
    const { config } = loadConfig(path.join(DIR, 'nrdot-agent.yaml'), {
      env: { ...process.env, NEW_RELIC_LICENSE_KEY: 'test-key' },
    });
    const specs = config.export.map(parseExportSpec);
    expect(specs).toHaveLength(1);
    const url = new URL((specs[0] as { url: string }).url);
    const http = (gw.receivers.otlp as { protocols: { http: { endpoint: string; max_request_body_size: number } } })
      .protocols.http;
    expect(url.port).toBe(http.endpoint.split(':').at(-1));
    expect(url.pathname).toBe('/v1/metrics'); // the receiver's default metrics_url_path
    expect(http.max_request_body_size).toBeGreaterThan(config.export_options.otlp.max_request_bytes);
    expect(config.queue.dir).not.toBe('');
  });
});
