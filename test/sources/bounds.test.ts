/**
 * Bounded discovery (ScanOptions.bounds and keep) on synthetic trees, on both
 * backends: each bound leaves out exactly the processes an unbounded scan
 * says it should (CPU judged by the engine's own StageRunner), counts them,
 * and never leaves out a `keep` pid.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { NrdotError } from '../../src/core/errors.js';
import { advanceHost, generateHost } from '../../src/harness/synth/index.js';
import { FLAG_NEW_IDENTITY, type ProcessBatch } from '../../src/sources/batch.js';
import {
  type ExcludedCounters,
  NameFilter,
  namePatternProblem,
  normalizeBounds,
  type ScanBounds,
} from '../../src/sources/bounds.js';
import { boundsFromConfig } from '../../src/sources/bounds-config.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import type { ProcessScanner, ScanOptions } from '../../src/sources/scanner.js';
import { StageRunner } from '../helpers/stages.js';
import { mkTmp, rmTmp, rowsByPid } from '../helpers/synth.js';
import { hasNative, openNative, requireNativeAddon } from './native-helpers.js';

requireNativeAddon();

let tmp: string;
beforeAll(() => {
  tmp = mkTmp('nrdot-bounds-');
});
afterAll(() => rmTmp(tmp));

describe('name patterns and bounds from the config', () => {
  it('exact names and trailing-* prefixes; nothing else is a wildcard', () => {
    const f = new NameFilter(['nginx', 'kworker/*', 'tmux*']);
    expect(['nginx', 'kworker/0:1', 'kworker/', 'tmux: server', 'tmux'].map((n) => f.matches(n))).toEqual([
      true,
      true,
      true,
      true,
      true,
    ]);
    expect(['nginx2', 'xnginx', 'kworke', 'Nginx', 'tmu'].map((n) => f.matches(n))).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(namePatternProblem('a*b')).toMatch(/only one '\*', at the end/);
    expect(namePatternProblem('')).toBe('empty pattern');
    expect(namePatternProblem('x\uFFFD')).toMatch(/U\+FFFD/);
    expect(namePatternProblem('ksoftirqd/*')).toBeUndefined();
  });

  it('bad bounds are a TypeError naming the field', () => {
    expect(() => normalizeBounds({ minRssBytes: -1 })).toThrow(/minRssBytes must be a number >= 0/);
    expect(() => normalizeBounds({ excludeNames: ['*x'] })).toThrow(/excludeNames: '\*x'/);
    expect(normalizeBounds({ maxProcesses: 2.7 }).maxProcesses).toBe(2);
  });

  it('the default config bounds nothing; a user file sets every key', () => {
    const dflt = boundsFromConfig(loadConfig().config.scan);
    expect(dflt).toEqual({ maxProcesses: 0, excludeNames: [], minCpuPercent: 0, minRssBytes: 0, minAgeSec: 0 });
    const dir = path.join(tmp, 'cfg');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'bounded.yaml');
    fs.writeFileSync(
      file,
      'scan:\n  max_processes: 5000\n  exclude_names: [kworker/*, sleep]\n  min_cpu_percent: 0.5\n  min_rss_mib: 4\n  min_age: 30s\n',
    );
    expect(boundsFromConfig(loadConfig(file).config.scan)).toEqual({
      maxProcesses: 5000,
      excludeNames: ['kworker/*', 'sleep'],
      minCpuPercent: 0.5,
      minRssBytes: 4 * 1024 * 1024,
      minAgeSec: 30,
    });
  });

  it('a config pattern with a wildcard in the middle is rejected, naming the key', () => {
    const file = path.join(tmp, 'cfg', 'bad.yaml');
    fs.writeFileSync(file, 'scan:\n  exclude_names: [ok, "k*worker"]\n');
    let err: unknown;
    try {
      loadConfig(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NrdotError);
    expect(String((err as Error).message)).toMatch(/scan\.exclude_names\.1.*only an exact name or a prefix/);
    fs.writeFileSync(file, 'scan:\n  min_age: soon\n');
    expect(() => loadConfig(file)).toThrow(/scan\.min_age/);
  });
});

type Backend = 'ts' | 'native';
const BACKENDS: Backend[] = hasNative ? ['ts', 'native'] : ['ts'];

function open(backend: Backend, root: string): ProcessScanner {
  return backend === 'ts' ? new ProcfsReader({ procRoot: root }) : openNative(root);
}

/** What a bounded scan must produce, derived from an unbounded scan of the same tree. */
interface Expected {
  pids: number[];
  excluded: ExcludedCounters;
}

