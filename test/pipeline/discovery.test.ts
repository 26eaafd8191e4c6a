/**
 * Discovered services through the engine, end to end on a synthetic host
 * with a fixed discovery result (what the agent's Rediscoverer would hold):
 * the services' processes are exported at least important, each running
 * service above min_confidence is one OTLP resource on the critical path,
 * and its points and bytes are in the report, the self-telemetry and the
 * cost. The same host without discovery is the baseline, in the same test.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import type { LaneBatch } from '../../src/core/lanes.js';
import { silentLogger } from '../../src/core/log.js';
import { serviceResources } from '../../src/discovery/resources.js';
import type { DiscoveredService, DiscoveryResult } from '../../src/discovery/types.js';
import { servicePids } from '../../src/discovery/views.js';
import { EncodedRequest } from '../../src/exporters/exporter.js';
import { generateHost, type SynthTruth } from '../../src/harness/synth/index.js';
import type { ExportMetricsServiceRequest, ResourceMetrics } from '../../src/otlp/model.js';
import { decodeRequest } from '../../src/otlp/proto.js';
import { type CycleReport, Engine, type ExportSink } from '../../src/pipeline/engine.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import { Classifier } from '../../src/stages/classify/classifier.js';
import { TIERS } from '../../src/telemetry/names.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { attr, pointValue } from '../helpers/otlp-file.js';

let dir: string;
let truth: SynthTruth;
beforeAll(async () => {
  dir = fastTmpDir('nrdot-disc-engine-');
  truth = await generateHost({ out: dir, processes: 400, seed: 7 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Records what the engine exports: the whole request and its per-path batches. */
class RecordingSink implements ExportSink {
  requests: ExportMetricsServiceRequest[] = [];
  batches: { lane: string; request: ExportMetricsServiceRequest; points: number }[] = [];
  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}
  async export(payload: ExportMetricsServiceRequest | EncodedRequest, _e?: Uint8Array, b?: () => readonly LaneBatch[]) {
    this.requests.push(payload instanceof EncodedRequest ? payload.request : payload);
    for (const x of b?.() ?? []) {
      this.batches.push({ lane: x.lane, request: decodeRequest(x.protobuf), points: x.points });
    }
    return [{ exporter: 'recording', ok: true, bytes: 0 }];
  }
}

function svc(p: Partial<DiscoveredService> & Pick<DiscoveredService, 'service' | 'id'>): DiscoveredService {
  return {
    displayName: p.service,
    state: 'running',
    confidence: 0.78,
    evidence: [],
    pids: [],
    endpoints: [],
    logPaths: [],
    values: {},
    notes: [],
    template: `${p.service}.yaml`,
    ...p,
  };
}

const pidOf = (pred: (p: SynthTruth['processes'][number]) => boolean): number => {
  const p = truth.processes.find(pred);
  if (!p) throw new Error('the synthetic host lacks a process the test needs');
  return p.pid;
};

async function oneCycle(discovery?: DiscoveryResult): Promise<{ report: CycleReport; sink: RecordingSink }> {
  const { config } = loadConfig();
  // every pool worker at full resolution, so the tier of each is visible (the pool cap is tested elsewhere)
  config.profiles.balanced!.pools.top_k = 1000;
  const sink = new RecordingSink();
  const engine = new Engine({
    config,
    profile: 'balanced',
    scanner: new ProcfsReader({ procRoot: dir }),
    sink,
    intervalMs: 10_000,
    logger: silentLogger,
    now: () => 1_790_000_000_000,
    ...(discovery
      ? {
          importantPids: () => servicePids(discovery, 0.5),
          extraResources: (at: { nowMs: number; hostName: string }) => serviceResources(discovery, 0.5, at),
        }
      : {}),
  });
  await engine.start();
  try {
    return { report: await engine.cycle(), sink };
  } finally {
    await engine.shutdown();
  }
}

const isService = (rm: ResourceMetrics) => attr(rm, 'service.instance.id') !== undefined;
/** `nrdot.tier` of the pid's exported resource; undefined when it was not exported at full resolution */
const tierOf = (req: ExportMetricsServiceRequest, pid: number) => {
  const rm = req.resourceMetrics.find((x) => attr(x, 'process.pid') === pid && !isService(x));
  return rm ? attr(rm, 'nrdot.tier') : undefined;
};

