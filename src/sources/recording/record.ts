/**
 * Recording a host: scan with everything on (every process a detail row,
 * every file, cgroups), name the owners of new processes from that host's
 * passwd, read the host files, append the scan. `Recorder` takes one scan
 * at a time (tests interleave it with changes to a synthetic tree);
 * `recordHost` paces scans over an interval until a count is reached or the
 * signal aborts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Clock, realClock } from '../../core/clock.js';
import { type BackendChoice, openScanner } from '../index.js';
import { ownerResolver } from '../procfs/users.js';
import type { ProcessScanner } from '../scanner.js';
import { HOST_FILES, type HostFiles } from './format.js';
import { RecordingWriter } from './writer.js';

/** What a recording scan reads: everything (detail for all, every file, cgroups). */
export const RECORD_SCAN_OPTIONS = { files: { status: true, io: true, fds: true }, cgroup: true } as const;

export function readHostFiles(procRoot: string): HostFiles {
  const out: HostFiles = {};
  for (const f of HOST_FILES) {
    try {
      out[f] = fs.readFileSync(path.join(procRoot, f), 'latin1');
    } catch {
      // absent from the tree (loadavg on some synthetic trees): not recorded
    }
  }
  return out;
}

export interface RecorderOptions {
  out: string;
  scanner: ProcessScanner;
  intervalMs: number;
  /** gzip level (default 6) */
  level?: number;
}

export interface ScanWritten {
  /** scans written so far */
  scans: number;
  processes: number;
  /** bytes of this scan's record */
  bytes: number;
}

export class Recorder {
  readonly scanner: ProcessScanner;
  /** the recording being written (created, with its header, by the constructor) */
  readonly output: RecordingWriter;
  private readonly owner: (uid: number) => string;

  constructor(o: RecorderOptions) {
    this.scanner = o.scanner;
    this.owner = ownerResolver(o.scanner.procRoot);
    this.output = new RecordingWriter({
      dir: o.out,
      procRoot: o.scanner.procRoot,
      backend: o.scanner.backend,
      intervalMs: o.intervalMs,
      level: o.level,
    });
  }

  async scanOnce(): Promise<ScanWritten> {
    const b = await this.scanner.scan(RECORD_SCAN_OPTIONS);
    const hostFiles = readHostFiles(this.scanner.procRoot);
    const owners: string[] = [];
    for (let k = 0; k < b.freshRows.length; k++) owners.push(this.owner(b.uid[b.freshRows[k]!]!));
    const bytes = this.output.append(b, owners, hostFiles);
    return { scans: this.output.scans, processes: b.count, bytes };
  }

  /** Finish the recording (header marked complete); safe twice. */
  close(): void {
    this.output.close();
  }
}

export interface RecordHostOptions {
  out: string;
  procRoot: string;
  backend: BackendChoice;
  hostName?: string;
  intervalMs: number;
  /** scans to take */
  scans: number;
  clock?: Clock;
  /** stop early (SIGINT): the scans so far are kept and the recording is complete */
  signal?: AbortSignal;
  onScan?: (w: ScanWritten) => void;
  level?: number;
}

export interface RecordSummary {
  dir: string;
  backend: string;
  scans: number;
  /** rows over every scan */
  rows: number;
  /** size of the recording's scans file */
  bytes: number;
  durationMs: number;
  interrupted: boolean;
  /** the scanner's note (which backend and why) */
  note: string;
}

export async function recordHost(o: RecordHostOptions): Promise<RecordSummary> {
  const clock = o.clock ?? realClock;
  const { reader, note } = openScanner(o.procRoot, o.backend, o.hostName);
  let rec: Recorder;
  try {
    rec = new Recorder({ out: o.out, scanner: reader, intervalMs: o.intervalMs, level: o.level });
  } catch (e) {
    reader.close();
    throw e;
  }
  const t0 = clock.now();
  try {
    for (let k = 0; k < o.scans && !o.signal?.aborted; k++) {
      const started = clock.now();
      o.onScan?.(await rec.scanOnce());
      if (k + 1 >= o.scans) break;
      await clock.sleep(Math.max(0, o.intervalMs - (clock.now() - started)), o.signal);
    }
  } finally {
    rec.close();
    reader.close();
  }
  const w = rec.output;
  return {
    dir: w.dir,
    backend: reader.backend,
    scans: w.scans,
    rows: w.rows,
    bytes: w.bytes,
    durationMs: clock.now() - t0,
    interrupted: o.signal?.aborted === true,
    note,
  };
}