/**
 * The bounds' rules written out once more, over an unbounded batch: pids in
 * order, `keep` exempt and reserved, then name, rss, age, and cpu (as the
 * engine's StageRunner computes it for that batch).
 */
function expected(
  u: ProcessBatch,
  names: Map<number, string>,
  cpuCores: Float64Array,
  b: ScanBounds,
  keep: number[],
): Expected {
  const excluded: ExcludedCounters = { max_processes: 0, name: 0, cpu: 0, rss: 0, age: 0 };
  const rows = Array.from({ length: u.count }, (_, i) => i).sort((x, y) => u.pid[x]! - u.pid[y]!);
  const keepSet = new Set(keep);
  const listedKeep = rows.filter((i) => keepSet.has(u.pid[i]!)).length;
  const budget = b.maxProcesses ? Math.max(0, b.maxProcesses - listedKeep) : Number.POSITIVE_INFINITY;
  const filter = new NameFilter(b.excludeNames ?? []);
  const pids: number[] = [];
  let free = 0;
  for (const i of rows) {
    const pid = u.pid[i]!;
    if (keepSet.has(pid)) {
      pids.push(pid);
      continue;
    }
    if (free >= budget) {
      excluded.max_processes++;
      continue;
    }
    const age = u.host.uptimeSec - u.startTicks[i]! / u.host.clkTck;
    if (filter.matches(names.get(pid)!)) excluded.name++;
    else if (b.minRssBytes && u.rssBytes[i]! < b.minRssBytes) excluded.rss++;
    else if (b.minAgeSec && age < b.minAgeSec) excluded.age++;
    else if (b.minCpuPercent && cpuCores[i]! * 100 < b.minCpuPercent) excluded.cpu++;
    else {
      pids.push(pid);
      free++;
    }
  }
  return { pids, excluded };
}

const pidsOf = (b: ProcessBatch) => Array.from(b.pid.subarray(0, b.count)).sort((x, y) => x - y);

