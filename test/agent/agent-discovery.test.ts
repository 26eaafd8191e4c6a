/**
 * Discovery through the real Agent on a synthetic host root (the generator's
 * tree with redis and nginx masters listening in its /proc/net): the first
 * discovery runs beside the cycles without holding them up; once it has run,
 * each cycle exports the services as OTLP resources, /api/status and
 * `nrdot status` list them, /metrics counts them. A discovery that fails
 * leaves the cycles as they are, and is counted.
 */
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import type { AgentDiscoveryStatus } from '../../src/agent/discovery.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/core/log.js';
import { exportedServices } from '../../src/discovery/resources.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';
import { attr, pointValue, readRequests } from '../helpers/otlp-file.js';
import { type SynthService, synthServiceHost } from '../helpers/synth-services.js';

let root: string;
let procRoot: string;
let services: SynthService[];
let agent: Agent | undefined;
let n = 0;

beforeAll(async () => {
  root = fastTmpDir('nrdot-agent-disc-');
  ({ procRoot, services } = await synthServiceHost(root, { processes: 400, seed: 7 }));
});
afterEach(async () => {
  await agent?.shutdown();
  agent = undefined;
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

function makeAgent(o: { discoveryRun?: ConstructorParameters<typeof Agent>[0]['discoveryRun']; config?: Config } = {}) {
  const { config } = o.config ? { config: o.config } : loadConfig();
  config.discovery.root = root; // auto: on, the agent scans <root>/proc
  const out = path.join(root, `out-${++n}.jsonl`);
  agent = new Agent({
    config,
    profile: 'balanced',
    logger: silentLogger,
    procRoot,
    backend: 'ts',
    intervalMs: 10_000,
    exportSpecs: [`file:${out}`],
    queueDir: '',
    listen: '127.0.0.1:0',
    otlpListen: 'off',
    workers: 0,
    discoveryRun: o.discoveryRun,
  });
  return { agent, out };
}

async function getJson<T>(url: string): Promise<T> {
  const r = await request(url);
  expect(r.statusCode).toBe(200);
  return (await r.body.json()) as T;
}
async function getText(url: string): Promise<string> {
  const r = await request(url);
  expect(r.statusCode).toBe(200);
  return r.body.text();
}

const config = (a: Agent) => a.config;
const isService = (rm: Parameters<typeof attr>[0]) => attr(rm, 'service.instance.id') !== undefined;

describe('discovery in the agent', () => {
  it('exports the services, lists them in /api/status and nrdot status, counts them on /metrics', async () => {
    // rules that know neither redis nor nginx: only discovery makes their processes important
    const { config: cfg } = loadConfig();
    const critical = cfg.classification.rules.critical;
    critical.names = critical.names.filter((r) => !/redis|nginx/.test(r));
    // every pool worker at full resolution, so the tier of each is visible (the pool cap is tested elsewhere)
    cfg.profiles.balanced!.pools.top_k = 1000;
    expect(critical.names.length).toBeGreaterThan(0);
    const { agent: a, out } = makeAgent({ config: cfg });
    expect(a.discovery).toBeDefined();
    const first = once(a.discovery!.rediscoverer, 'result');
    await a.start();
    await first;
    const report = await a.cycle();
    // redis and nginx listen; the tree's other look-alikes run in their units' cgroups (0.52)
    const expected = exportedServices(a.discovery!.latest()!, config(a).discovery.min_confidence);
    expect(expected.length).toBeGreaterThanOrEqual(2);
    expect(report.extra.resources).toBe(expected.length);
    expect(report.extra.points).toBe(2 * expected.length);

    const [req] = readRequests(out);
    const found = req!.resourceMetrics.filter(isService);
    expect(found.map((rm) => [attr(rm, 'service.name'), attr(rm, 'server.port'), attr(rm, 'process.pid')])).toEqual(
      expect.arrayContaining([
        ['redis', 6379, services[0]!.pid],
        ['nginx', 8080, services[1]!.pid],
      ]),
    );
    for (const rm of found) expect(pointValue(rm, 'nrdot.discovery.service.up')).toBe(1);
    // their processes (nginx's workers too) are important, exported at full resolution from the first cycle
    const tierOf = (pid: number) => {
      const rm = req!.resourceMetrics.find((x) => !isService(x) && attr(x, 'process.pid') === pid);
      return rm && attr(rm, 'nrdot.tier');
    };
    const [redis, nginx] = services;
    expect(nginx!.pids.length).toBeGreaterThan(1);
    for (const pid of [...redis!.pids, ...nginx!.pids]) expect(tierOf(pid), `pid ${pid}`).toBe('important');

    const status = await getJson<{ discovery: AgentDiscoveryStatus }>(`${a.url}/api/status`);
    expect(status.discovery).toMatchObject({ enabled: true, runs: 1, failedRuns: 0 });
    if (!status.discovery.enabled) throw new Error('off');
    expect(status.discovery.services).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: 'redis/6379',
          service: 'redis',
          endpoint: '127.0.0.1:6379',
          pid: services[0]!.pid,
        }),
        expect.objectContaining({
          id: 'nginx/8080',
          service: 'nginx',
          endpoint: '127.0.0.1:8080',
          pid: services[1]!.pid,
        }),
      ]),
    );

    const human = await nrdot(['status', '--url', a.url!]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^discovery: \d+ services, 1 runs \(0 failed\), last at /m);
    expect(human.stdout).toMatch(/^\s+SERVICE\s+VERSION\s+ENDPOINT\s+CONFIDENCE\s+STATE\s+PID\s+ID$/m);
    expect(human.stdout).toMatch(
      new RegExp(
        `^\\s+redis\\s+-\\s+127\\.0\\.0\\.1:6379\\s+0\\.\\d\\d\\s+running\\s+${services[0]!.pid}\\s+redis/6379$`,
        'm',
      ),
    );

    const metrics = await getText(`${a.url}/metrics`);
    expect(metrics).toMatch(/^nrdot_discovery_services\{state="running"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^nrdot_discovery_runs_total\{result="ok"\} 1$/m);
    expect(metrics).toMatch(/^nrdot_discovery_runs_total\{result="failed"\} 0$/m);
    expect(metrics).toMatch(/^nrdot_discovery_changes_total\{change="appeared"\} [1-9]\d*$/m);
  });

  it('cycles do not wait for a discovery in progress, and go on when it fails', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let runs = 0;
    const { agent: a } = makeAgent({
      discoveryRun: async () => {
        runs++;
        await gate;
        throw new Error('synthetic failure: the fd walk blew up');
      },
    });
    await a.start();
    // the first discovery is still running: two cycles complete meanwhile, without services
    const r1 = await a.cycle();
    const r2 = await a.cycle();
    expect(runs).toBe(1);
    expect([r1.extra.resources, r2.extra.resources]).toEqual([0, 0]);
    const failed = once(a.discovery!.rediscoverer, 'failed');
    release();
    await failed;
    const r3 = await a.cycle();
    expect(r3.extra.resources).toBe(0);
    expect(r3.processes).toBe(r2.processes);
    const st = (await getJson<{ discovery: AgentDiscoveryStatus }>(`${a.url}/api/status`)).discovery;
    expect(st).toMatchObject({
      enabled: true,
      runs: 0,
      failedRuns: 1,
      lastError: 'synthetic failure: the fd walk blew up',
      at: null,
    });
    const metrics = await getText(`${a.url}/metrics`);
    expect(metrics).toMatch(/^nrdot_discovery_runs_total\{result="failed"\} 1$/m);
    const human = await nrdot(['status', '--url', a.url!]);
    expect(human.stdout).toMatch(
      /^discovery: first run in progress \(every 30s\)\n {2}last run failed: synthetic failure/m,
    );
  });

  it('discovery.enabled false: nothing runs, status says why, the export has no service resources', async () => {
    const { config } = loadConfig();
    config.discovery.enabled = false;
    const { agent: a, out } = makeAgent({ config });
    expect(a.discovery).toBeUndefined();
    await a.start();
    const r = await a.cycle();
    expect(r.extra).toEqual({ resources: 0, points: 0, bytes: 0 });
    expect(readRequests(out)[0]!.resourceMetrics.filter(isService)).toEqual([]);
    expect((a.status() as { discovery: unknown }).discovery).toEqual({
      enabled: false,
      why: 'discovery.enabled is false',
    });
    expect(await getText(`${a.url}/metrics`)).not.toMatch(/nrdot_discovery_/);
    const human = await nrdot(['status', '--url', a.url!]);
    expect(human.stdout).toMatch(/^discovery: off \(discovery\.enabled is false\)$/m);
  });
});
