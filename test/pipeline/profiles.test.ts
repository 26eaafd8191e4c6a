/**
 * Each profile on a synthetic busy host, end to end through the engine and the
 * real file exporter: reduction reported, every critical process exported,
 * roll-up totals equal to the sum of what was dropped.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { createSink } from '../../src/exporters/sink.js';
import { advanceHost, generateHost, readTruth } from '../../src/harness/synth/index.js';
import type { SynthTruth } from '../../src/harness/synth/types.js';
import { Engine } from '../../src/pipeline/engine.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import type { ScanOptions } from '../../src/sources/scanner.js';
import { Classifier } from '../../src/stages/classify/classifier.js';
import { parseCgroup } from '../../src/stages/pool/cgroup.js';
import { groupFor } from '../../src/stages/pool/naming.js';
import { samplingBudget } from '../../src/stages/sample/index.js';
import { ProcessMetric } from '../../src/telemetry/names.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { plainExporterOptions } from '../helpers/defaults.js';
import { attr, isProcess, isRollup, isSampled, isSelf, pointValue, readRequests } from '../helpers/otlp-file.js';

const tmp = fastTmpDir('nrdot-profiles-');
const host = path.join(tmp, 'host');
let truth: SynthTruth;
const { config } = loadConfig();
const classifier = new Classifier(config.classification);

beforeAll(async () => {
  truth = await generateHost({ out: host, processes: 2500, seed: 7 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function runProfile(profile: string, out: string, cycles = 1, between?: () => Promise<void>) {
  const engine = new Engine({
    config,
    profile,
    scanner: new ProcfsReader({ procRoot: host }),
    sink: createSink([`file:${out}`], plainExporterOptions()),
    intervalMs: 10_000,
    logger: silentLogger,
  });
  await engine.start();
  const reports = [];
  for (let c = 0; c < cycles; c++) {
    if (c > 0 && between) await between();
    reports.push(await engine.cycle());
  }
  await engine.shutdown();
  return reports;
}

type Truth = SynthTruth['processes'][number];

/** The group a process rolls up into, from the generator's truth (its cgroup as written). */
function groupOfTruth(p: Truth): string {
  const cgroup = p.cgroupReadable ? parseCgroup(p.cgroup.join('\n')) : undefined;
  return groupFor({ name: p.comm, exe: p.exe, owner: '', cgroup }, config.groups.by, config.groups.template).name;
}

/**
 * Pool workers, from the truth: the same executable in the same group is a
 * pool; a member whose parent is in it is a worker; in a flat pool every
 * member but the oldest is; and a child of a process with the same
 * executable is a worker in any group.
 */
let workers: Set<number> | undefined;
function isWorker(p: Truth): boolean {
  if (!workers) {
    workers = new Set();
    const pools = new Map<string, Truth[]>();
    for (const q of truth.processes) {
      if (q.kernel) continue;
      const k = `${groupOfTruth(q)}\0${q.comm}`;
      pools.set(k, [...(pools.get(k) ?? []), q]);
    }
    for (const members of pools.values()) {
      if (members.length < 2) continue;
      const pids = new Set(members.map((q) => q.pid));
      const roots = members.filter((q) => !pids.has(q.ppid) || q.ppid === q.pid);
      for (const q of members) if (!roots.includes(q)) workers.add(q.pid);
      if (roots.length === members.length) {
        const oldest = [...roots].sort((a, b) => a.starttimeTicks - b.starttimeTicks || a.pid - b.pid)[0]!;
        for (const q of roots) if (q !== oldest) workers.add(q.pid);
      }
    }
    // a child of a process with the same executable is a worker, whatever its group
    const byPid = new Map(truth.processes.map((q) => [q.pid, q]));
    for (const q of truth.processes) {
      const parent = byPid.get(q.ppid);
      if (!q.kernel && parent && parent !== q && parent.comm === q.comm) workers.add(q.pid);
    }
  }
  return workers.has(p.pid);
}

/** The tier the config's rules give a process, computed from the generator's truth. */
function tierOfTruth(p: Truth): number {
  const c = classifier.classify(p.comm, p.exe, p.cmdline, p.kernel);
  // pool workers sit one tier lower
  if (!c.protected && !p.kernel && c.tier < 3 && isWorker(p)) return c.tier + 1;
  return c.tier;
}

