import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CATEGORIES, generateHost, readTruth, STATE_FILE, type SynthTruth } from '../../../src/harness/synth/index.js';
import { FLAG_KERNEL_THREAD, FLAG_NEW_IDENTITY } from '../../../src/sources/batch.js';
import { parseStat } from '../../../src/sources/procfs/parse.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { sysconf } from '../../../src/sources/procfs/sysconf.js';
import { expectBatchMatchesTruth, mkTmp, rmTmp } from '../../helpers/synth.js';

const N = 500;
let tmp: string;
let tree: string;
let truth: SynthTruth;
const progress: [number, number][] = [];

beforeAll(async () => {
  tmp = mkTmp();
  tree = path.join(tmp, 'tree');
  truth = await generateHost({ out: tree, processes: N, seed: 7, onProgress: (d, t) => progress.push([d, t]) });
});
afterAll(() => rmTmp(tmp));

describe('generateHost: read back through ProcfsReader', () => {
  it('matches the truth field by field for every process and the host', () => {
    const reader = new ProcfsReader({ procRoot: tree });
    reader.validateRoot();
    const b = reader.scan();
    expect(b.count).toBe(N);
    // First scan: every identity is fresh, so names/cmdlines/exes are all checked.
    expect(b.freshRows.length).toBe(N);
    for (let i = 0; i < b.count; i++) expect(b.flags[i] & FLAG_NEW_IDENTITY).toBe(FLAG_NEW_IDENTITY);
    expectBatchMatchesTruth(b, truth);
  });

  it('returns the same truth readTruth reads from the state file', async () => {
    expect(fs.existsSync(path.join(tree, STATE_FILE))).toBe(true);
    expect(await readTruth(tree)).toEqual(truth);
  });

  it('uses this machine clock ticks and page size', () => {
    const { clkTck, pageSize } = sysconf();
    expect(truth.clkTck).toBe(clkTck);
    expect(truth.pageSize).toBe(pageSize);
    for (const p of truth.processes) expect(p.rssBytes % pageSize).toBe(0);
  });

  it('reports progress up to (total, total)', () => {
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[progress.length - 1]).toEqual([N, N]);
    for (let i = 1; i < progress.length; i++) expect(progress[i][0]).toBeGreaterThanOrEqual(progress[i - 1][0]);
  });
});

describe('generateHost: file formats', () => {
  it('writes 52-field stat lines that parse, whatever the comm', () => {
    for (const p of truth.processes) {
      const line = fs.readFileSync(path.join(tree, String(p.pid), 'stat'), 'latin1');
      expect(line.endsWith('\n')).toBe(true);
      const after = line
        .slice(line.lastIndexOf(')') + 2)
        .trimEnd()
        .split(' ');
      expect(after.length + 2, `pid ${p.pid}`).toBe(52);
      expect(parseStat(line)?.comm).toBe(p.comm);
    }
  });

  it('writes status, io and cmdline like the kernel', () => {
    const pg = truth.processes.find((p) => p.role === 'postgres-backend')!;
    const status = fs.readFileSync(path.join(tree, String(pg.pid), 'status'), 'latin1');
    expect(status).toMatch(/^Name:\tpostgres\nUmask:\t0077\nState:\t[RSD] \(/);
    expect(status).toContain(`\nUid:\t${pg.uid}\t${pg.uid}\t${pg.uid}\t${pg.uid}\n`);
    expect(status).toContain(`\nVmRSS:\t${String(pg.rssBytes / 1024).padStart(8)} kB\n`);
    expect(status).toContain(`\nThreads:\t${pg.threads}\n`);
    expect(status).toMatch(/\nvoluntary_ctxt_switches:\t\d+\nnonvoluntary_ctxt_switches:\t\d+\n$/);
    const io = fs.readFileSync(path.join(tree, String(pg.pid), 'io'), 'latin1');
    expect(io.split('\n').map((l) => l.split(':')[0])).toEqual([
      'rchar',
      'wchar',
      'syscr',
      'syscw',
      'read_bytes',
      'write_bytes',
      'cancelled_write_bytes',
      '',
    ]);
    const java = truth.processes.find((p) => p.role === 'java-app')!;
    const raw = fs.readFileSync(path.join(tree, String(java.pid), 'cmdline'), 'utf8');
    expect(raw.endsWith('\0')).toBe(true);
    expect(raw.slice(0, -1).split('\0')).toEqual(java.argv);
    expect(fs.readlinkSync(path.join(tree, String(java.pid), 'exe'))).toBe(java.exe);
    const fdDir = path.join(tree, String(java.pid), 'fd');
    const fds = fs
      .readdirSync(fdDir)
      .map(Number)
      .sort((a, b) => a - b);
    expect(fds).toEqual(Array.from({ length: java.fds }, (_, i) => i));
    expect(fs.lstatSync(path.join(fdDir, '0')).isSymbolicLink()).toBe(true);
  });

  it('gives kernel threads an empty cmdline, no exe, no memory and an empty fd/', () => {
    const kernel = truth.processes.filter((p) => p.kernel);
    expect(kernel.length).toBeGreaterThan(0);
    for (const k of kernel) {
      const dir = path.join(tree, String(k.pid));
      expect(fs.readFileSync(path.join(dir, 'cmdline'), 'latin1')).toBe('');
      expect(fs.existsSync(path.join(dir, 'exe'))).toBe(false);
      expect(() => fs.lstatSync(path.join(dir, 'exe'))).toThrow();
      expect(fs.readdirSync(path.join(dir, 'fd'))).toEqual([]);
      expect([k.rssBytes, k.vsizeBytes, k.fds]).toEqual([0, 0, 0]);
      expect(k.ppid).toBe(k.pid === 2 ? 0 : 2);
      expect(fs.readFileSync(path.join(dir, 'status'), 'latin1')).not.toContain('VmRSS');
    }
  });

  it('writes the host files', () => {
    const uptime = fs.readFileSync(path.join(tree, 'uptime'), 'latin1');
    expect(uptime).toMatch(/^\d+\.\d\d \d+\.\d\d\n$/);
    const stat = fs.readFileSync(path.join(tree, 'stat'), 'latin1');
    const lines = stat.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^cpu {2}(\d+ ){9}\d+$/);
    for (let c = 0; c < truth.host.cpus; c++) expect(lines[c + 1]).toMatch(new RegExp(`^cpu${c} (\\d+ ){9}\\d+$`));
    for (const key of ['intr', 'ctxt', 'btime', 'processes', 'procs_running', 'procs_blocked', 'softirq']) {
      expect(
        lines.some((l) => l.startsWith(`${key} `)),
        key,
      ).toBe(true);
    }
    // The aggregate line is the sum of the per-CPU lines.
    const cols = (l: string) => l.split(/ +/).slice(1).map(Number);
    const sum = cols(lines[0]).map((_, k) => lines.slice(1, truth.host.cpus + 1).reduce((a, l) => a + cols(l)[k], 0));
    expect(cols(lines[0])).toEqual(sum);
    const meminfo = fs.readFileSync(path.join(tree, 'meminfo'), 'latin1');
    expect(meminfo).toMatch(
      /^MemTotal: +\d+ kB\nMemFree: +\d+ kB\nMemAvailable: +\d+ kB\nBuffers: +\d+ kB\nCached: +\d+ kB\n/,
    );
    expect(fs.readFileSync(path.join(tree, 'sys/kernel/hostname'), 'latin1')).toBe('synth-7\n');
    expect(fs.readFileSync(path.join(tree, 'loadavg'), 'latin1')).toMatch(
      /^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+\n$/,
    );
  });
});

