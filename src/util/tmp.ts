import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A scratch directory on tmpfs when the machine has one (/dev/shm), else the
 * OS temp dir. Synthetic procfs trees are hundreds of thousands of tiny
 * files; on a disk-backed filesystem each create can cost a millisecond of
 * journal work, on tmpfs a few microseconds.
 */
export function fastTmpDir(prefix: string): string {
  for (const base of ['/dev/shm', os.tmpdir()]) {
    try {
      fs.accessSync(base, fs.constants.W_OK);
      return fs.mkdtempSync(path.join(base, prefix));
    } catch {
      // try the next
    }
  }
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