describe.each(['conservative', 'balanced', 'aggressive', 'emergency'])(
  'profile %s on a 2500-process host',
  (profile) => {
    it('reports a reduction, exports every critical process, and rolls up exactly what it dropped', async () => {
      const out = path.join(tmp, `${profile}.jsonl`);
      const [r] = await runProfile(profile, out);
      expect(r!.processes).toBe(truth.processes.length);
      expect(r!.reduction.bytes).toBeGreaterThan(0);
      expect(r!.reduction.datapoints).toBeGreaterThan(0);
      expect(r!.datapoints.baseline).toBeGreaterThan(r!.datapoints.exported);

      const [req] = readRequests(out);
      // sampled processes are extras on top of the roll-up (which still counts them)
      const processes = req!.resourceMetrics.filter((rm) => isProcess(rm) && !isSampled(rm));
      const sampled = req!.resourceMetrics.filter(isSampled);
      const exportedPids = new Set(processes.map((rm) => attr(rm, 'process.pid') as number));
      expect(exportedPids.size).toBe(r!.exported);

      // 100% critical coverage, checked against the generator's truth
      const critical = truth.processes.filter((p) => tierOfTruth(p) === 0);
      expect(critical.length).toBeGreaterThan(0);
      for (const p of critical) expect(exportedPids.has(p.pid), `critical ${p.comm} (${p.pid}) exported`).toBe(true);
      expect(r!.coverageCritical).toBe(1);
      expect(r!.critical.exported).toBe(critical.length);

      // the sampled path: only in profiles with sampling, only rolled-up processes of the sampled tiers
      const sampling = config.profiles[profile]!.sampling;
      if (!sampling) expect(sampled).toHaveLength(0);
      else expect(sampled.length).toBeGreaterThan(0);
      expect(r!.paths.sampled.points).toBe(
        sampled.reduce(
          (s, rm) =>
            s +
            rm.scopeMetrics.flatMap((m) => m.metrics).reduce((a, m) => a + (m.sum ?? m.gauge)!.dataPoints.length, 0),
          0,
        ),
      );
      for (const rm of sampled) {
        expect(exportedPids.has(attr(rm, 'process.pid') as number)).toBe(false);
        expect(sampling!.tiers).toContain(attr(rm, 'nrdot.tier'));
        const rate = attr(rm, 'nrdot.sample.rate') as number;
        expect(rate).toBe(r!.paths.sampleRate);
        expect(Math.log2(1 / rate) % 1).toBe(0);
      }
      if (sampling) expect(r!.paths.sampled.points).toBeLessThanOrEqual(samplingBudget(sampling, r!.processes));

      // roll-up gauges equal the sums over the dropped processes, per group (the biggest
      // with two members or more, up to the budget; the rest in _other_)
      const rollups = req!.resourceMetrics.filter(isRollup);
      const dropped = truth.processes.filter((p) => !exportedPids.has(p.pid));
      expect(dropped.length).toBe(r!.rolledUp);
      const budget = config.profiles[profile]!.groups.budget;
      const own = rollups.filter((rm) => attr(rm, 'nrdot.group') !== '_other_');
      expect(own.length).toBeLessThanOrEqual(budget);
      const inOwn = new Set<string>();
      for (const rm of own) {
        const name = attr(rm, 'nrdot.group') as string;
        inOwn.add(name);
        const mine = dropped.filter((p) => groupOfTruth(p) === name);
        // a group of one process has no aggregate of its own (groups.min_members)
        expect(mine.length, `members of ${name}`).toBeGreaterThanOrEqual(config.profiles[profile]!.groups.min_members);
        expect(pointValue(rm, 'nrdot.rollup.count')).toBe(mine.length);
        expect(pointValue(rm, ProcessMetric.memoryUsage)).toBe(mine.reduce((s, p) => s + p.rssBytes, 0));
        expect(pointValue(rm, ProcessMetric.memoryVirtual)).toBe(mine.reduce((s, p) => s + p.vsizeBytes, 0));
        // process.threads is not in the default metric set: not exported, not summed
        expect(pointValue(rm, ProcessMetric.threads)).toBeUndefined();
      }
      const rest = dropped.filter((p) => !inOwn.has(groupOfTruth(p)));
      // every group left out while the budget had room has a single rolled-up member
      if (own.length < budget) {
        const sizes = new Map<string, number>();
        for (const p of rest) sizes.set(groupOfTruth(p), (sizes.get(groupOfTruth(p)) ?? 0) + 1);
        for (const [name, n] of sizes) expect(n, `group ${name} left in _other_`).toBe(1);
      }
      const other = rollups.find((rm) => attr(rm, 'nrdot.group') === '_other_');
      if (rest.length === 0) expect(other).toBeUndefined();
      else {
        expect(attr(other!, 'process.executable.name')).toBe('_other_');
        expect(pointValue(other!, 'nrdot.rollup.count')).toBe(rest.length);
        expect(pointValue(other!, ProcessMetric.memoryUsage)).toBe(rest.reduce((s, p) => s + p.rssBytes, 0));
      }
      // kept + rolled-up memory = host total over all processes
      const keptRss = processes.reduce((s, rm) => s + pointValue(rm, ProcessMetric.memoryUsage)!, 0);
      const rolledRss = rollups.reduce((s, rm) => s + pointValue(rm, ProcessMetric.memoryUsage)!, 0);
      expect(keptRss + rolledRss).toBe(truth.processes.reduce((s, p) => s + p.rssBytes, 0));

      // self-telemetry carries the cost figures
      const self = req!.resourceMetrics.find(isSelf)!;
      expect(pointValue(self, 'nrdot.coverage.critical')).toBe(1);
      expect(pointValue(self, 'nrdot.cost.baseline_bytes')).toBe(r!.bytes.baseline);
      expect(pointValue(self, 'nrdot.cost.bytes')).toBe(r!.bytes.exported);
      expect(pointValue(self, 'nrdot.datapoints.exported')).toBe(r!.datapoints.exported);
      expect(pointValue(self, 'nrdot.processes.seen')).toBe(truth.processes.length);
    });
  },
);