describe('generateHost: a host an operator would recognise', () => {
  it('contains every category', () => {
    const cats = new Set(truth.processes.map((p) => p.category));
    for (const c of CATEGORIES) expect(cats.has(c), c).toBe(true);
  });

  it('has systemd as pid 1, kthreadd as pid 2 and 10-25% kernel threads', () => {
    const byPid = new Map(truth.processes.map((p) => [p.pid, p]));
    expect(byPid.get(1)).toMatchObject({ comm: 'systemd', ppid: 0, category: 'init' });
    expect(byPid.get(2)).toMatchObject({ comm: 'kthreadd', ppid: 0, kernel: true, cmdline: '' });
    const share = truth.processes.filter((p) => p.kernel).length / N;
    expect(share).toBeGreaterThanOrEqual(0.1);
    expect(share).toBeLessThanOrEqual(0.25);
    const comms = new Set(truth.processes.map((p) => p.comm));
    for (const c of [
      'ksoftirqd/0',
      'migration/0',
      'rcu_sched',
      'systemd-journal',
      'sshd',
      'cron',
      'postgres',
      'nginx',
      'java',
      'containerd-shim',
      'pause',
      'bash',
    ]) {
      expect(comms.has(c), c).toBe(true);
    }
    expect([...comms].some((c) => /^kworker\//.test(c))).toBe(true);
  });

  it('has the odd comm names, at most 15 bytes except workqueue workers', () => {
    const comms = truth.processes.map((p) => p.comm);
    expect(comms).toContain('(sd-pam)');
    expect(comms).toContain('tmux: server');
    expect(comms.some((c) => c.includes(') (') && c.includes(' '))).toBe(true);
    expect(comms.some((c) => c.includes(')') && !c.startsWith('('))).toBe(true);
    for (const p of truth.processes) {
      if (!p.comm.startsWith('kworker/')) expect(Buffer.byteLength(p.comm), p.comm).toBeLessThanOrEqual(15);
    }
    // The full name survives in the cmdline.
    const long = truth.processes.find((p) => p.role === 'long-name')!;
    expect(long.comm).toBe('data-pipeline-i');
    expect(long.cmdline).toContain('data-pipeline-ingest-worker');
  });

  it('keeps the process tree consistent', () => {
    const byPid = new Map(truth.processes.map((p) => [p.pid, p]));
    expect(byPid.size).toBe(N);
    for (const p of truth.processes) {
      if (p.pid <= 2) continue;
      const parent = byPid.get(p.ppid);
      expect(parent, `parent of ${p.pid}`).toBeDefined();
      expect(p.starttimeTicks).toBeGreaterThanOrEqual(parent!.starttimeTicks);
      expect(p.kernel).toBe(p.ppid === 2);
    }
  });

  it('has realistic threads, memory, CPU and uids', () => {
    const user = truth.processes.filter((p) => !p.kernel && p.state !== 'Z');
    const threads = user.map((p) => p.threads).sort((a, b) => a - b);
    expect(threads[Math.floor(threads.length / 2)]).toBeLessThanOrEqual(8);
    expect(threads[threads.length - 1]).toBeGreaterThanOrEqual(90);
    const uptime = truth.host.uptime;
    const clk = truth.clkTck;
    const rates = user.map((p) => (p.utimeTicks + p.stimeTicks) / clk / Math.max(1, uptime - p.starttimeTicks / clk));
    rates.sort((a, b) => a - b);
    expect(rates[Math.floor(rates.length / 2)]).toBeLessThan(0.05);
    expect(rates[rates.length - 1]).toBeGreaterThan(0.1);
    for (const p of truth.processes) {
      const age = uptime - p.starttimeTicks / clk;
      expect(age).toBeGreaterThan(0);
      expect((p.utimeTicks + p.stimeTicks) / clk).toBeLessThanOrEqual(age * Math.max(1, p.threads) * 1.5 + 1);
      if (!p.kernel && p.state !== 'Z') {
        expect(p.rssBytes).toBeGreaterThan(0);
        expect(p.vsizeBytes).toBeGreaterThanOrEqual(p.rssBytes);
      }
    }
    const uids = new Set(truth.processes.map((p) => p.uid));
    for (const u of [0, 26, 33, 1000]) expect(uids.has(u), `uid ${u}`).toBe(true);
  });
});

describe('generateHost: determinism and the output directory', () => {
  it('produces the same tree for the same seed and a different one for another', async () => {
    const a = path.join(tmp, 'det-a');
    const b = path.join(tmp, 'det-b');
    const c = path.join(tmp, 'det-c');
    const ta = await generateHost({ out: a, processes: 120, seed: 99 });
    const tb = await generateHost({ out: b, processes: 120, seed: 99 });
    const tc = await generateHost({ out: c, processes: 120, seed: 100 });
    expect(tb).toEqual(ta);
    expect(tc).not.toEqual(ta);
    for (const p of ta.processes) {
      for (const f of ['stat', 'status', 'io', 'cmdline']) {
        expect(fs.readFileSync(path.join(b, String(p.pid), f), 'latin1')).toBe(
          fs.readFileSync(path.join(a, String(p.pid), f), 'latin1'),
        );
      }
    }
    for (const f of ['uptime', 'stat', 'meminfo', 'loadavg', STATE_FILE]) {
      expect(fs.readFileSync(path.join(b, f), 'latin1')).toBe(fs.readFileSync(path.join(a, f), 'latin1'));
    }
    rmTmp(a);
    rmTmp(b);
    rmTmp(c);
  });

  it('refuses a non-empty directory that is not a synthetic tree, naming the path', async () => {
    const d = path.join(tmp, 'not-synth');
    fs.mkdirSync(d);
    fs.writeFileSync(path.join(d, 'precious.txt'), 'keep me');
    await expect(generateHost({ out: d, processes: 10, seed: 1 })).rejects.toThrow(d);
    expect(fs.readFileSync(path.join(d, 'precious.txt'), 'utf8')).toBe('keep me');
    const f = path.join(tmp, 'a-file');
    fs.writeFileSync(f, 'x');
    await expect(generateHost({ out: f, processes: 10, seed: 1 })).rejects.toThrow(f);
  });

  it('overwrites a previous synthetic tree and accepts an empty directory', async () => {
    const d = path.join(tmp, 'again');
    fs.mkdirSync(d);
    const t1 = await generateHost({ out: d, processes: 60, seed: 3 });
    const t2 = await generateHost({ out: d, processes: 40, seed: 4 });
    expect(t2.processes.length).toBe(40);
    const pidDirs = fs.readdirSync(d).filter((e) => /^\d+$/.test(e));
    expect(pidDirs.length).toBe(40);
    expect((await readTruth(d)).seed).toBe(4);
    expect(t1.seed).toBe(3);
    rmTmp(d);
  });

  it('handles tiny hosts', async () => {
    const d = path.join(tmp, 'tiny');
    for (const n of [1, 2, 5]) {
      const t = await generateHost({ out: d, processes: n, seed: n });
      expect(t.processes.length).toBe(n);
      const b = new ProcfsReader({ procRoot: d }).scan();
      expect(b.count).toBe(n);
      const init = Array.from(b.pid.subarray(0, b.count)).indexOf(1);
      expect(init).toBeGreaterThanOrEqual(0);
      expect(b.flags[init] & FLAG_KERNEL_THREAD).toBe(0);
    }
    rmTmp(d);
  });
});
