/**
 * Scan benchmark: per-process cost of the native scanner, the TypeScript
 * reader and a minimal C loop (bench/scanfloor.c, compiled here with cc -O2)
 * that reads the same files the same way, on synthetic hosts and on the real
 * /proc with extra real processes; and `ps` (and Prometheus
 * process-exporter when installed) on the real /proc. Every figure is a
 * median of interleaved runs in this one process, printed with its ratio.
 *
 *   npm run bench:scan [-- --sizes 1000,10000,100000 --rounds 3 --per-round 5 --sleepers 2000
 *                          --sections synthetic,bounded,files,real --files-size 10000]
 *
 * "steady" = the steady-state scan: `stat` only for known processes (a scan
 * with an empty detail set). "full" = stat, status, io and the fd count of
 * every process (`nrdot scan --full`). Synthetic trees live on tmpfs, where
 * files are replaced by rename, so every reader there (the C loop included)
 * checks a kept fd with fstat(); on procfs nothing needs that check.
 *
 * "Bounded discovery" compares full scans with and without a bound that
 * leaves out half the processes (ScanOptions.bounds): per LISTED process,
 * so the saving is what an excluded process no longer costs (everything but
 * its `stat`).
 *
 * "File mask and cgroup" (section `files`): steady scans where every process
 * is a detail row, with every file (`status`, `io`, `fd/`) against
 * `files: {status: false, io: true, fds: false}` (what the hostmetrics
 * default metric set needs beyond `stat`), and first scans (every identity
 * new) with and without the `cgroup` read, at --files-size synthetic
 * processes (each with a cgroup file) and on the real /proc with the
 * sleepers. Each configuration gets its own scanner per round (warmed by one
 * scan, closed after), so no two share the kept-fd budget.
 */
import { execFileSync, type SpawnSyncReturns, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateHost } from '../src/harness/synth/index.js';
import type { ProcessBatch } from '../src/sources/batch.js';
import type { ScanBounds } from '../src/sources/bounds.js';
import { loadAddon } from '../src/sources/native/loader.js';
import { NativeScanner } from '../src/sources/native/scanner.js';
import { ProcfsReader } from '../src/sources/procfs/reader.js';
import type { ScanFiles, ScanOptions } from '../src/sources/scanner.js';
import { fastTmpDir } from '../src/util/tmp.js';
import { compileFloor } from './floor.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const sizes = arg('sizes', '1000,10000').split(',').map(Number);
const rounds = Number(arg('rounds', '3'));
const perRound = Number(arg('per-round', '5'));
const sleepers = Number(arg('sleepers', '2000'));
const sections = new Set(arg('sections', 'synthetic,bounded,files,real').split(','));
const filesSize = Number(arg('files-size', '10000'));
const NO_DETAIL = new Int32Array(0);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const us = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

/** Per-process µs of each scan of `n` scans, skipping nothing (callers warm up first). */
type Sampler = (n: number) => Promise<number[]>;

function floorSampler(bin: string, root: string, mode: 'stat' | 'full', fstatCheck: boolean): Sampler {
  return async (n) => {
    // one warm-up iteration inside the same process opens the kept fds
    const out = execFileSync(bin, [root, mode, String(n + 1), fstatCheck ? '1' : '0'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => {
        const [procs, ns] = l.split(' ').map(Number);
        return ns! / 1000 / procs!;
      });
  };
}

function scannerSampler(scan: () => ProcessBatch | Promise<ProcessBatch>): Sampler {
  return async (n) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const b = await scan();
      out.push(((performance.now() - t0) * 1000) / b.count);
    }
    return out;
  };
}

/** Median per-process µs of each sampler, run in interleaved rounds. */
async function measure(samplers: Record<string, Sampler>): Promise<Record<string, number>> {
  const got: Record<string, number[]> = {};
  for (const k of Object.keys(samplers)) got[k] = [];
  for (let r = 0; r < rounds; r++) {
    for (const [k, s] of Object.entries(samplers)) got[k]!.push(...(await s(perRound)));
  }
  return Object.fromEntries(Object.entries(got).map(([k, v]) => [k, median(v)]));
}