describe('discovered services in the engine', () => {
  it('exports their processes at least important and one resource per service, counted in the cost', async () => {
    const redis = pidOf((p) => p.comm === 'redis-server');
    // by the rules: a standard process and a noise one (user processes)
    const { config } = loadConfig();
    const rules = new Classifier(config.classification);
    const tierByRule = (p: SynthTruth['processes'][number]) =>
      TIERS[rules.classify(p.comm, p.exe, p.cmdline, p.kernel).tier];
    const ruby = pidOf((p) => !p.kernel && p.ppid === 1 && tierByRule(p) === 'standard');
    const sleep = pidOf((p) => !p.kernel && tierByRule(p) === 'noise');
    const gunicornWorker = pidOf(
      (p) => p.comm === 'gunicorn' && truth.processes.some((q) => q.pid === p.ppid && q.comm === 'gunicorn'),
    );
    const bash = pidOf((p) => p.comm === 'bash');
    const result: DiscoveryResult = {
      root: '/',
      at: 1_790_000_000_000,
      services: [
        svc({
          service: 'redis',
          id: 'redis/6379',
          pid: redis,
          pids: [redis],
          primary: { transport: 'tcp', address: '127.0.0.1', port: 6379, source: 'listener', pid: redis },
          version: { value: '7.0.15', source: 'package redis-server' },
        }),
        svc({ service: 'myapp', id: 'myapp/7000', confidence: 0.9, pid: ruby, pids: [ruby, sleep, gunicornWorker] }),
        // below min_confidence: neither important nor exported
        svc({ service: 'shellish', id: 'shellish/pid1', confidence: 0.4, pid: bash, pids: [bash] }),
        // installed only: nothing runs
        svc({ service: 'mysql', id: 'mysql/installed', state: 'installed', confidence: 0.3 }),
      ],
      unmatchedListeners: [],
      problems: [],
      socketSource: 'procfs',
      stats: {
        processes: 0,
        fdWalked: 0,
        fdDenied: 0,
        listeners: 0,
        ownersOfAll: false,
        packages: 0,
        units: 0,
        timings: {},
      },
    };

    const without = await oneCycle();
    const withD = await oneCycle(result);
    const [a] = without.sink.requests;
    const [b] = withD.sink.requests;

    // classification: the services' processes, at least important, exported at full resolution (balanced)
    // (without discovery each is rolled up, or exported by top-N with its own tier)
    expect([undefined, 'standard']).toContain(tierOf(a!, ruby));
    expect(tierOf(b!, ruby)).toBe('important');
    expect([undefined, 'noise']).toContain(tierOf(a!, sleep));
    expect(tierOf(b!, sleep)).toBe('important');
    expect([undefined, 'standard']).toContain(tierOf(a!, gunicornWorker)); // an important pool's worker: demoted
    expect(tierOf(b!, gunicornWorker)).toBe('important'); // not below important
    expect(tierOf(b!, redis)).toBe('critical'); // already above important
    expect(tierOf(b!, bash)).toBe(tierOf(a!, bash)); // below min_confidence: untouched
    // (the standard rows they no longer take from the standard top-N leave room for others)
    expect(withD.report.exported).toBeGreaterThanOrEqual(without.report.exported);

    // one resource per running service at or above min_confidence, with the semantic conventions
    expect(a!.resourceMetrics.filter(isService)).toEqual([]);
    const services = b!.resourceMetrics.filter(isService);
    expect(
      services.map((rm) =>
        Object.fromEntries(
          rm.resource.attributes.map((kv) => [kv.key, attr(rm, kv.key)]).filter(([k]) => k !== 'host.name'),
        ),
      ),
    ).toEqual([
      {
        'service.name': 'redis',
        'service.instance.id': 'redis/6379',
        'service.version': '7.0.15',
        'server.address': '127.0.0.1',
        'server.port': 6379,
        'process.pid': redis,
      },
      { 'service.name': 'myapp', 'service.instance.id': 'myapp/7000', 'process.pid': ruby },
    ]);
    for (const rm of services) expect(attr(rm, 'host.name')).toBe(truth.host.hostname);
    expect(pointValue(services[0]!, 'nrdot.discovery.service.up')).toBe(1);
    expect(pointValue(services[0]!, 'nrdot.discovery.confidence')).toBe(0.78);
    expect(pointValue(services[1]!, 'nrdot.discovery.confidence')).toBe(0.9);

    // counted: 2 resources, 4 points, their bytes; in the totals, the critical path and the self-telemetry
    const r = withD.report;
    expect(without.report.extra).toEqual({ resources: 0, points: 0, bytes: 0 });
    expect(r.extra.resources).toBe(2);
    expect(r.extra.points).toBe(4);
    expect(r.extra.bytes).toBeGreaterThan(100);
    const selfPoints = without.report.datapoints.exported - without.report.datapoints.processes;
    expect(r.datapoints.exported).toBe(r.datapoints.processes + r.extra.points + selfPoints);
    const self = b!.resourceMetrics.find((rm) => pointValue(rm, 'nrdot.cost.bytes') !== undefined)!;
    expect(pointValue(self, 'nrdot.datapoints.exported')).toBe(r.datapoints.exported);
    // the self-telemetry's cost is the whole request, extra resources included
    expect(pointValue(self, 'nrdot.cost.bytes')).toBe(r.bytes.exported);
    expect(r.paths.critical.points).toBeGreaterThanOrEqual(r.extra.points + selfPoints);
    // the service resources travel on the critical path
    const lanesOf = (sink: RecordingSink) =>
      sink.batches.flatMap((x) => x.request.resourceMetrics.filter(isService).map(() => x.lane));
    expect(lanesOf(withD.sink)).toEqual(['critical', 'critical']);
    const pathPoints = (lane: string) =>
      withD.sink.batches.filter((x) => x.lane === lane).reduce((s, x) => s + x.points, 0);
    expect(pathPoints('critical')).toBe(r.paths.critical.points);
  });

  it('an empty discovery changes nothing', async () => {
    const empty = {
      services: [],
      root: '/',
      at: 0,
      unmatchedListeners: [],
      problems: [],
      socketSource: 'procfs',
      stats: {
        processes: 0,
        fdWalked: 0,
        fdDenied: 0,
        listeners: 0,
        ownersOfAll: false,
        packages: 0,
        units: 0,
        timings: {},
      },
    } satisfies DiscoveryResult;
    const a = await oneCycle();
    const b = await oneCycle(empty);
    const strip = (x: CycleReport) => ({ ...x, cycleMs: 0, scan: { ...x.scan, ms: 0 }, exports: [] });
    expect(strip(b.report)).toEqual(strip(a.report));
    expect(path.isAbsolute(dir)).toBe(true);
  });
});
