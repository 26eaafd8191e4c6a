/**
 * Writes a recording: the header first (so a recording cut short by a crash
 * still says what it is), then one framed record per scan appended with a
 * single write each, then the header again with `complete` and the count.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { VERSION } from '../../util/version.js';
import type { ProcessBatch } from '../batch.js';
import {
  encodeFileHeader,
  encodeFrame,
  encodeRecord,
  HEADER_FILE,
  HOST_FILES,
  type HostFiles,
  RECORDING_FORMAT,
  RECORDING_VERSION_PLAIN,
  type RecordingHeader,
  type Reference,
  referenceOf,
  SCANS_FILE,
} from './format.js';

export interface RecordingWriterOptions {
  /** the directory to create (it must not exist, or be empty) */
  dir: string;
  procRoot: string;
  backend: string;
  /** host.name of the recorded host (set from the first scan when not known yet) */
  hostname?: string;
  intervalMs: number;
  /** gzip level of each record (default 6) */
  level?: number;
}

export class RecordingWriter {
  readonly dir: string;
  private readonly header: RecordingHeader;
  private readonly fd: number;
  private readonly level: number;
  private ref: Reference | undefined;
  private closed = false;
  /** scans written */
  scans = 0;
  /** bytes of scans.nrec so far */
  bytes = 0;
  /** rows written, over all scans */
  rows = 0;

  constructor(o: RecordingWriterOptions) {
    if (os.endianness() !== 'LE') {
      throw new NrdotError(ErrorCodes.USAGE, 'nrdot record: recordings are little-endian; this machine is not');
    }
    this.dir = path.resolve(o.dir);
    this.level = o.level ?? 6;
    prepareDir(this.dir);
    this.header = {
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION_PLAIN,
      nrdot: VERSION,
      createdAt: new Date().toISOString(),
      procRoot: o.procRoot,
      backend: o.backend,
      hostname: o.hostname ?? '',
      intervalMs: o.intervalMs,
      endianness: 'LE',
      scanOptions: { detail: 'all', files: { status: true, io: true, fds: true }, cgroup: true },
      hostFiles: HOST_FILES,
    };
    this.writeHeader();
    this.fd = fs.openSync(path.join(this.dir, SCANS_FILE), 'wx', 0o644);
    const h = encodeFileHeader();
    fs.writeSync(this.fd, h);
    this.bytes = h.length;
  }

  /** Append one scan (read with every detail, file and cgroup on); `owners` name the owners of its fresh rows. */
  append(b: ProcessBatch, owners: readonly string[], hostFiles: HostFiles): number {
    if (this.closed) throw new Error('recording writer: append() after close()');
    const frame = encodeFrame(encodeRecord(b, owners, hostFiles, this.ref, this.level));
    fs.writeSync(this.fd, frame);
    this.ref = referenceOf(b);
    this.scans++;
    if (this.scans === 1 && !this.header.hostname) {
      this.header.hostname = b.host.hostname;
      this.writeHeader();
    }
    this.rows += b.count;
    this.bytes += frame.length;
    return frame.length;
  }

  /** Flush to disk and mark the recording complete; safe twice. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      fs.fsyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
    }
    this.header.complete = true;
    this.header.scans = this.scans;
    this.header.endedAt = new Date().toISOString();
    this.writeHeader();
  }

  private writeHeader(): void {
    writeFileAtomic(path.join(this.dir, HEADER_FILE), `${JSON.stringify(this.header, null, 2)}\n`);
  }
}

/** Create `dir`, or accept it empty; anything else is bad usage naming it. */
function prepareDir(dir: string): void {
  let entries: string[] | undefined;
  try {
    entries = fs.readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new NrdotError(ErrorCodes.USAGE, `--out ${dir}: not a directory`);
    if (code !== 'ENOENT') throw new NrdotError(ErrorCodes.OUTPUT_UNWRITABLE, `--out ${dir}: ${(e as Error).message}`);
  }
  if (entries && entries.length > 0) {
    throw new NrdotError(
      ErrorCodes.USAGE,
      `--out ${dir}: the directory is not empty (a recording is never written over anything; choose a new directory)`,
    );
  }
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new NrdotError(ErrorCodes.OUTPUT_UNWRITABLE, `--out ${dir}: ${(e as Error).message}`);
  }
}