/**
 * The TypeScript reader and (when it loads) the native scanner on `root`,
 * steady (`stat` only) or full, interleaved with the given C-loop samplers.
 * Each scanner is warmed by one full scan first and closed after.
 */
async function measureGroup(
  root: string,
  steadyScan: boolean,
  extra: Record<string, Sampler>,
): Promise<Record<string, number | undefined>> {
  const opts = steadyScan ? { detail: NO_DETAIL } : {};
  const ts = new ProcfsReader({ procRoot: root });
  ts.scan();
  const nat = native ? new NativeScanner(native, { procRoot: root }) : undefined;
  await nat?.scan();
  const samplers: Record<string, Sampler> = { ...extra, ts: scannerSampler(() => ts.scan(opts)) };
  if (nat) samplers.nat = scannerSampler(() => nat.scan(opts));
  try {
    return await measure(samplers);
  } finally {
    nat?.close();
  }
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'cpu';
  const limits = native ? native.limits() : undefined;
  return (
    `node ${process.version}, ${os.cpus().length} x ${cpu}, Linux ${os.release()}` +
    (limits ? `, RLIMIT_NOFILE ${limits.soft}/${limits.hard} (kept-fd budget ${limits.budget})` : '')
  );
}

const load = loadAddon();
const native = load.ok ? load.addon : undefined;

async function synthetic(bin: string, tmp: string): Promise<void> {
  console.log('\n## Synthetic hosts (tmpfs)\n');
  console.log(
    '| processes | scan | C loop µs/proc | native µs/proc | TypeScript µs/proc | native / C loop | TypeScript / native |',
  );
  console.log('|---|---|---|---|---|---|---|');
  const notes: string[] = [];
  for (const n of sizes) {
    const root = path.join(tmp, `host-${n}`);
    const g0 = performance.now();
    await generateHost({ out: root, processes: n, seed: 1 });
    notes.push(`${n} processes written in ${((performance.now() - g0) / 1000).toFixed(1)} s`);
    // Steady and full are measured apart, each with its own warmed scanner
    // (closed after), so one never inherits or evicts the other's kept fds.
    const steady = await measureGroup(root, true, {
      c: floorSampler(bin, root, 'stat', true),
      cNoCheck: floorSampler(bin, root, 'stat', false),
    });
    const full = await measureGroup(root, false, { c: floorSampler(bin, root, 'full', true) });
    const m = {
      cSteady: steady.c,
      cSteadyNoCheck: steady.cNoCheck,
      tsSteady: steady.ts,
      natSteady: steady.nat,
      cFull: full.c,
      tsFull: full.ts,
      natFull: full.nat,
    };
    const row = (kind: string, c: number, nv: number | undefined, t: number) =>
      console.log(
        `| ${n} | ${kind} | ${us(c)} | ${nv === undefined ? 'n/a' : us(nv)} | ${us(t)} | ${nv === undefined ? 'n/a' : ratio(nv, c)} | ${nv === undefined ? 'n/a' : ratio(t, nv)} |`,
      );
    row('steady (stat only)', m.cSteady!, m.natSteady, m.tsSteady!);
    row('full (stat, status, io, fd/)', m.cFull!, m.natFull, m.tsFull!);
    notes.push(
      `${n}: C loop steady without the fstat check ${us(m.cSteadyNoCheck!)} µs/proc` +
        (m.natSteady ? ` (native / that: ${ratio(m.natSteady, m.cSteadyNoCheck!)})` : ''),
    );
    fs.rmSync(root, { recursive: true, force: true });
  }
  for (const l of notes) console.log(`- ${l}`);
}

/** Per-listed-process µs (rows may be fewer than listed when bounds exclude some). */
function listedSampler(listed: number, scan: () => ProcessBatch | Promise<ProcessBatch>): Sampler {
  return async (n) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await scan();
      out.push(((performance.now() - t0) * 1000) / listed);
    }
    return out;
  };
}

