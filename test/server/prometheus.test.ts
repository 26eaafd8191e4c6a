/**
 * A real Prometheus server (Debian's /usr/bin/prometheus) scrapes the
 * control server every second; the values it stores must be the registry's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/server/http.js';
import { Registry } from '../../src/server/registry.js';
import { SelfMetrics } from '../../src/server/self-metrics.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { closedPort } from '../helpers/loopback-http.js';
import { until } from '../helpers/until.js';
import { FakeAgent } from './fake-agent.js';
import { selfValues } from './fixtures.js';

const PROMETHEUS = '/usr/bin/prometheus';
const missing = fs.existsSync(PROMETHEUS) ? undefined : PROMETHEUS;
if (missing) {
  console.warn(
    `skipping the Prometheus scrape test: ${missing} is not installed (apt-get install prometheus; .ci/run installs it)`,
  );
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promUrl: string, q: string): Promise<Sample[]> {
  try {
    const res = await request(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    if (res.statusCode !== 200) {
      await res.body.dump();
      return [];
    }
    const body = (await res.body.json()) as { data?: { result?: Sample[] } };
    return body.data?.result ?? [];
  } catch {
    return []; // not up yet
  }
}

/** Poll until `pred` holds for the query's result; generous deadline, no timing asserted. */
async function waitFor(promUrl: string, q: string, pred: (r: Sample[]) => boolean, what: string): Promise<Sample[]> {
  let last: Sample[] = [];
  const shown = async () => {
    last = await query(promUrl, q);
    return pred(last);
  };
  await until(`Prometheus to show ${what}`, shown, {
    ms: 45_000,
    everyMs: 250,
    context: () => `last answer to ${q}: ${JSON.stringify(last)}`,
  });
  return last;
}

let prom: ChildProcess | undefined;
let promLog = '';
let server: ControlServer | undefined;
let promDir: string | undefined;

afterAll(async () => {
  if (prom && prom.exitCode === null) {
    const exited = new Promise((r) => prom!.once('exit', r));
    prom.kill('SIGTERM');
    const timer = setTimeout(() => prom?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await server?.close();
  if (promDir) fs.rmSync(promDir, { recursive: true, force: true });
});

describe('scraped by a real Prometheus', () => {
  it.skipIf(missing !== undefined)(
    'stores the values the registry holds, and follows them as they change',
    async () => {
      const registry = new Registry();
      const self = new SelfMetrics(registry);
      self.update(selfValues({ costBytes: 81234, scanVanished: 5 }), 'balanced');
      server = await startControlServer({ listen: '127.0.0.1:0', control: new FakeAgent(), registry });

      const dir = fastTmpDir('nrdot-prom-');
      promDir = dir;
      const promPort = await closedPort();
      const config = path.join(dir, 'prometheus.yml');
      fs.writeFileSync(
        config,
        [
          'global:',
          '  scrape_interval: 1s',
          '  scrape_timeout: 1s',
          '  evaluation_interval: 1s',
          'scrape_configs:',
          '  - job_name: nrdot',
          '    static_configs:',
          `      - targets: ['127.0.0.1:${server.address.port}']`,
          '',
        ].join('\n'),
      );
      prom = spawn(
        PROMETHEUS,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${path.join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      prom.stdout?.on('data', (d: Buffer) => {
        promLog += d.toString();
      });
      prom.stderr?.on('data', (d: Buffer) => {
        promLog += d.toString();
      });
      const promUrl = `http://127.0.0.1:${promPort}`;

      try {
        const cost = await waitFor(promUrl, 'nrdot_cost_bytes', (r) => r.length > 0, 'nrdot_cost_bytes');
        expect(cost[0]!.metric).toMatchObject({ __name__: 'nrdot_cost_bytes', job: 'nrdot' });
        expect(Number(cost[0]!.value[1])).toBe(registry.gauge('nrdot.cost.bytes', '').get());

        const vanished = await waitFor(promUrl, 'nrdot_scan_vanished_total', (r) => r.length > 0, 'the counter');
        expect(Number(vanished[0]!.value[1])).toBe(5);

        const promoted = await waitFor(
          promUrl,
          'nrdot_anomalies_promoted_total{reason="new"}',
          (r) => r.length > 0,
          'a labelled counter',
        );
        expect(Number(promoted[0]!.value[1])).toBe(7);

        // the histogram of the scrapes themselves: Prometheus reads its buckets
        await waitFor(
          promUrl,
          'nrdot_http_request_duration_seconds_bucket{route="/metrics",le="+Inf"}',
          (r) => r.length > 0 && Number(r[0]!.value[1]) >= 1,
          'the request-latency histogram',
        );

        // the next cycle's values reach Prometheus on a later scrape
        self.update(selfValues({ costBytes: 99001, scanVanished: 8 }), 'aggressive');
        await waitFor(promUrl, 'nrdot_cost_bytes', (r) => r[0]?.value[1] === '99001', 'the updated gauge');
        await waitFor(promUrl, 'nrdot_scan_vanished_total', (r) => r[0]?.value[1] === '8', 'the updated counter');
        const profile = await waitFor(
          promUrl,
          'nrdot_profile_active{profile="aggressive"}',
          (r) => r.length > 0,
          'the new profile',
        );
        expect(profile[0]!.value[1]).toBe('1');

        // and the scrape target is healthy (no parse errors)
        const up = await waitFor(promUrl, 'up{job="nrdot"}', (r) => r.length > 0, 'the up series');
        expect(up[0]!.value[1]).toBe('1');
      } catch (e) {
        throw new Error(`${(e as Error).message}\nprometheus output:\n${promLog}`);
      }
    },
    90_000,
  );
});
