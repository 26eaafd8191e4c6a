/**
 * A version string inside an executable (`nginx/1.22.1`, `PostgreSQL 15.4`):
 * the template's re2 pattern over the file's bytes, read in chunks with an
 * overlap so a match across a chunk boundary is not lost. Bounded: at most
 * MAX_BYTES are read.
 */
import * as fs from 'node:fs';
import { compiled } from './configs.js';

const CHUNK = 4 << 20;
const OVERLAP = 256;
const MAX_BYTES = 64 << 20;

/** The first group of the first match; undefined when absent or unreadable. */
export function versionFromBinary(realPath: string, pattern: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(realPath, 'r');
  } catch {
    return undefined;
  }
  const re = compiled(pattern, '');
  const buf = Buffer.allocUnsafe(CHUNK + OVERLAP);
  try {
    let pos = 0;
    let have = 0; // bytes carried over from the previous chunk
    while (pos < MAX_BYTES) {
      const n = fs.readSync(fd, buf, have, CHUNK, pos);
      if (n === 0) break;
      const total = have + n;
      re.lastIndex = 0;
      const m = re.exec(buf.toString('latin1', 0, total));
      if (m?.[1]) return m[1];
      pos += n;
      have = Math.min(OVERLAP, total);
      buf.copy(buf, 0, total - have, total);
    }
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
  return undefined;
}