async function bounded(tmp: string): Promise<void> {
  const n = Math.min(10_000, Math.max(...sizes));
  const root = path.join(tmp, `bounded-${n}`);
  await generateHost({ out: root, processes: n, seed: 2 });
  const probe = new ProcfsReader({ procRoot: root }).scan();
  const rss = Array.from(probe.rssBytes.subarray(0, probe.count)).sort((a, b) => a - b);
  const bounds: ScanBounds = { minRssBytes: rss[Math.floor(rss.length / 2)]! };
  const ts = new ProcfsReader({ procRoot: root });
  const tsB = new ProcfsReader({ procRoot: root });
  const nat = native ? new NativeScanner(native, { procRoot: root }) : undefined;
  const natB = native ? new NativeScanner(native, { procRoot: root }) : undefined;
  ts.scan();
  const rows = tsB.scan({ bounds }).count;
  await nat?.scan();
  await natB?.scan({ bounds });
  const samplers: Record<string, Sampler> = {
    ts: listedSampler(n, () => ts.scan()),
    tsB: listedSampler(n, () => tsB.scan({ bounds })),
  };
  if (nat && natB) {
    samplers.nat = listedSampler(n, () => nat.scan());
    samplers.natB = listedSampler(n, () => natB.scan({ bounds }));
  }
  try {
    const m = await measure(samplers);
    console.log(`\n## Bounded discovery: ${n} processes (tmpfs), full scans, min RSS = the median\n`);
    console.log('| scan | rows | native µs/listed process | TypeScript µs/listed process |');
    console.log('|---|---|---|---|');
    const nv = (v: number | undefined) => (v === undefined ? 'n/a' : us(v));
    console.log(`| unbounded | ${n} | ${nv(m.nat)} | ${us(m.ts!)} |`);
    console.log(`| bounded | ${rows} | ${nv(m.natB)} | ${us(m.tsB!)} |`);
    console.log(
      `\nbounded / unbounded: native ${m.nat && m.natB ? ratio(m.natB, m.nat) : 'n/a'}, TypeScript ${ratio(m.tsB!, m.ts!)}`,
    );
  } finally {
    nat?.close();
    natB?.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

type AnyScanner = { scan(o?: ScanOptions): ProcessBatch | Promise<ProcessBatch>; close(): void };

/**
 * Steady scans of a fresh scanner per round: opened, warmed by one scan with
 * the same options (every identity read), `perRound` timed scans, closed.
 */
function steadySampler(open: () => AnyScanner, opts: ScanOptions): Sampler {
  return async (n) => {
    const s = open();
    try {
      await s.scan(opts);
      return await scannerSampler(() => s.scan(opts))(n);
    } finally {
      s.close();
    }
  };
}

/** First scans: a new scanner for each, closed after. */
function firstSampler(open: () => AnyScanner, opts: ScanOptions): Sampler {
  return async (n) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = open();
      try {
        out.push(...(await scannerSampler(() => s.scan(opts))(1)));
      } finally {
        s.close();
      }
    }
    return out;
  };
}

const HOSTMETRICS_FILES: ScanFiles = { status: false, io: true, fds: false };

/** The samplers of the files section for one tree, both backends. */
function filesSamplers(root: string): { steady: Record<string, Sampler>; first: Record<string, Sampler> } {
  const openTs = () => new ProcfsReader({ procRoot: root });
  const openNat = native ? () => new NativeScanner(native, { procRoot: root }) : undefined;
  const steady: Record<string, Sampler> = {
    tsAll: steadySampler(openTs, {}),
    tsIo: steadySampler(openTs, { files: HOSTMETRICS_FILES }),
    tsStat: steadySampler(openTs, { detail: NO_DETAIL }),
  };
  const first: Record<string, Sampler> = {
    tsCg: firstSampler(openTs, {}),
    tsNoCg: firstSampler(openTs, { cgroup: false }),
  };
  if (openNat) {
    steady.natAll = steadySampler(openNat, {});
    steady.natIo = steadySampler(openNat, { files: HOSTMETRICS_FILES });
    steady.natStat = steadySampler(openNat, { detail: NO_DETAIL });
    first.natCg = firstSampler(openNat, {});
    first.natNoCg = firstSampler(openNat, { cgroup: false });
  }
  return { steady, first };
}

