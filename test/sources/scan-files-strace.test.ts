/**
 * "A file read only for disabled metrics is not opened", checked on the
 * system calls themselves: a child scans a synthetic tree under
 * `strace -f -y` and every open, read, pread, getdents, lseek and close of a
 * per-process file is counted between marks. With `files` none, a known
 * process's status, io and fd/ are not touched (the native scanner's kept
 * fds of them are closed, once); a new one still reads status and cmdline;
 * with cgroup off no cgroup file is opened.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { REPO } from '../helpers/cli.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';
import { hasNative, requireNativeAddon } from './native-helpers.js';
import { expectedCgroup, writeCgroups } from './scan-files-helpers.js';

requireNativeAddon();

const hasStrace = spawnSync('strace', ['-f', '-o', '/dev/null', 'true']).status === 0;
if (!hasStrace)
  console.warn(
    'skipping the strace checks: strace is not installed or cannot trace (apt-get install strace; .ci/run installs it)',
  );

const CHILD = path.join(REPO, 'test', 'sources', 'strace-child.mjs');
const FILES = ['stat', 'status', 'io', 'fd', 'cmdline', 'cgroup'] as const;
type File = (typeof FILES)[number];
type Use = 'open' | 'read' | 'close';
type Counts = Record<File, Record<Use, number>>;

const USE: Record<string, Use> = {
  openat: 'open',
  read: 'read',
  pread64: 'read',
  getdents64: 'read',
  lseek: 'read',
  close: 'close',
};
// a per-process file of the tree: "<pid>/<file>" in a path or an fd annotation
const FILE_RE = /[/"]([1-9][0-9]*)\/(stat|status|io|fd|cmdline|cgroup)(?=["> ,)])/;
const MARK_RE = /\/nrdot-strace-mark-(\d)/;

/** Per segment between marks: how each per-process file was used. */
function segments(trace: string): Counts[] {
  const out: Counts[] = [];
  let cur: Counts | undefined;
  for (const line of trace.split('\n')) {
    if (MARK_RE.test(line)) {
      cur = Object.fromEntries(FILES.map((f) => [f, { open: 0, read: 0, close: 0 }])) as Counts;
      out.push(cur);
      continue;
    }
    if (!cur || line.includes('resumed>')) continue;
    const call = /^(?:\[pid\s+\d+\]\s+|\d+\s+)?(\w+)\(/.exec(line)?.[1];
    const use = call ? USE[call] : undefined;
    const m = FILE_RE.exec(line);
    if (use && m) cur[m[2] as File][use]++;
  }
  return out;
}

function traced(root: string, backend: string, env: Record<string, string>): Promise<{ trace: string; out: string }> {
  const file = path.join(path.dirname(root), `trace-${backend}.txt`);
  const argv = ['-f', '-y', '-e', 'trace=openat,read,pread64,getdents64,lseek,close', '-o', file];
  return new Promise((resolve, reject) => {
    const child = spawn('strace', [...argv, process.execPath, CHILD, root, backend], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`strace child exited ${code}: ${err}`));
      else resolve({ trace: fs.readFileSync(file, 'utf8'), out });
    });
  });
}

describe.skipIf(!hasStrace)('what a scan opens, seen by strace', () => {
  let tmp: string;
  let root: string;
  let pids: number[];
  const PROCESSES = 120;
  beforeAll(async () => {
    tmp = mkTmp('nrdot-scan-strace-');
    root = path.join(tmp, 'host');
    const truth = await generateHost({ out: root, processes: PROCESSES, seed: 43 });
    writeCgroups(root);
    pids = truth.processes.map((p) => p.pid);
  });
  afterAll(() => rmTmp(tmp));

  for (const backend of hasNative ? ['native', 'ts'] : ['ts']) {
    it(`${backend}: files none opens no status, io or fd/ of known processes; a new one reads status and cmdline only`, async () => {
      // the copied process is fresh in scan 3 (a new pid); its source has a readable cgroup file
      const from = pids.find((p) => expectedCgroup(p) !== null)!;
      const freshPid = 990_000 + (backend === 'native' ? 1 : 2);
      const { trace, out } = await traced(root, backend, {
        NRDOT_FRESH_FROM: String(from),
        NRDOT_FRESH_PID: String(freshPid),
      });
      const r = JSON.parse(out) as { counts: number[]; fresh3: number };
      const n = r.counts[0]!;
      expect(r.counts).toEqual([n, n, n + 1, n + 1]);
      expect(r.fresh3).toBe(1);
      const seg = segments(trace);
      expect(seg).toHaveLength(6);
      // segment 2 is the copy that makes the new process
      const [first, none, , fresh, all] = seg as [Counts, Counts, Counts, Counts, Counts];
      // scan 1 (every identity new): every file opened for every process
      for (const f of ['status', 'io', 'fd', 'cmdline', 'cgroup'] as const) expect(first[f].open, `first ${f}`).toBe(n);
      // scan 2, files none: status, io, fd/, cmdline and cgroup are neither opened nor read
      for (const f of ['status', 'io', 'fd', 'cmdline', 'cgroup'] as const) {
        expect([none[f].open, none[f].read], `files none: ${f}`).toEqual([0, 0]);
      }
      expect(none.stat.read, 'stat is still read').toBeGreaterThanOrEqual(n);
      // the native scanner kept status, io and fd/ open after scan 1: now closed, once each
      const closed = backend === 'native' ? n : 0;
      for (const f of ['status', 'io', 'fd'] as const) expect(none[f].close, `files none: ${f} closed`).toBe(closed);
      // scan 3, files none, cgroup off, one new process: its status and cmdline only
      expect([fresh.status.open, fresh.cmdline.open], 'new process').toEqual([1, 1]);
      for (const f of ['io', 'fd', 'cgroup'] as const) expect([fresh[f].open, fresh[f].read], f).toEqual([0, 0]);
      // scan 4, every file again: status, io and fd/ of every process opened again
      for (const f of ['status', 'io', 'fd'] as const) expect(all[f].open, `all again: ${f}`).toBe(n + 1);
      expect([all.cmdline.open, all.cgroup.open], 'no new identities').toEqual([0, 0]);
    });
  }
});
