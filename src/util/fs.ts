/**
 * Filesystem helpers shared by every component that creates directories.
 */
import * as fs from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errnoOf } from '../core/errors.js';

/**
 * `mkdir -p` that always terminates. Node's own `mkdir(dir, { recursive: true })`
 * spins forever (a libuv thread at 100% CPU, the promise never settles) when
 * a parent exists but cannot hold the child, which is exactly what procfs
 * (`/proc/x/y`) and dangling symlinks do: mkdir says ENOENT, the parent says
 * EEXIST, repeat. Here: find the deepest existing ancestor, then create each
 * missing component once, top down; any unexpected answer is final.
 */
export async function makeDirs(dir: string): Promise<void> {
  const missing: string[] = [];
  let cur = resolve(dir);
  for (;;) {
    try {
      if ((await stat(cur)).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, '${cur}'`), { code: 'ENOTDIR', path: cur });
    } catch (e) {
      const parent = dirname(cur);
      if (errnoOf(e) !== 'ENOENT' || parent === cur) throw e;
      missing.push(cur);
      cur = parent;
    }
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      await mkdir(missing[i]);
    } catch (e) {
      // lost a race with another creator: fine if it is a directory now
      if (
        errnoOf(e) !== 'EEXIST' ||
        !(await stat(missing[i]).then(
          (st) => st.isDirectory(),
          () => false,
        ))
      )
        throw e;
    }
  }
}

/** The synchronous twin of makeDirs, for start-up paths (same termination guarantee). */
export function makeDirsSync(dir: string): void {
  const missing: string[] = [];
  let cur = resolve(dir);
  for (;;) {
    try {
      if (fs.statSync(cur).isDirectory()) break;
      throw Object.assign(new Error(`ENOTDIR: not a directory, '${cur}'`), { code: 'ENOTDIR', path: cur });
    } catch (e) {
      const parent = dirname(cur);
      if (errnoOf(e) !== 'ENOENT' || parent === cur) throw e;
      missing.push(cur);
      cur = parent;
    }
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      fs.mkdirSync(missing[i]!);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST' || !fs.statSync(missing[i]!, { throwIfNoEntry: false })?.isDirectory()) throw e;
    }
  }
}

/** Write `data` to `file` atomically: temp file, fsync, rename, fsync of the directory. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = dirname(file);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // ignore
    }
    throw e;
  }
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}