describe('profiles order by cost', () => {
  it('conservative >= balanced >= aggressive >= emergency in exported data points', async () => {
    const points: number[] = [];
    for (const p of ['conservative', 'balanced', 'aggressive', 'emergency']) {
      const [r] = await runProfile(p, path.join(tmp, `order-${p}.jsonl`));
      points.push(r!.datapoints.exported);
    }
    for (let i = 1; i < points.length; i++) expect(points[i]).toBeLessThanOrEqual(points[i - 1]!);
  });
});

describe('roll-up counters across cycles', () => {
  it('grow by exactly the CPU time the dropped processes used in between', async () => {
    const dir = path.join(tmp, 'cum-host');
    await generateHost({ out: dir, processes: 800, seed: 11 });
    const out = path.join(tmp, 'cum.jsonl');
    const before = new Map<number, { start: number; cpu: number }>();
    // every kept process in every cycle's output (no heartbeat skipping), so
    // "not in the output" means "rolled up"
    const cfg = structuredClone(config);
    cfg.paths.standard.heartbeat_cycles = 1;
    const engine = new Engine({
      config: cfg,
      profile: 'aggressive',
      scanner: new ProcfsReader({ procRoot: dir }),
      sink: createSink([`file:${out}`], plainExporterOptions()),
      intervalMs: 10_000,
      logger: silentLogger,
    });
    await engine.start();
    await engine.cycle();
    const first = await readTruth(dir);
    for (const p of first.processes) before.set(p.pid, { start: p.starttimeTicks, cpu: p.utimeTicks + p.stimeTicks });
    const adv = await advanceHost({ dir, seconds: 30, churn: 0 });
    await engine.cycle();
    await engine.shutdown();

    const [req1, req2] = readRequests(out);
    const exported2 = new Set(req2!.resourceMetrics.filter(isProcess).map((rm) => attr(rm, 'process.pid') as number));
    const cpuOf = (rm: (typeof req1)['resourceMetrics'][number]) =>
      pointValue(rm, ProcessMetric.cpuTime, 'state', 'user')! +
      pointValue(rm, ProcessMetric.cpuTime, 'state', 'system')!;
    const rollCpu = (req: typeof req1) => req!.resourceMetrics.filter(isRollup).reduce((s, rm) => s + cpuOf(rm), 0);
    let expected = 0;
    for (const p of adv.processes) {
      if (exported2.has(p.pid)) continue;
      const b = before.get(p.pid);
      if (b && b.start === p.starttimeTicks) expected += (p.utimeTicks + p.stimeTicks - b.cpu) / adv.clkTck;
    }
    expect(expected).toBeGreaterThan(0);
    expect(rollCpu(req2) - rollCpu(req1)).toBeCloseTo(expected, 6);
  });
});