function printFiles(where: string, procs: number, steady: Record<string, number>, first: Record<string, number>): void {
  const nv = (v: number | undefined) => (v === undefined ? 'n/a' : us(v));
  const rel = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? 'n/a' : ratio(a, b);
  console.log(`\n## File mask and cgroup: ${where}, ${procs} processes\n`);
  console.log('| scan | native µs/proc | TypeScript µs/proc | native vs every file | TypeScript vs every file |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| steady, every process a detail row, every file (stat, status, io, fd/) | ${nv(steady.natAll)} | ${nv(steady.tsAll)} | 1.00x | 1.00x |`,
  );
  console.log(
    `| steady, every process a detail row, \`files: {status: false, io: true, fds: false}\` (stat, io) | ${nv(steady.natIo)} | ${nv(steady.tsIo)} | ${rel(steady.natIo, steady.natAll)} | ${rel(steady.tsIo, steady.tsAll)} |`,
  );
  console.log(
    `| steady, stat only (detail: []) | ${nv(steady.natStat)} | ${nv(steady.tsStat)} | ${rel(steady.natStat, steady.natAll)} | ${rel(steady.tsStat, steady.tsAll)} |`,
  );
  console.log('\n| first scan (every identity new) | native µs/proc | TypeScript µs/proc |');
  console.log('|---|---|---|');
  console.log(`| with cgroup (default) | ${nv(first.natCg)} | ${nv(first.tsCg)} |`);
  console.log(`| \`cgroup: false\` | ${nv(first.natNoCg)} | ${nv(first.tsNoCg)} |`);
  console.log(
    `\ncgroup read, per new process: native ${first.natCg !== undefined && first.natNoCg !== undefined ? us(first.natCg - first.natNoCg) : 'n/a'} µs, TypeScript ${us(first.tsCg! - first.tsNoCg!)} µs`,
  );
}

