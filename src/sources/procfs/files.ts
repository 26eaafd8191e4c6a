/**
 * Per-process file reads of the TypeScript reader, with the error semantics
 * both backends share (native/scanner_files.cc is the addon's copy):
 * denied is unknown (counted), a missing file while `stat` exists is
 * unknown, a gone process is vanished (the row is skipped), anything else is
 * malformed (skipped). `cgroup` has its own rule: any failure while `stat`
 * exists leaves the row with '' and counts `cgroupUnreadable`.
 */
import * as fs from 'node:fs';
import { errnoOf } from '../../core/errors.js';
import type { ScanCounters } from '../batch.js';

const BUF_SIZE = 1 << 16;
const { O_RDONLY, O_NONBLOCK } = fs.constants;

function isVanished(code: string | undefined): boolean {
  return code === 'ENOENT' || code === 'ESRCH';
}
export function isDenied(code: string | undefined): boolean {
  return code === 'EACCES' || code === 'EPERM';
}

/** Raised inside readCgroup for a file that is not a regular file (a FIFO, a directory). */
const NOT_REGULAR = 'ENOTREG';

export class ProcFiles {
  private readonly buf = Buffer.allocUnsafe(BUF_SIZE);

  /**
   * Read a per-process file. Returns the text, `undefined` when access is
   * denied (the value is unknown, not an error), or `null` when the process
   * vanished (the row is skipped and counted).
   */
  read(file: string, c: ScanCounters, enc: BufferEncoding = 'latin1', procDir?: string): string | undefined | null {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      return this.fileError(e, c, procDir);
    }
    try {
      return this.readFd(fd, enc);
    } catch (e) {
      return this.fileError(e, c, procDir);
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * `<procDir>/cgroup`, one trailing newline removed. '' and
   * `cgroupUnreadable` counted when it cannot be read while `stat` exists
   * (missing, denied, a directory or a FIFO: opened without blocking and
   * refused unless it is a regular file); `null` when the process vanished.
   */
  readCgroup(procDir: string, c: ScanCounters): string | null {
    let fd: number | undefined;
    let code: string | undefined;
    let text = '';
    try {
      fd = fs.openSync(`${procDir}/cgroup`, O_RDONLY | O_NONBLOCK);
      if (!fs.fstatSync(fd).isFile()) code = NOT_REGULAR;
      else text = this.readFd(fd, 'utf8');
    } catch (e) {
      code = errnoOf(e) ?? 'EIO';
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
    if (code === undefined) return text.endsWith('\n') ? text.slice(0, -1) : text;
    if (!fs.existsSync(`${procDir}/stat`)) {
      c.vanished++;
      return null;
    }
    if (isDenied(code)) c.denied++;
    c.cgroupUnreadable++;
    return '';
  }

  /** Open fd count; -1 when denied; null when the process vanished. */
  countFds(dir: string, c: ScanCounters, procDir: string): number | null {
    try {
      return fs.readdirSync(dir).length;
    } catch (e) {
      return this.fileError(e, c, procDir) === null ? null : -1;
    }
  }

  /**
   * Read to EOF: one read is enough on procfs, but a recorded tree on
   * another filesystem may return short reads.
   */
  private readFd(fd: number, enc: BufferEncoding): string {
    let n = 0;
    let total = 0;
    let chunks: Buffer[] | undefined;
    for (;;) {
      if (n === BUF_SIZE) {
        chunks ??= [];
        chunks.push(Buffer.from(this.buf));
        total += n;
        n = 0;
      }
      const r = fs.readSync(fd, this.buf, n, BUF_SIZE - n, null);
      if (r === 0) break;
      n += r;
    }
    if (!chunks) return this.buf.toString(enc, 0, n);
    chunks.push(Buffer.from(this.buf.subarray(0, n)));
    return Buffer.concat(chunks, total + n).toString(enc);
  }

  /**
   * Denied: the value is unknown (undefined). Gone: if the process directory
   * is gone too the process vanished (null, row skipped); if only the file is
   * absent (a kernel without io accounting) the value is unknown.
   */
  private fileError(e: unknown, c: ScanCounters, procDir?: string): undefined | null {
    const code = errnoOf(e);
    if (isDenied(code)) {
      c.denied++;
      return undefined;
    }
    if (code === 'ENOENT' && procDir !== undefined && fs.existsSync(`${procDir}/stat`)) return undefined;
    if (isVanished(code)) c.vanished++;
    else c.malformed++;
    return null;
  }
}
