/**
 * `cgroup` files for synthetic trees (the generator writes none) and the
 * masks of ScanOptions.files, shared by the scan-files and bounds-parity
 * tests.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from 'vitest';
import { FLAG_DETAIL, FLAG_NEW_IDENTITY, type ProcessBatch } from '../../src/sources/batch.js';
import type { ScanFiles } from '../../src/sources/scanner.js';

/** Every combination of the three files. */
export const MASKS: Required<ScanFiles>[] = [0, 1, 2, 3, 4, 5, 6, 7].map((m) => ({
  status: (m & 1) !== 0,
  io: (m & 2) !== 0,
  fds: (m & 4) !== 0,
}));

type CgroupKind = 'missing' | 'dir' | 'fifo' | 'text';

/** What `<pid>/cgroup` is in the tree, decided by the pid alone. */
function kindOf(pid: number): CgroupKind {
  const k = pid % 13;
  if (k === 0) return 'missing';
  if (k === 1) return 'dir';
  if (k === 2) return 'fifo';
  return 'text';
}

/** The bytes of a readable cgroup file: v2, v1, hybrid, empty, no newline, invalid UTF-8. */
function textOf(pid: number): Buffer {
  switch (pid % 13) {
    case 3:
      return Buffer.from('');
    case 4:
      return Buffer.from(
        `12:pids:/docker/${'a'.repeat(60)}${pid}\n11:memory:/docker/x\n1:name=systemd:/docker/x\n0::/\n`,
      );
    case 5:
      return Buffer.from(`0::/system.slice/nginx.service`); // no trailing newline
    case 6:
      return Buffer.concat([Buffer.from('0::/user.slice/caf'), Buffer.from([0xe9, 0xff, 0x0a])]);
    case 7:
      return Buffer.from(
        `0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${pid}.slice/cri-containerd-${pid}.scope\n\n`,
      );
    default:
      return Buffer.from(`0::/system.slice/svc-${pid % 9}.service\n`);
  }
}

/** The freshCgroup a scanner must give for `pid` (null: unreadable, counted). */
export function expectedCgroup(pid: number): string | null {
  if (kindOf(pid) !== 'text') return null;
  const s = textOf(pid).toString('utf8');
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

/** Whether `file` already is what kindOf/textOf want for `pid`. */
function isAsWanted(file: string, pid: number): boolean {
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  const kind = kindOf(pid);
  if (kind === 'missing') return st === undefined;
  if (st === undefined) return false;
  if (kind === 'dir') return st.isDirectory();
  if (kind === 'fifo') return st.isFIFO();
  return st.isFile() && fs.readFileSync(file).equals(textOf(pid));
}

/**
 * Make every pid directory's cgroup entry the one kindOf/textOf give its
 * pid, replacing what the generator wrote (if anything): a file of one of
 * several shapes, nothing, a directory or a FIFO (both unreadable as a
 * cgroup file, even by root).
 */
export function writeCgroups(root: string): void {
  const fifos: string[] = [];
  for (const name of fs.readdirSync(root)) {
    if (!/^[1-9][0-9]*$/.test(name)) continue;
    const pid = Number(name);
    const file = path.join(root, name, 'cgroup');
    if (!fs.existsSync(path.join(root, name, 'stat')) || isAsWanted(file, pid)) continue;
    fs.rmSync(file, { recursive: true, force: true });
    const kind = kindOf(pid);
    if (kind === 'text') fs.writeFileSync(file, textOf(pid));
    else if (kind === 'dir') fs.mkdirSync(file);
    else if (kind === 'fifo') fifos.push(file);
  }
  if (fifos.length > 0) execFileSync('mkfifo', fifos);
}

/**
 * The mask's promises on one batch: detail rows carry exactly the values of
 * the files the mask reads (fresh rows also `status`), cgroup text as
 * written, and `cgroupUnreadable` counts the fresh rows whose file is not one.
 */
export function expectMaskAndCgroup(b: ProcessBatch, files: Required<ScanFiles>, cgroup: boolean, label: string): void {
  let fresh = 0;
  for (let i = 0; i < b.count; i++) {
    const f = b.flags[i]!;
    const at = `${label}: pid ${b.pid[i]}`;
    if ((f & FLAG_DETAIL) === 0) {
      expect([b.uid[i], b.readBytes[i], b.fds[i]], at).toEqual([-1, -1, -1]);
      continue;
    }
    const isFresh = (f & FLAG_NEW_IDENTITY) !== 0;
    if (isFresh) fresh++;
    const status = files.status || isFresh;
    // synthetic processes have every file: a value is known exactly when its file is read
    expect(b.uid[i]! >= 0, `${at} uid`).toBe(status);
    expect(b.volCtx[i]! >= 0 && b.involCtx[i]! >= 0, `${at} ctx switches`).toBe(status);
    expect(b.readBytes[i]! >= 0 && b.writeBytes[i]! >= 0, `${at} io`).toBe(files.io);
    expect(b.fds[i]! >= 0, `${at} fds`).toBe(files.fds);
  }
  expect(b.freshCgroup, `${label} freshCgroup`).toHaveLength(b.freshRows.length);
  expect(fresh, `${label} fresh rows are detail rows`).toBe(b.freshRows.length);
  let unreadable = 0;
  for (let k = 0; k < b.freshRows.length; k++) {
    const pid = b.pid[b.freshRows[k]!]!;
    const want = cgroup ? expectedCgroup(pid) : '';
    if (want === null) unreadable++;
    expect(b.freshCgroup[k], `${label}: pid ${pid} cgroup`).toBe(want ?? '');
  }
  expect(b.counters.cgroupUnreadable, `${label} cgroupUnreadable`).toBe(unreadable);
}
