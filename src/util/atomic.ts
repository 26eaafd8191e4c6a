/**
 * Crash-safe file replacement, shared by every store that must never leave a
 * half-written file behind (config history, OpAMP identity).
 *
 * The same steps as `writeFileAtomic` in src/state/store.ts (kept there while
 * the state store is rewritten; that copy can import this one afterwards):
 * write a temp file beside the target, fsync it, rename it over the target,
 * fsync the directory so the rename itself survives a power cut.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

let seq = 0;

/** Write `data` to `file` atomically: temp file, fsync, rename, fsync of the directory. */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): void {
  const dir = path.dirname(file);
  // pid + a counter: two writers in one process never share a temp file
  const tmp = `${file}.tmp-${process.pid}-${seq++}`;
  try {
    const fd = fs.openSync(tmp, 'w', mode);
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

/** A temp file left by writeFileAtomic when the process died between open and rename. */
export function isAtomicTempFile(name: string): boolean {
  return /\.tmp-\d+(-\d+)?$/.test(name);
}
