/**
 * The shipped Collector example and the nrdot config it pairs with agree:
 * the collector's otlphttp exporter points at nrdot's receiver, and the
 * process scraper sends the metrics nrdot models.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { ProcessMetric } from '../../src/telemetry/names.js';
import { REPO } from '../helpers/cli.js';

const dir = path.join(REPO, 'configs/examples');

describe('configs/examples/otelcol-collector.yaml', () => {
  const col = parse(fs.readFileSync(path.join(dir, 'otelcol-collector.yaml'), 'utf8'));
  const { config } = loadConfig(path.join(dir, 'otlp-processor.yaml'), {
    env: { NEW_RELIC_LICENSE_KEY: 'example-license-key' },
  });

  it("sends the metrics pipeline to nrdot's receiver address", () => {
    const exporter = col.exporters['otlphttp/nrdot'];
    expect(new URL(exporter.endpoint).host).toBe(config.receiver.listen);
    expect(col.service.pipelines.metrics.exporters).toContain('otlphttp/nrdot');
    expect(col.service.pipelines.metrics.receivers).toContain('hostmetrics');
    // the collector's own OTLP receiver does not collide with nrdot's
    expect(col.receivers.otlp.protocols.http.endpoint).not.toBe(config.receiver.listen);
  });

  it('enables every process metric nrdot models that the scraper has off by default', () => {
    const enabled = Object.keys(col.receivers.hostmetrics.scrapers.process.metrics);
    for (const m of [
      ProcessMetric.threads,
      ProcessMetric.openFds,
      ProcessMetric.pagingFaults,
      ProcessMetric.contextSwitches,
    ]) {
      expect(enabled).toContain(m);
    }
  });

  it('adds host.name, which keeps hosts apart in nrdot', () => {
    expect(col.processors.resourcedetection.detectors).toContain('system');
    expect(col.service.pipelines.metrics.processors).toContain('resourcedetection');
  });
});