describe.each(BACKENDS)('bounded discovery, %s backend', (backend) => {
  let root: string;
  let reference: ProcfsReader;
  let memory: StageRunner;
  const names = new Map<number, string>();

  /** An unbounded scan of the tree as it is now, its comm names and the engine's CPU rates. */
  function unbounded() {
    const u = reference.scan();
    const rows = rowsByPid(u);
    for (const [pid, v] of rows) if (v.name !== undefined) names.set(pid, v.name);
    return { u, cpuCores: memory.step(u).cpuCores };
  }

  beforeAll(async () => {
    root = path.join(tmp, `host-${backend}`);
    await generateHost({ out: root, processes: 600, seed: 5 });
    reference = new ProcfsReader({ procRoot: root });
    memory = new StageRunner();
  });

  it('no bounds: no `excluded` counters; bounds all off: zero counts and every process', async () => {
    const s = open(backend, root);
    try {
      const plain = await s.scan();
      expect(plain.counters.excluded).toBeUndefined();
      const off = await s.scan({ bounds: {} });
      expect(off.counters.excluded).toEqual({ max_processes: 0, name: 0, cpu: 0, rss: 0, age: 0 });
      expect(off.count).toBe(600);
    } finally {
      s.close();
    }
  });

  it('each bound alone, and all at once, leaves out what it should and counts it; keep pids pass every bound', async () => {
    const { u, cpuCores } = unbounded();
    const byRss = Array.from(u.rssBytes.subarray(0, u.count)).sort((a, b) => a - b);
    const medianRss = byRss[Math.floor(u.count / 2)]!;
    // keep: an nginx (name-excluded below), the smallest process, and a pid that is not listed
    const nginx = [...names].find(([, n]) => n === 'nginx')![0];
    const smallest = u.pid[Array.from(u.rssBytes.subarray(0, u.count)).indexOf(byRss[0]!)]!;
    const keep = [nginx, smallest, 4_000_000];
    const cases: ScanBounds[] = [
      { excludeNames: ['nginx', 'tmux*', 'sleep'] },
      { minRssBytes: medianRss },
      { minAgeSec: 3600 * 24 },
      { minCpuPercent: 0.5 },
      { maxProcesses: 100 },
      // all at once: each process counted under the first bound that excludes it
      { excludeNames: ['nginx'], minRssBytes: medianRss, minAgeSec: 3600 * 24, minCpuPercent: 0.5, maxProcesses: 500 },
    ];
    for (const b of cases) {
      const s = open(backend, root);
      try {
        const got = await s.scan({ bounds: b, keep: Int32Array.from(keep) });
        const want = expected(u, names, cpuCores, b, keep);
        const label = JSON.stringify(b);
        expect(got.counters.excluded, label).toEqual(want.excluded);
        expect(pidsOf(got), label).toEqual(want.pids);
        const total = Object.values(want.excluded).reduce((a, v) => a + v, 0);
        expect(total, `${label} leaves something out`).toBeGreaterThan(0);
        expect(got.count + total, label).toBe(600);
        expect(pidsOf(got)).toContain(nginx);
        expect(pidsOf(got)).toContain(smallest);
      } finally {
        s.close();
      }
    }
  });

  it('max_processes: the lowest pids, with listed keep pids reserved within the cap', async () => {
    const s = open(backend, root);
    try {
      const all = pidsOf(reference.scan());
      const high = all.slice(-3);
      const b = await s.scan({ bounds: { maxProcesses: 50 }, keep: [...high, 4_000_000] });
      expect(b.count).toBe(50);
      expect(pidsOf(b)).toEqual([...all.slice(0, 47), ...high]);
      expect(b.counters.excluded!.max_processes).toBe(550);
      // keep larger than the cap: every keep pid, nothing else
      const many = all.filter((_, i) => i % 10 === 0);
      const c = await s.scan({ bounds: { maxProcesses: 20 }, keep: many });
      expect(pidsOf(c)).toEqual(many);
    } finally {
      s.close();
    }
  });

  it('CPU since the previous scan after the tree moves on (churn, new processes, age)', async () => {
    const s = open(backend, root);
    try {
      const b: ScanBounds = { minCpuPercent: 2, minAgeSec: 20 };
      unbounded();
      await s.scan({ bounds: b });
      const adv = await advanceHost({ dir: root, seconds: 30, anomalies: 5, churn: 0.05 });
      expect(adv.spawned.length).toBeGreaterThan(0);
      const { u, cpuCores } = unbounded();
      const got = await s.scan({ bounds: b });
      const want = expected(u, names, cpuCores, b, []);
      expect(got.counters.excluded).toEqual(want.excluded);
      expect(pidsOf(got)).toEqual(want.pids);
      // processes spawned 0-30 s ago: some younger than 20 s are left out as young
      expect(want.excluded.age).toBeGreaterThan(0);
      // the injected CPU anomalies pass the CPU bound
      for (const a of adv.anomalies.filter((x) => x.kind === 'cpu')) expect(pidsOf(got)).toContain(a.pid);
    } finally {
      s.close();
    }
  });

  it('a process left out is new again (with its name) when it comes back', async () => {
    const s = open(backend, root);
    try {
      await s.scan();
      const excluded = await s.scan({ bounds: { excludeNames: ['postgres'] } });
      const pg = [...names].filter(([, n]) => n === 'postgres').map(([p]) => p);
      expect(pg.length).toBeGreaterThan(0);
      expect(excluded.counters.excluded!.name).toBeGreaterThanOrEqual(pg.length);
      const back = await s.scan();
      const rows = rowsByPid(back);
      for (const pid of pg) {
        if (!rows.has(pid)) continue; // exited in an earlier test's churn
        expect(back.flags[rows.get(pid)!.row]! & FLAG_NEW_IDENTITY, `pid ${pid}`).toBe(FLAG_NEW_IDENTITY);
        expect(rows.get(pid)!.name).toBe('postgres');
      }
      // everything else stayed known
      expect(back.freshRows.length).toBe(excluded.counters.excluded!.name);
    } finally {
      s.close();
    }
  });

  it('bad bounds are refused before anything is read', async () => {
    const s = open(backend, root);
    try {
      const bad = { bounds: { minAgeSec: Number.NaN } } as ScanOptions;
      await expect(Promise.resolve().then(() => s.scan(bad))).rejects.toThrow(/minAgeSec must be a number >= 0/);
    } finally {
      s.close();
    }
  });
});