async function filesAndCgroup(tmp: string): Promise<void> {
  const n = filesSize;
  const root = path.join(tmp, `files-${n}`);
  await generateHost({ out: root, processes: n, seed: 3 });
  // the generator writes no cgroup files: one cgroup v2 line per process, as on a systemd host
  for (const name of fs.readdirSync(root)) {
    if (/^[1-9][0-9]*$/.test(name))
      fs.writeFileSync(path.join(root, name, 'cgroup'), `0::/system.slice/svc-${Number(name) % 50}.service\n`);
  }
  try {
    const s = filesSamplers(root);
    const steady = await measure(s.steady);
    const first = await measure(s.first);
    printFiles('synthetic host (tmpfs)', n, steady, first);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const cleanup = await startSleepers(sleepers);
  try {
    const procs = new ProcfsReader().scan().count;
    const s = filesSamplers('/proc');
    const steady = await measure(s.steady);
    const first = await measure(s.first);
    printFiles(`real /proc with ${sleepers} extra sleeping processes`, procs, steady, first);
  } finally {
    cleanup();
  }
}

/** Start `count` sleeping processes in one process group; returns a cleanup. */
async function startSleepers(count: number): Promise<() => void> {
  const child = spawn('bash', ['-c', `for i in $(seq ${count}); do sleep 3600 & done; wait`], {
    detached: true,
    stdio: 'ignore',
  });
  const pgid = child.pid!;
  const cleanup = () => {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  process.once('exit', cleanup);
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const want = count + 1;
  for (let i = 0; i < 600; i++) {
    const r = spawnSync('pgrep', ['-g', String(pgid), '-c'], { encoding: 'utf8' });
    if (Number(r.stdout.trim()) >= want) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return cleanup;
}

function timeCommand(cmd: string, args: string[]): { ms: number; out: SpawnSyncReturns<string> } {
  const t0 = performance.now();
  const out = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20 });
  return { ms: performance.now() - t0, out };
}

function which(cmd: string): string | undefined {
  const r = spawnSync('bash', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/**
 * Prometheus process-exporter, one group per process name (so it reads every
 * process), smaps and per-thread metrics off (nrdot reads neither); each
 * scrape reads /proc again. Median µs per process of timed scrapes.
 */
async function processExporter(exe: string, procs: number): Promise<{ usPerProcess: number; flags: string }> {
  const dir = fastTmpDir('nrdot-pe-');
  const cfg = path.join(dir, 'pe.yaml');
  fs.writeFileSync(cfg, "process_names:\n  - name: '{{.Comm}}'\n    cmdline:\n      - '.*'\n");
  const port = 19000 + Math.floor(Math.random() * 5000);
  const flags = '-gather-smaps=false -threads=false';
  const child = spawn(
    exe,
    [`-config.path=${cfg}`, `-web.listen-address=127.0.0.1:${port}`, '-gather-smaps=false', '-threads=false'],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${port}/metrics`;
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await (await fetch(url)).text();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const xs: number[] = [];
    for (let i = 0; i < rounds * perRound; i++) {
      const t0 = performance.now();
      await (await fetch(url)).text();
      xs.push(((performance.now() - t0) * 1000) / procs);
    }
    return { usPerProcess: median(xs), flags };
  } finally {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function realProc(bin: string): Promise<void> {
  console.log(`\n## Real /proc with ${sleepers} extra sleeping processes\n`);
  const cleanup = await startSleepers(sleepers);
  try {
    const procs = new ProcfsReader().scan().count;
    const psArgs = ['-eo', 'pid,ppid,comm,rss,vsz,time,nlwp,stat,args'];
    const psSampler: Sampler = async (n) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const r = timeCommand('ps', psArgs);
        const lines = r.out.stdout.trim().split('\n').length - 1;
        out.push((r.ms * 1000) / lines);
      }
      return out;
    };
    const steady = await measureGroup('/proc', true, { c: floorSampler(bin, '/proc', 'stat', false), ps: psSampler });
    const full = await measureGroup('/proc', false, { c: floorSampler(bin, '/proc', 'full', false) });
    const m = {
      cSteady: steady.c,
      cFull: full.c,
      tsSteady: steady.ts,
      tsFull: full.ts,
      natSteady: steady.nat,
      natFull: full.nat,
      ps: steady.ps,
    };
    console.log(`${procs} processes listed.\n`);
    console.log('| reader | µs/process | native steady is faster by | native full is faster by |');
    console.log('|---|---|---|---|');
    const line = (name: string, v: number | undefined) =>
      console.log(
        `| ${name} | ${v === undefined ? 'n/a' : us(v)} | ${v === undefined || !m.natSteady ? 'n/a' : ratio(v, m.natSteady)} | ${v === undefined || !m.natFull ? 'n/a' : ratio(v, m.natFull)} |`,
      );
    line('C loop, steady (getdents64 + pread of kept stat fds)', m.cSteady);
    line('C loop, full (+ status, io, fd/)', m.cFull);
    line('native, steady (stat only)', m.natSteady);
    line('native, full', m.natFull);
    line('TypeScript, steady', m.tsSteady);
    line('TypeScript, full', m.tsFull);
    line(`\`ps ${psArgs.join(' ')}\``, m.ps);
    const exporter = which('prometheus-process-exporter') ?? which('process-exporter');
    if (!exporter) {
      console.log('\nprocess-exporter: skipped: prometheus-process-exporter not installed');
    } else {
      const pe = await processExporter(exporter, procs);
      line(`process-exporter (${pe.flags}), one scrape`, pe.usPerProcess);
    }
    if (m.natSteady && m.natFull) {
      console.log(
        `\nnative steady / C loop steady: ${ratio(m.natSteady, m.cSteady!)}; native full / C loop full: ${ratio(m.natFull, m.cFull!)}; ps / native full: ${ratio(m.ps!, m.natFull)}`,
      );
    }
  } finally {
    cleanup();
  }
}

async function main() {
  console.log(`# scan benchmark: ${machine()}`);
  console.log(
    `median per-process µs of ${rounds} interleaved rounds x ${perRound} scans, after a warm-up scan that opens the kept fds and reads every command line`,
  );
  if (!native) console.log(`native: skipped (${load.ok ? '' : load.reason})`);
  const tmp = fastTmpDir('nrdot-scan-bench-');
  try {
    const bin = compileFloor(tmp);
    if (sections.has('synthetic')) await synthetic(bin, tmp);
    if (sections.has('bounded')) await bounded(tmp);
    if (sections.has('files')) await filesAndCgroup(tmp);
    if (sections.has('real')) await realProc(bin);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