describe('tier-aware reads (scan.detail)', () => {
  /** The real TypeScript reader, recording what the engine asks of it. */
  class RecordingReader extends ProcfsReader {
    detailAsked: (Int32Array | readonly number[] | undefined)[] = [];
    override scan(opts?: ScanOptions) {
      this.detailAsked.push(opts?.detail);
      return super.scan(opts);
    }
  }

  async function twoCycles(detail: 'exported' | 'all', name: string) {
    const dir = path.join(tmp, `detail-${name}`);
    await generateHost({ out: dir, processes: 600, seed: 13 });
    const out = path.join(tmp, `detail-${name}.jsonl`);
    const cfg = structuredClone(config);
    cfg.scan.detail = detail;
    const scanner = new RecordingReader({ procRoot: dir });
    const engine = new Engine({
      config: cfg,
      profile: 'balanced',
      scanner,
      sink: createSink([`file:${out}`], plainExporterOptions()),
      intervalMs: 10_000,
      logger: silentLogger,
    });
    await engine.start();
    const r1 = await engine.cycle();
    await advanceHost({ dir, seconds: 10, churn: 0 });
    const r2 = await engine.cycle();
    await engine.shutdown();
    return { r1, r2, reqs: readRequests(out), asked: scanner.detailAsked };
  }

  it('exported: steady cycles read detail only for exported processes, and the baseline does not shrink', async () => {
    const { r1, r2, reqs, asked } = await twoCycles('exported', 'exported');
    expect(asked[0]).toBeUndefined(); // the first scan reads everything
    // exported and sampled processes are read in full next cycle
    const sampled1 = reqs[0]!.resourceMetrics.filter(isSampled).length;
    expect(asked[1]?.length).toBe(r1.exported + sampled1);
    expect(r2.datapoints.baseline).toBe(r1.datapoints.baseline);
    expect(r2.bytes.baseline).toBe(r1.bytes.baseline);
    const [, req2] = reqs;
    const rollups = req2!.resourceMetrics.filter(isRollup);
    expect(rollups.length).toBeGreaterThan(0);
    for (const rm of rollups) {
      expect(pointValue(rm, ProcessMetric.diskIo, 'direction', 'read')).toBeUndefined();
      expect(pointValue(rm, ProcessMetric.memoryUsage)).toBeGreaterThanOrEqual(0);
    }
    // processes exported in both cycles keep their full metric set
    const pids1 = new Set(reqs[0]!.resourceMetrics.filter(isProcess).map((rm) => attr(rm, 'process.pid')));
    const again = req2!.resourceMetrics.filter(isProcess).filter((rm) => pids1.has(attr(rm, 'process.pid')));
    expect(again.length).toBeGreaterThan(0);
    const withIo = again.filter((rm) => pointValue(rm, ProcessMetric.diskIo, 'direction', 'read') !== undefined);
    expect(withIo.length).toBe(again.length);
  });

  it('all: roll-ups carry disk I/O as well', async () => {
    const { reqs, asked } = await twoCycles('all', 'all');
    expect(asked).toEqual([undefined, undefined]);
    const rollups = reqs[1]!.resourceMetrics.filter(isRollup);
    expect(rollups.length).toBeGreaterThan(0);
    for (const rm of rollups) expect(pointValue(rm, ProcessMetric.diskIo, 'direction', 'read')).toBeDefined();
  });
});
