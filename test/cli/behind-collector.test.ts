/**
 * nrdot behind a Collector, end to end through the built CLI: `run
 * --no-scan --otlp-listen` receives hostmetrics-shaped process data (as a
 * Collector's otlphttp exporter would send it) and the OpenTelemetry JS SDK's
 * own metrics (counter, gauge, histogram, exponential histogram). The process
 * data comes out optimized (critical processes kept, the rest rolled up with
 * exact totals); everything else comes out unchanged.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import type { ExportMetricsServiceRequest, ResourceMetrics } from '../../src/otlp/model.js';
import { encodeRequest } from '../../src/otlp/proto.js';
import { Classifier } from '../../src/stages/classify/classifier.js';
import { ProcessMetric } from '../../src/telemetry/names.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { CLI } from '../helpers/cli.js';
import { attr, isRollup, pointValue, readRequests } from '../helpers/otlp-file.js';
import { stderrOf } from '../helpers/until.js';
import { collectSdkMetrics, HISTOGRAM_VALUES } from '../sources/receiver/sdk.js';

const tmp = fastTmpDir('nrdot-collector-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function post(url: string, req: ExportMetricsServiceRequest) {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
    body: gzipSync(encodeRequest(req)),
  });
  await res.body.arrayBuffer();
  return res.statusCode;
}

describe('run --no-scan --otlp-listen (behind a collector)', () => {
  it('optimizes received process data and passes other metrics through untouched', async () => {
    const out = path.join(tmp, 'out.jsonl');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--no-scan',
        '--profile',
        'aggressive',
        '--otlp-listen',
        '127.0.0.1:0',
        '--listen',
        '127.0.0.1:0',
        '--export',
        `file:${out}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const waitFor = stderrOf(child);
    const source = new HostmetricsSource({ processes: 600, hostName: 'db-host-7', seed: 4, nowMs: 1_790_000_000_000 });
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    try {
      const [, receiverUrl] = (await waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+\/v1\/metrics)"/))!;
      const [, controlUrl] = (await waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)","profileChanges"/))!;

      // two collection rounds of a 600-process host, 10 s apart
      for (const t of [1_790_000_000_000, 1_790_000_010_000]) {
        expect(await post(receiverUrl!, source.request(t))).toBe(200);
      }
      // the SDK's own OTLP exporter, as a real client
      const sdk = new OTLPMetricExporter({ url: receiverUrl });
      const sdkData = await collectSdkMetrics();
      const result = await new Promise<{ code: number; error?: Error }>((resolve) => sdk.export(sdkData, resolve));
      expect(result.code, String(result.error)).toBe(0);
      await sdk.shutdown();

      const metrics = await (await request(`${controlUrl}/metrics`)).body.text();
      expect(metrics).toMatch(/nrdot_datapoints_received_total \d+/);
      expect(metrics).toMatch(/nrdot_receiver_hosts 1/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);

    const reqs = readRequests(out);
    const all = reqs.flatMap((r) => r.resourceMetrics);
    const round = (rm: ResourceMetrics) =>
      rm.scopeMetrics[0]!.metrics[0]!.gauge?.dataPoints[0]?.timeUnixNano ??
      rm.scopeMetrics[0]!.metrics[0]!.sum!.dataPoints[0]!.timeUnixNano;
    const processes = all.filter(
      (rm) => attr(rm, 'process.pid') !== undefined && attr(rm, 'nrdot.tier') !== undefined && !isRollup(rm),
    );
    // metrics nrdot does not model (process.signals_pending) ride inside their process's resource
    expect(all.filter((rm) => attr(rm, 'process.pid') !== undefined && attr(rm, 'nrdot.tier') === undefined)).toEqual(
      [],
    );
    for (const rm of processes)
      expect(rm.scopeMetrics[0]!.metrics.map((m) => m.name)).toContain('process.signals_pending');
    const rollups = all.filter(isRollup);
    const sdkRes = all.filter((rm) => attr(rm, 'service.name') === 'sdk-test');

    // optimized: far fewer process series than received, the rest rolled up
    expect(processes.length).toBeGreaterThan(0);
    expect(processes.length).toBeLessThan(2 * 600);
    // aggressive keeps no noise process unless anomaly scoring promoted it
    const noise = processes.filter((rm) => attr(rm, 'nrdot.tier') === 'noise');
    for (const rm of noise) expect(attr(rm, 'nrdot.anomaly'), JSON.stringify(rm.resource.attributes)).toBeDefined();
    expect(rollups.length).toBeGreaterThan(0);
    for (const rm of [...processes, ...rollups]) expect(attr(rm, 'host.name')).toBe('db-host-7');

    // every critical process of the host is exported in both rounds
    const { config } = loadConfig();
    const classifier = new Classifier(config.classification);
    const critical = source.processes.filter((p) => {
      const c = classifier.classify(p.name, p.exe, p.cmdline, false);
      const parent = source.processes.find((q) => q.pid === p.ppid);
      const demoted = !c.protected && c.tier < 3 && parent !== undefined && parent.name === p.name;
      return (demoted ? c.tier + 1 : c.tier) === 0;
    });
    expect(critical.length).toBeGreaterThan(0);
    for (const p of critical) {
      expect(processes.filter((rm) => attr(rm, 'process.pid') === p.pid).length, `${p.name} ${p.pid}`).toBe(2);
    }

    // host totals stay exact: kept + rolled-up memory = what the collector sent, per round
    const sent = source.request(1_790_000_010_000).resourceMetrics;
    const sentRss = sent.reduce((s, rm) => s + pointValue(rm, ProcessMetric.memoryUsage)!, 0);
    const t2 = round(processes.find((rm) => round(rm)!.startsWith('17900000100'))!);
    const lastKept = processes.filter((rm) => round(rm) === t2 && attr(rm, 'nrdot.sample.rate') === undefined);
    const lastRoll = rollups.filter((rm) => round(rm) === t2);
    const gotRss =
      lastKept.reduce((s, rm) => s + pointValue(rm, ProcessMetric.memoryUsage)!, 0) +
      lastRoll.reduce((s, rm) => s + pointValue(rm, ProcessMetric.memoryUsage)!, 0);
    expect(gotRss).toBe(sentRss);

    // the SDK's metrics passed through unchanged
    const sdkMetrics = sdkRes.flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics));
    const names = sdkMetrics.map((m) => m.name).sort();
    expect(names).toEqual(['sdk.counter', 'sdk.exp', 'sdk.gauge', 'sdk.histogram']);
    const hist = sdkMetrics.find((m) => m.name === 'sdk.histogram') as unknown as {
      histogram: { dataPoints: { count: string; sum: number; bucketCounts: string[] }[] };
    };
    expect(Number(hist.histogram.dataPoints[0]!.count)).toBe(HISTOGRAM_VALUES.length);
    expect(hist.histogram.dataPoints[0]!.sum).toBe(HISTOGRAM_VALUES.reduce((a, b) => a + b, 0));
    const exp = sdkMetrics.find((m) => m.name === 'sdk.exp') as unknown as {
      exponentialHistogram: { dataPoints: { count: string }[] };
    };
    expect(Number(exp.exponentialHistogram.dataPoints[0]!.count)).toBe(3);
  }, 60_000);
});

describe('run --no-scan --cycles N (receiver-only mode shows its work)', () => {
  it('prints a summary line per received batch, fills nrdot.* on /metrics and stops after N batches', async () => {
    const out = path.join(tmp, 'cycles.jsonl');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--no-scan',
        '--cycles',
        '2',
        '--otlp-listen',
        '127.0.0.1:0',
        '--listen',
        '127.0.0.1:0',
        '--export',
        `file:${out}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const waitFor = stderrOf(child);
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const source = new HostmetricsSource({ processes: 300, hostName: 'web-3', seed: 9, nowMs: 1_790_000_000_000 });
    try {
      const [, receiverUrl] = (await waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+\/v1\/metrics)"/))!;
      const [, controlUrl] = (await waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+)","profileChanges"/))!;
      expect(await post(receiverUrl!, source.request(1_790_000_000_000))).toBe(200);
      // the batch is processed after the answer: wait for its line
      for (let i = 0; i < 400 && !stdout.includes('\n'); i++) await new Promise((r) => setTimeout(r, 25));
      const metrics = await (await request(`${controlUrl}/metrics`)).body.text();
      // the same self-telemetry as a scan cycle, from the received batch
      const seen = /^nrdot_processes_seen(?:_total)? (\d+)/m.exec(metrics);
      expect(seen, metrics).not.toBeNull();
      expect(Number(seen![1])).toBe(300);
      const ratio = /^nrdot_reduction_ratio\{baseline="hostmetrics"\} ([\d.e-]+)/m.exec(metrics);
      expect(ratio, metrics).not.toBeNull();
      // the same figure as the batch's summary line
      const shown = /reduction (\d+\.\d)%/.exec(stdout);
      expect(shown, stdout).not.toBeNull();
      expect(Number(ratio![1]) * 100).toBeCloseTo(Number(shown![1]), 0);
      expect(await post(receiverUrl!, source.request(1_790_000_010_000))).toBe(200);
    } catch (e) {
      child.kill('SIGTERM');
      throw e;
    }
    // no signal: the second batch ends the run
    expect(await exited).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const [k, line] of lines.entries()) {
      expect(line).toMatch(new RegExp(`^host web-3: cycle ${k + 1} \\[balanced\\] processes 300, exported \\d+`));
      expect(line).toMatch(/reduction \d+\.\d%/);
    }
    expect(readRequests(out).length).toBeGreaterThan(0);
  });

  it('refuses --once without a receiver instead of waiting forever', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'run', '--no-scan', '--once', '--otlp-listen', 'off', '--listen', 'off'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(stderr).toContain('--no-scan with --once needs an OTLP receiver (--otlp-listen)');
  });
});
