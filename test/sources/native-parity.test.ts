/**
 * The native backend reads the same values as the TypeScript reader, field
 * by field, on synthetic trees: odd comm names, pid reuse after a
 * `synth advance`, vanished processes, missing and denied files, truncated
 * and garbage `stat` lines, and the tier-aware `detail` scan.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceHost, generateHost, type SynthTruth } from '../../src/harness/synth/index.js';
import { FLAG_DETAIL, FLAG_NEW_IDENTITY, type ProcessBatch } from '../../src/sources/batch.js';
import type { NativeScanner } from '../../src/sources/native/scanner.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import { expectBatchMatchesTruth, mkTmp, rmTmp, rowsByPid } from '../helpers/synth.js';
import {
  batchJson,
  expectSameBatch,
  hasNative,
  IO,
  openNative,
  requireNativeAddon,
  STATUS,
  scanInChild,
  statLine,
  writeProc,
} from './native-helpers.js';

requireNativeAddon();

let tmp: string;
beforeAll(() => {
  tmp = mkTmp('nrdot-native-parity-');
});
afterAll(() => rmTmp(tmp));

/** Replace the comm of a process in its stat file (bytes, so invalid UTF-8 can go in). */
function setComm(root: string, pid: number, comm: Buffer): void {
  const file = path.join(root, String(pid), 'stat');
  const raw = fs.readFileSync(file);
  const open = raw.indexOf(0x28);
  const close = raw.lastIndexOf(0x29);
  fs.writeFileSync(file, Buffer.concat([raw.subarray(0, open + 1), comm, raw.subarray(close)]));
}

describe.skipIf(!hasNative)('native backend on synthetic trees', () => {
  let root: string;
  let truth: SynthTruth;
  let ts: ProcfsReader;
  let nat: NativeScanner;

  beforeAll(async () => {
    root = path.join(tmp, 'host');
    truth = await generateHost({ out: root, processes: 700, seed: 11 });
    ts = new ProcfsReader({ procRoot: root });
    nat = openNative(root);
  });
  afterAll(() => nat?.close());

  it('matches the generator ground truth', async () => {
    const fresh = openNative(root);
    try {
      expectBatchMatchesTruth(await fresh.scan(), truth);
    } finally {
      fresh.close();
    }
  });

  it('first scan: same rows, values, names, command lines and executables as the TypeScript reader', async () => {
    expectSameBatch(ts.scan(), await nat.scan(), 'first scan');
  });

  it('steady state: no fresh rows, values still equal, stat fds kept', async () => {
    const a = ts.scan();
    const b = await nat.scan();
    expect(b.freshRows.length).toBe(0);
    expectSameBatch(a, b, 'second scan');
    expect(nat.lastScan!.keptFds).toBeGreaterThanOrEqual(b.count);
    expect(nat.lastScan!.opened).toBe(0);
  });

  it('after synth advance (churn with a reused pid, files replaced by rename): still equal', async () => {
    const adv = await advanceHost({ dir: root, seconds: 30, anomalies: 4, churn: 0.05 });
    expect(adv.exited.length).toBeGreaterThan(0);
    const a = ts.scan();
    const b = await nat.scan();
    expectSameBatch(a, b, 'after advance');
    expect(b.freshRows.length).toBeGreaterThan(0);
    // every process's stat file was replaced: the kept fds were all reopened
    expect(nat.lastScan!.reopened).toBeGreaterThan(0);
    expectBatchMatchesTruth(b, adv);
  });

  it('detail only for listed pids (and new identities): same rows and the same unknowns', async () => {
    const listed = truth.processes.filter((_, i) => i % 7 === 0).map((p) => p.pid);
    await advanceHost({ dir: root, seconds: 10, churn: 0.02 });
    const a = ts.scan({ detail: listed });
    const b = await nat.scan({ detail: Int32Array.from(listed) });
    expectSameBatch(a, b, 'detail scan');
    const want = new Set(listed);
    for (let i = 0; i < b.count; i++) {
      const detailed = (b.flags[i]! & FLAG_DETAIL) !== 0;
      const fresh = (b.flags[i]! & FLAG_NEW_IDENTITY) !== 0;
      expect(detailed, `pid ${b.pid[i]}`).toBe(fresh || want.has(b.pid[i]!));
      if (!detailed) expect([b.uid[i], b.fds[i], b.readBytes[i], b.volCtx[i]]).toEqual([-1, -1, -1, -1]);
    }
  });
});

