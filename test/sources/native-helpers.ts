/**
 * Shared by the native-* tests: the addon (loud failure when it is missing,
 * unless NRDOT_ALLOW_NO_NATIVE=1), batch comparison field by field, and a
 * child process that scans with both backends and prints the batches.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ProcessBatch } from '../../src/sources/batch.js';
import { loadAddon } from '../../src/sources/native/loader.js';
import { NativeScanner, type NativeScannerOptions } from '../../src/sources/native/scanner.js';
import { REPO } from '../helpers/cli.js';

export const nativeLoad = loadAddon();
export const hasNative = nativeLoad.ok;
const allowMissing = process.env.NRDOT_ALLOW_NO_NATIVE === '1';

/**
 * One test that fails when the addon cannot load (CI builds it). Call it at
 * the top of each native test file, and guard the rest with
 * `describe.skipIf(!hasNative)`.
 */
export function requireNativeAddon(): void {
  describe('native addon', () => {
    it('is built and loads (NRDOT_ALLOW_NO_NATIVE=1 runs without it)', () => {
      if (nativeLoad.ok) return;
      if (!allowMissing) throw new Error(`native addon unavailable: ${nativeLoad.reason}`);
      console.warn(`native addon unavailable (allowed by NRDOT_ALLOW_NO_NATIVE=1): ${nativeLoad.reason}`);
    });
  });
}

export function openNative(procRoot: string, opts: Omit<NativeScannerOptions, 'procRoot'> = {}): NativeScanner {
  if (!nativeLoad.ok) throw new Error(nativeLoad.reason);
  const s = new NativeScanner(nativeLoad.addon, { procRoot, ...opts });
  s.validateRoot();
  return s;
}

export const NUMERIC_FIELDS = [
  'ppid',
  'startTicks',
  'utimeSec',
  'stimeSec',
  'iowaitSec',
  'rssBytes',
  'vsizeBytes',
  'threads',
  'fds',
  'state',
  'readBytes',
  'writeBytes',
  'minFaults',
  'majFaults',
  'volCtx',
  'involCtx',
  'uid',
  'flags',
] as const;

export interface RowJson {
  pid: number;
  values: Record<string, number>;
  fresh?: { name: string; cmdline: string; exe: string; cgroup: string };
}

export interface BatchJson {
  count: number;
  host: ProcessBatch['host'];
  counters: ProcessBatch['counters'];
  rows: RowJson[];
}

/** A batch as plain data keyed by pid (row order is not part of the contract). */
export function batchJson(b: ProcessBatch): BatchJson {
  const rows: RowJson[] = [];
  for (let i = 0; i < b.count; i++) {
    const values: Record<string, number> = {};
    for (const f of NUMERIC_FIELDS) values[f] = b[f][i]!;
    rows.push({ pid: b.pid[i]!, values });
  }
  for (let k = 0; k < b.freshRows.length; k++) {
    rows[b.freshRows[k]!]!.fresh = {
      name: b.freshName[k]!,
      cmdline: b.freshCmdline[k]!,
      exe: b.freshExe[k]!,
      cgroup: b.freshCgroup[k]!,
    };
  }
  rows.sort((x, y) => x.pid - y.pid);
  return { count: b.count, host: b.host, counters: b.counters, rows };
}

/** Both backends saw the same thing: same counters, host, rows, values and fresh strings. */
export function expectSameBatch(ts: ProcessBatch | BatchJson, native: ProcessBatch | BatchJson, label = ''): void {
  const a = 'rows' in ts ? ts : batchJson(ts);
  const b = 'rows' in native ? native : batchJson(native);
  expect(b.counters, `${label} counters`).toEqual(a.counters);
  expect(b.host, `${label} host`).toEqual(a.host);
  expect(b.count, `${label} count`).toBe(a.count);
  expect(
    b.rows.map((r) => r.pid),
    `${label} pids`,
  ).toEqual(a.rows.map((r) => r.pid));
  for (let i = 0; i < a.rows.length; i++) {
    expect(b.rows[i], `${label} pid ${a.rows[i]!.pid}`).toEqual(a.rows[i]);
  }
}

/** Write one process directory by hand (for odd and broken processes). */
export function writeProc(
  root: string,
  pid: number,
  files: {
    stat?: string | Buffer;
    status?: string;
    io?: string;
    cmdline?: string | Buffer;
    exe?: string;
    fds?: number;
  },
): string {
  const dir = path.join(root, String(pid));
  fs.mkdirSync(dir, { recursive: true });
  if (files.stat !== undefined) fs.writeFileSync(path.join(dir, 'stat'), files.stat);
  if (files.status !== undefined) fs.writeFileSync(path.join(dir, 'status'), files.status);
  if (files.io !== undefined) fs.writeFileSync(path.join(dir, 'io'), files.io);
  if (files.cmdline !== undefined) fs.writeFileSync(path.join(dir, 'cmdline'), files.cmdline);
  if (files.exe !== undefined) fs.symlinkSync(files.exe, path.join(dir, 'exe'));
  if (files.fds !== undefined) {
    fs.mkdirSync(path.join(dir, 'fd'));
    for (let i = 0; i < files.fds; i++) fs.symlinkSync('/dev/null', path.join(dir, 'fd', String(i)));
  }
  return dir;
}

/** A `stat` line in the kernel's format with the given comm (fields as on a 6.x kernel). */
export function statLine(pid: number, comm: string | Buffer, over: Partial<Record<number, string>> = {}): Buffer {
  // fields 3..52 of proc(5); index 0 here is field 3 (state)
  const f = [
    'S',
    '1',
    String(pid),
    String(pid),
    '0',
    '-1',
    '4194560',
    '1500',
    '0',
    '12',
    '0',
    '250',
    '130',
    '0',
    '0',
    '20',
    '0',
    '3',
    '0',
    '98765',
    '123456789',
    '2048',
    '18446744073709551615',
    '1',
    '1',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '17',
    '1',
    '0',
    '0',
    '33',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
    '0',
  ];
  for (const [k, v] of Object.entries(over)) f[Number(k)] = v as string;
  const c = typeof comm === 'string' ? Buffer.from(comm) : comm;
  return Buffer.concat([Buffer.from(`${pid} (`), c, Buffer.from(`) ${f.join(' ')}\n`)]);
}

export const STATUS =
  'Name:\tx\nUid:\t1000\t1000\t1000\t1000\nvoluntary_ctxt_switches:\t5\nnonvoluntary_ctxt_switches:\t6\n';
export const IO = 'rchar: 1\nwchar: 2\nread_bytes: 4096\nwrite_bytes: 8192\n';

const CHILD = path.join(REPO, 'test', 'sources', 'scan-child.mjs');

export interface ChildScan {
  limits: { soft: number; hard: number; budget: number; kept: number } | null;
  native: BatchJson[];
  nativeKept: number[];
  ts: BatchJson[];
}

/**
 * Scan `root` `scans` times with both backends in a child process. `wrap`
 * prefixes the command (setpriv, a shell with `ulimit -n`); `opts` are the
 * ScanOptions of every scan (JSON: no typed arrays).
 */
export function scanInChild(
  root: string,
  scans: number,
  wrap: string[] = [],
  opts: Record<string, unknown> = {},
): Promise<ChildScan> {
  const argv = [...wrap, process.execPath, CHILD, root, String(scans), JSON.stringify(opts)];
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
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
      if (code !== 0) reject(new Error(`scan child exited ${code}: ${err}`));
      else resolve(JSON.parse(out) as ChildScan);
    });
  });
}
