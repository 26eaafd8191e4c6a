/**
 * ScanOptions.files and ScanOptions.cgroup on both backends: every mask,
 * with cgroup reads on and off, on a synthetic tree whose cgroup files are
 * present (v2, v1, empty, no newline, invalid UTF-8), missing, directories
 * and FIFOs, over first, steady and churned scans; kept fds of a file the
 * mask turns off go back to the budget; a denied cgroup file is counted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceHost, generateHost, type SynthTruth } from '../../src/harness/synth/index.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import type { ScanFiles } from '../../src/sources/scanner.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';
import {
  expectSameBatch,
  hasNative,
  nativeLoad,
  openNative,
  requireNativeAddon,
  scanInChild,
} from './native-helpers.js';
import { expectedCgroup, expectMaskAndCgroup, MASKS, writeCgroups } from './scan-files-helpers.js';

requireNativeAddon();

let tmp: string;
beforeAll(() => {
  tmp = mkTmp('nrdot-scan-files-');
});
afterAll(() => rmTmp(tmp));

const maskName = (m: Required<ScanFiles>) =>
  Object.entries(m)
    .filter(([, on]) => on)
    .map(([k]) => k)
    .join(',') || 'none';

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

describe.skipIf(!hasNative)('file mask and cgroup: both backends agree', () => {
  let root: string;
  let truth: SynthTruth;
  beforeAll(async () => {
    root = path.join(tmp, 'host');
    truth = await generateHost({ out: root, processes: 260, seed: 41 });
    writeCgroups(root);
  });

  for (const cgroup of [true, false]) {
    for (const files of MASKS) {
      it(`files ${maskName(files)}, cgroup ${cgroup ? 'on' : 'off'}: first, steady and churned scans`, async () => {
        const ts = new ProcfsReader({ procRoot: root });
        const nat = openNative(root);
        try {
          const opts = { files, cgroup };
          const label = `${maskName(files)} cgroup=${cgroup}`;
          // first scan: every identity new
          let a = ts.scan(opts);
          let b = await nat.scan(opts);
          expectSameBatch(a, b, `${label} first`);
          expect(b.freshRows.length).toBe(b.count);
          expectMaskAndCgroup(b, files, cgroup, `${label} first`);
          // steady: every row a detail row, none fresh
          a = ts.scan(opts);
          b = await nat.scan(opts);
          expectSameBatch(a, b, `${label} steady`);
          expect(b.freshRows.length).toBe(0);
          expectMaskAndCgroup(b, files, cgroup, `${label} steady`);
          // kept fds: stat, plus each file the mask reads
          const perProcess = 1 + Number(files.status) + Number(files.io) + Number(files.fds);
          expect(nat.lastScan!.keptFds, `${label} kept fds`).toBe(perProcess * b.count);
          // churn (exits, new processes, a reused pid), then a detail list
          const adv = await advanceHost({ dir: root, seconds: 5, churn: 0.04 });
          writeCgroups(root);
          const detail = adv.processes.filter((_, i) => i % 5 === 0).map((p) => p.pid);
          a = ts.scan({ ...opts, detail });
          b = await nat.scan({ ...opts, detail: Int32Array.from(detail) });
          expectSameBatch(a, b, `${label} churned`);
          expect(b.freshRows.length).toBeGreaterThan(0);
          expectMaskAndCgroup(b, files, cgroup, `${label} churned`);
        } finally {
          nat.close();
        }
      });
    }
  }

  it('the cgroup text is the file as written (every shape), unreadable ones are counted', async () => {
    const ts = new ProcfsReader({ procRoot: root });
    const nat = openNative(root);
    try {
      const a = ts.scan();
      const b = await nat.scan();
      expectSameBatch(a, b, 'cgroup');
      const kinds = { text: 0, unreadable: 0, empty: 0, v1: 0, invalidUtf8: 0 };
      for (let k = 0; k < b.freshRows.length; k++) {
        const pid = b.pid[b.freshRows[k]!]!;
        const raw = fs.statSync(path.join(root, String(pid), 'cgroup'), { throwIfNoEntry: false });
        if (raw?.isFile()) {
          const text = fs.readFileSync(path.join(root, String(pid), 'cgroup'), 'utf8').replace(/\n$/, '');
          expect(b.freshCgroup[k], `pid ${pid}`).toBe(text);
          kinds.text++;
          if (text === '') kinds.empty++;
          if (text.includes('\n12:pids') || text.startsWith('12:pids')) kinds.v1++;
          if (text.includes('\ufffd')) kinds.invalidUtf8++;
        } else {
          expect(b.freshCgroup[k], `pid ${pid}`).toBe('');
          kinds.unreadable++;
        }
        expect(b.freshCgroup[k]).toBe(expectedCgroup(pid) ?? '');
      }
      expect(b.counters.cgroupUnreadable).toBe(kinds.unreadable);
      // each shape is in the tree: missing, directory and FIFO make the unreadable ones
      expect(kinds.unreadable).toBeGreaterThan(30);
      for (const [k, v] of Object.entries(kinds)) expect(v, k).toBeGreaterThan(0);
      // not vanished: the rows are there
      expect(b.counters.vanished).toBe(0);
      expect(b.count).toBe(fs.readdirSync(root).filter((n) => /^[1-9][0-9]*$/.test(n)).length);
    } finally {
      nat.close();
    }
  });

  it('fds kept for a file go back to the budget when the mask turns it off, and come back with it', async () => {
    const nat = openNative(root);
    const { addon } = nativeLoad as Extract<typeof nativeLoad, { ok: true }>;
    const before = { fds: openFds(), kept: addon.limits().kept };
    try {
      const n = (await nat.scan()).count;
      const plan: [Required<ScanFiles>, number][] = [
        [{ status: true, io: true, fds: true }, 4],
        [{ status: false, io: true, fds: false }, 2],
        [{ status: false, io: false, fds: false }, 1],
        [{ status: true, io: false, fds: true }, 3],
        [{ status: true, io: true, fds: true }, 4],
      ];
      for (const [files, perProcess] of plan) {
        const b = await nat.scan({ files });
        expect(b.count).toBe(n);
        const kept = perProcess * n;
        expect(nat.lastScan!.keptFds, maskName(files)).toBe(kept);
        // the process-wide budget and the process's real open fds say the same
        expect(addon.limits().kept - before.kept, `${maskName(files)} budget`).toBe(kept);
        const open = openFds() - before.fds;
        expect(open, `${maskName(files)} open fds`).toBeGreaterThanOrEqual(kept - 3);
        expect(open, `${maskName(files)} open fds`).toBeLessThanOrEqual(kept + 3);
      }
      // rows that leave the detail set release theirs too
      await nat.scan({ files: { io: true }, detail: [] });
      expect(nat.lastScan!.keptFds).toBe(n);
    } finally {
      nat.close();
    }
    expect(addon.limits().kept).toBe(before.kept);
    expect(openFds()).toBeLessThanOrEqual(before.fds + 2);
  });

  it('a denied cgroup file is unknown, counted as denied and unreadable, the same way (root without CAP_DAC_*)', async () => {
    const text = truth.processes
      .map((p) => p.pid)
      .filter((pid) => expectedCgroup(pid) !== null && fs.existsSync(path.join(root, String(pid), 'cgroup')));
    const targets = text.slice(0, 3).map((pid) => path.join(root, String(pid), 'cgroup'));
    for (const t of targets) fs.chmodSync(t, 0o000);
    let out: Awaited<ReturnType<typeof scanInChild>>;
    try {
      const wrap = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : [];
      out = await scanInChild(root, 1, wrap, { files: { status: false, io: true, fds: false } });
    } finally {
      for (const t of targets) fs.chmodSync(t, 0o644);
    }
    expectSameBatch(out.ts[0]!, out.native[0]!, 'denied cgroup');
    const first = out.native[0]!;
    const unreadable = first.rows.filter((r) => expectedCgroup(r.pid) === null).length;
    expect(first.counters.denied).toBe(3);
    expect(first.counters.cgroupUnreadable).toBe(unreadable + 3);
    const byPid = new Map(first.rows.map((r) => [r.pid, r]));
    for (const pid of text.slice(0, 3)) expect(byPid.get(pid)!.fresh!.cgroup).toBe('');
    expect(byPid.get(text[3]!)!.fresh!.cgroup).toBe(expectedCgroup(text[3]!));
  });
});