describe.skipIf(!hasNative)('native backend on odd and broken processes', () => {
  let root: string;
  const GOOD = 900_000;
  const odd: Record<number, Buffer> = {};
  const broken: Record<number, Buffer | string> = {};

  beforeAll(async () => {
    root = path.join(tmp, 'odd');
    const truth = await generateHost({ out: root, processes: 150, seed: 3 });
    const users = truth.processes.filter((p) => !p.kernel && p.pid > 2);
    const names = ['tmux: server', 'weird) (name', ') ) )', '(sd-pam)', '', 'ñandú ☃', '🙂 emoji', 'tab\there'].map(
      (s) => Buffer.from(s),
    );
    // truncated UTF-8 (the kernel cuts comm at 15 bytes), a lone continuation byte, latin1
    names.push(Buffer.from([0x61, 0xe2, 0x82]), Buffer.from([0x80, 0x41]), Buffer.from([0xe9, 0x74, 0xe9]));
    names.forEach((n, i) => {
      setComm(root, users[i]!.pid, n);
      odd[users[i]!.pid] = n;
    });
    // Processes written by hand: valid but unusual lines the two parsers must read alike.
    const unusual: (string | Buffer)[] = [
      statLine(GOOD, 'spaces', { 1: '  1' }).toString().replace(') S', ')  S'), // runs of spaces
      statLine(GOOD + 1, 'neg', { 1: '-5', 17: '-1' }), // negative numbers
      statLine(GOOD + 2, 'big', { 20: '123456789012345678901', 11: '9007199254740993' }), // > 2^53
      statLine(GOOD + 3, 'old', {})
        .toString()
        .split(' ')
        .slice(0, 26)
        .join(' '), // no delay-acct field
      statLine(GOOD + 4, 'nonl', {})
        .toString()
        .trimEnd(), // no newline
      statLine(GOOD + 5, 'blk', { 39: 'x' }), // unparsable field 42: 0
      statLine(GOOD + 6, 'st', { 0: 'é' }), // non-ASCII state
      Buffer.concat([Buffer.from(`${GOOD + 7}é(x)`), statLine(GOOD + 7, 'x').subarray(String(GOOD + 7).length + 5)]),
      Buffer.concat([Buffer.from(`${GOOD + 8} (x)🙂S`), statLine(GOOD + 8, 'x').subarray(String(GOOD + 8).length + 6)]),
      statLine(GOOD + 9, 'kthr', { 6: String(0x00200040) }), // PF_KTHREAD
    ];
    unusual.forEach((line, i) => {
      writeProc(root, GOOD + i, {
        stat: line,
        status: STATUS,
        io: IO,
        cmdline: Buffer.from(`/bin/x\0--flag\0\0`),
        exe: '/bin/x',
        fds: i,
      });
    });
    // Broken: skipped and counted the same way.
    const bad: (string | Buffer)[] = [
      '',
      'garbage',
      `${GOOD + 22} (x) S 1 2 3`,
      statLine(GOOD + 23, 'trunc').subarray(0, 60),
      statLine(GOOD + 24, 'x', { 11: '2x0' }),
      statLine(GOOD + 25, 'x')
        .toString()
        .replace(String(GOOD + 25), 'abc'),
      `${GOOD + 26} (no close paren S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 1 1`,
      statLine(GOOD + 27, 'x')
        .toString()
        .replace(' 98765 ', ' 98765\n'), // line cut before rss
      Buffer.from([0xff, 0xfe, 0x00, 0x01]),
    ];
    bad.forEach((line, i) => {
      const pid = GOOD + 20 + i;
      broken[pid] = line;
      writeProc(root, pid, { stat: line, status: STATUS, io: IO, cmdline: 'x\0', fds: 1 });
    });
    // Missing pieces: only stat (status, io, fd/, cmdline, exe absent) -> unknowns.
    writeProc(root, GOOD + 40, { stat: statLine(GOOD + 40, 'bare') });
    // Vanished: listed, but no stat (a pid directory being torn down).
    writeProc(root, GOOD + 41, {});
    fs.symlinkSync('/nonexistent/stat', path.join(writeProc(root, GOOD + 42, {}), 'stat'));
    // Unexpected errors: stat or status is a directory (EISDIR) -> malformed.
    fs.mkdirSync(path.join(writeProc(root, GOOD + 43, {}), 'stat'));
    fs.mkdirSync(path.join(writeProc(root, GOOD + 44, { stat: statLine(GOOD + 44, 'x'), io: IO, fds: 1 }), 'status'));
    // Not pids: ignored by both.
    for (const name of ['0', '01', 'self', '12a', 'sys']) fs.mkdirSync(path.join(root, name), { recursive: true });
  });

  it('reads odd comm names exactly as the TypeScript reader decodes them', async () => {
    const nat = openNative(root);
    try {
      const a = new ProcfsReader({ procRoot: root }).scan();
      const b = await nat.scan();
      expectSameBatch(a, b, 'odd');
      const rows = rowsByPid(b);
      expect(rows.get(Number(Object.keys(odd)[1]))!.name).toBe('weird) (name');
      expect(rows.get(Number(Object.keys(odd)[5]))!.name).toBe('ñandú ☃');
    } finally {
      nat.close();
    }
  });

  it('skips and counts truncated and garbage stat lines, vanished and broken processes the same way', async () => {
    const nat = openNative(root);
    try {
      const a = new ProcfsReader({ procRoot: root }).scan();
      const b = await nat.scan();
      expectSameBatch(a, b, 'broken');
      const rows = rowsByPid(b);
      for (const pid of Object.keys(broken)) expect(rows.has(Number(pid)), `pid ${pid}`).toBe(false);
      // 9 garbage lines + EISDIR on stat + EISDIR on status
      expect(b.counters.malformed).toBe(Object.keys(broken).length + 2);
      expect(b.counters.vanished).toBe(2);
      for (let i = 0; i < 10; i++) expect(rows.has(GOOD + i), `unusual ${GOOD + i}`).toBe(true);
      const bare = rows.get(GOOD + 40)!;
      expect(bare.cmdline).toBe('');
      expect(bare.exe).toBe('');
      expect([b.uid[bare.row], b.volCtx[bare.row], b.readBytes[bare.row], b.fds[bare.row]]).toEqual([-1, -1, -1, -1]);
    } finally {
      nat.close();
    }
  });

  it('denied files are unknown and counted the same way (root runs without CAP_DAC_*)', async () => {
    const procs = fs
      .readdirSync(root)
      .filter((n) => /^[1-9][0-9]*$/.test(n) && Number(n) < GOOD)
      .map(Number)
      .sort((x, y) => x - y)
      .slice(20, 26);
    const targets = [
      path.join(root, String(procs[0]), 'io'),
      path.join(root, String(procs[1]), 'status'),
      path.join(root, String(procs[2]), 'fd'),
      path.join(root, String(procs[3]), 'cmdline'),
      path.join(root, String(procs[4])), // the whole directory: stat denied -> skipped
    ];
    const modes = targets.map((t) => fs.statSync(t).mode & 0o777);
    for (const t of targets) fs.chmodSync(t, 0o000);
    let out: Awaited<ReturnType<typeof scanInChild>>;
    try {
      const wrap = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : [];
      out = await scanInChild(root, 2, wrap);
    } finally {
      targets.forEach((t, i) => {
        fs.chmodSync(t, modes[i]!);
      });
    }
    expect(out.native).toHaveLength(2);
    for (let s = 0; s < 2; s++) expectSameBatch(out.ts[s]!, out.native[s]!, `denied scan ${s + 1}`);
    const first = out.native[0]!;
    expect(first.counters.denied).toBeGreaterThanOrEqual(5);
    const byPid = new Map(first.rows.map((r) => [r.pid, r]));
    expect(byPid.get(procs[0]!)!.values.readBytes).toBe(-1);
    expect(byPid.get(procs[1]!)!.values.uid).toBe(-1);
    expect(byPid.get(procs[2]!)!.values.fds).toBe(-1);
    expect(byPid.get(procs[3]!)!.fresh!.cmdline).toBe('');
    expect(byPid.has(procs[4]!)).toBe(false);
  });
});

describe.skipIf(!hasNative)('native backend within a small fd budget', () => {
  it('a scanner capped at 5 kept fds reads the rest the slow way with the same result', async () => {
    const root = path.join(tmp, 'budget');
    await generateHost({ out: root, processes: 120, seed: 9 });
    const full = openNative(root);
    const capped = openNative(root, { maxKeptFds: 5 });
    try {
      const results: ProcessBatch[] = [];
      for (let s = 0; s < 2; s++) {
        results.push(await full.scan(), await capped.scan());
        expectSameBatch(results[results.length - 2]!, results[results.length - 1]!, `scan ${s + 1}`);
      }
      expect(capped.lastScan!.keptFds).toBe(5);
      expect(capped.lastScan!.opened).toBeGreaterThanOrEqual(115);
      expect(full.lastScan!.keptFds).toBe(4 * 120); // stat, status, io and fd/ of each
      expect(batchJson(results[3]!).rows.length).toBe(120);
    } finally {
      full.close();
      capped.close();
    }
  });
});
