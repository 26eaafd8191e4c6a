/**
 * The replay backend: a ProcessScanner whose scan k is the recording's scan
 * k, reduced to what a live scanner would have read with the same
 * ScanOptions. Every recorded scan read everything (every detail file of
 * every process, cgroups on); replay blanks what the options leave unread,
 * exactly as procfs/reader.ts does on a live tree:
 *
 * - a row is new (FLAG_NEW_IDENTITY, with its strings) when this scanner has
 *   not returned its (pid, start) in its previous scan, whatever the
 *   recording's own flags say;
 * - a detail row (no `detail` list, a new row, or a listed pid) keeps uid and
 *   context switches when `files.status` is on or the row is new, read and
 *   write bytes when `files.io` is on, and the fd count when `files.fds` is
 *   on; every other row has them UNKNOWN (-1);
 * - `cgroup: false` empties `freshCgroup` and zeroes `cgroupUnreadable`;
 * - `bounds` and `keep` leave processes out with the live rules
 *   (src/sources/bounds.ts), pid order under `maxProcesses`, and the CPU
 *   rates of the previous bounded scan.
 *
 * A recording that did not read everything (an agent's scan history under
 * `scan.detail: exported`) has those values UNKNOWN in rows it did not read
 * in detail; replay cannot read them back. `detailMissing` counts the rows
 * asked for in detail whose recorded row was not read in detail (new rows
 * always were), so a caller can say how much of what it replayed lacked them.
 *
 * Counters `vanished`, `denied` and `malformed` are those of the recorded
 * scan (which read every file, so `denied` may be higher than a live scan with
 * fewer files would count); `cgroupUnreadable` counts the new rows whose
 * recorded cgroup is '' (unreadable; a real /proc never has an empty one).
 *
 * Owners travel with the recording (`freshOwner`): the recording host's
 * user names, not this machine's.
 *
 * At the end of the recording `scan()` throws RecordingEnded, unless `loop`:
 * then it starts again from the first scan, with every clock (scan time,
 * uptime, process start times) moved forward by the recording's length plus
 * one interval, so time never goes backwards and each pass's processes are
 * new identities.
 */
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import {
  allocBatch,
  FLAG_DETAIL,
  FLAG_KERNEL_THREAD,
  FLAG_NEW_IDENTITY,
  type ProcessBatch,
  UNKNOWN,
} from '../batch.js';
import { type CpuSample, emptyExcluded, excludedBy, NameFilter, normalizeBounds } from '../bounds.js';
import { type ProcessScanner, resolveFiles, type ScanOptions } from '../scanner.js';
import type { HostFiles, IdentityStrings, RecordedScan } from './format.js';
import { RecordingReader } from './reader.js';

/** Thrown by `scan()` after the last scan of a recording replayed without `loop`. */
export class RecordingEnded extends NrdotError {
  constructor(
    readonly dir: string,
    readonly scans: number,
  ) {
    super(ErrorCodes.RECORDING, `recording ${dir} ended after ${scans} scans`);
  }
}

interface Known {
  start: number;
  seenGen: number;
}

interface PrevCpu extends CpuSample {
  listedGen: number;
}

export interface ReplayOptions {
  /** start again from the first scan at the end (`--loop`) */
  loop?: boolean;
  /** host.name of every row (default: the recorded one) */
  hostName?: string;
}

export class ReplayScanner implements ProcessScanner {
  readonly backend = 'replay' as const;
  /** the recording's directory (owners come with the recording, not from a passwd file beside it) */
  readonly procRoot: string;
  readonly reader: RecordingReader;
  private readonly loop: boolean;
  private readonly hostName: string | undefined;
  /** strings of every identity present in the last recorded scan, by pid */
  private readonly strings = new Map<number, IdentityStrings>();
  private readonly known = new Map<number, Known>();
  private readonly prevCpu = new Map<number, PrevCpu>();
  private gen = 0;
  /** completed passes over the recording (loop) */
  private pass = 0;
  private firstUptime = Number.NaN;
  private lastUptime = Number.NaN;
  private scanned = 0;
  private lastFiles: HostFiles = {};
  private lastAtMs = Number.NaN;
  /** rows asked for in detail (not new) whose recorded row was not read in detail (see the file's comment) */
  detailMissing = 0;
  /** rows asked for in detail that were not new (detailMissing's denominator) */
  detailAsked = 0;

  constructor(reader: RecordingReader, o: ReplayOptions = {}) {
    this.reader = reader;
    this.procRoot = reader.dir;
    this.loop = o.loop === true;
    this.hostName = o.hostName || undefined;
  }

  /** Open and check a recording (NrdotError RECORDING, exit 2, naming the file and record at fault). */
  static open(dir: string, o: ReplayOptions = {}): ReplayScanner {
    return new ReplayScanner(RecordingReader.open(dir), o);
  }

  /** scans in the recording */
  get scans(): number {
    return this.reader.scans;
  }

  /** scans returned so far (over every pass) */
  get returned(): number {
    return this.scanned;
  }

  /** true when the next `scan()` has nothing to return (never with `loop`) */
  get ended(): boolean {
    return !this.loop && this.reader.done;
  }

  /** The recorded host files (stat, uptime, meminfo, loadavg) of the last scan returned. */
  get hostFiles(): HostFiles {
    return this.lastFiles;
  }

  /**
   * The recorded time of the last scan returned (the first scan's before
   * any): a clock for an engine that should see the recording's time.
   */
  now = (): number => {
    if (Number.isNaN(this.lastAtMs)) return this.peekFirstTime();
    return this.lastAtMs;
  };

  scan(opts: ScanOptions = {}): ProcessBatch {
    let rec = this.reader.next();
    if (!rec) {
      if (!this.loop) throw new RecordingEnded(this.reader.dir, this.reader.scans);
      this.pass++;
      this.reader.rewind();
      this.strings.clear();
      rec = this.reader.next()!;
    }
    const shiftSec = this.shiftSec(rec);
    this.remember(rec);
    const b = this.reduce(rec.batch, opts, shiftSec);
    this.lastFiles = rec.hostFiles;
    this.lastAtMs = b.scannedAtMs;
    this.scanned++;
    return b;
  }

  close(): void {
    this.reader.close();
  }

  /** Before the first scan: when the recording was started. */
  private peekFirstTime(): number {
    const t = Date.parse(this.reader.header.createdAt);
    return Number.isNaN(t) ? Date.now() : t;
  }

  /** Seconds every clock moves forward in this pass (0 in the first). */
  private shiftSec(rec: RecordedScan): number {
    const up = rec.batch.host.uptimeSec;
    if (this.pass === 0) {
      if (Number.isNaN(this.firstUptime)) this.firstUptime = up;
      this.lastUptime = up;
      return 0;
    }
    const interval = Math.max(0.001, this.reader.header.intervalMs / 1000);
    const clk = rec.batch.host.clkTck;
    // whole clock ticks, so shifted start times stay exact
    const periodTicks = Math.round((this.lastUptime - this.firstUptime + interval) * clk);
    return (this.pass * periodTicks) / clk;
  }

  /** Keep the strings of the identities the recording introduces; forget pids it no longer lists. */
  private remember(rec: RecordedScan): void {
    const b = rec.batch;
    for (let k = 0; k < b.freshRows.length; k++) {
      const i = b.freshRows[k]!;
      this.strings.set(b.pid[i]!, {
        start: b.startTicks[i]!,
        name: b.freshName[k]!,
        cmdline: b.freshCmdline[k]!,
        exe: b.freshExe[k]!,
        cgroup: b.freshCgroup[k]!,
        owner: b.freshOwner[k]!,
      });
    }
    if (this.strings.size > b.count) {
      const listed = new Set<number>();
      for (let i = 0; i < b.count; i++) listed.add(b.pid[i]!);
      for (const pid of this.strings.keys()) if (!listed.has(pid)) this.strings.delete(pid);
    }
  }

  private stringsOf(pid: number, start: number): IdentityStrings {
    const s = this.strings.get(pid);
    if (!s || s.start !== start) {
      const r = this.reader;
      throw new NrdotError(
        ErrorCodes.RECORDING,
        `${r.file}: record ${r.position} (scan ${r.position}) is corrupt: pid ${pid} appears without the strings of its identity`,
      );
    }
    return s;
  }

  /** The batch a live scanner with `opts` would have returned for the recorded full scan `r`. */
  private reduce(r: ProcessBatch, opts: ScanOptions, shiftSec: number): ProcessBatch {
    const shiftTicks = Math.round(shiftSec * r.host.clkTck);
    const host = {
      ...r.host,
      uptimeSec: r.host.uptimeSec + shiftSec,
      ...(this.hostName ? { hostname: this.hostName } : {}),
    };
    const b = allocBatch(r.count, host);
    b.scannedAtMs = r.scannedAtMs + shiftSec * 1000;
    const c = b.counters;
    c.vanished = r.counters.vanished;
    c.denied = r.counters.denied;
    c.malformed = r.counters.malformed;
    const gen = ++this.gen;
    const detailPids = opts.detail ? new Set(opts.detail) : undefined;
    const mask = resolveFiles(opts.files);
    const readCgroup = opts.cgroup !== false;
    const { clkTck } = host;
    const owners: string[] = [];
    const freshRows: number[] = [];

    // bounded scans: the rules, the exempt pids, and the row order (pid order under a cap)
    let order: Int32Array | undefined;
    let bounds: ReturnType<typeof normalizeBounds> | undefined;
    let names: NameFilter | undefined;
    let keep: Set<number> | undefined;
    let freeBudget = Number.POSITIVE_INFINITY;
    if (opts.bounds) {
      bounds = normalizeBounds(opts.bounds);
      names = new NameFilter(bounds.excludeNames);
      keep = new Set<number>(opts.keep ? Int32Array.from(opts.keep) : []);
      c.excluded = emptyExcluded();
      if (bounds.maxProcesses > 0) {
        order = Int32Array.from({ length: r.count }, (_, i) => i).sort((x, y) => r.pid[x]! - r.pid[y]!);
        let listedKeep = 0;
        for (let i = 0; i < r.count; i++) if (keep.has(r.pid[i]!)) listedKeep++;
        freeBudget = Math.max(0, bounds.maxProcesses - listedKeep);
      }
    }
    let freeRows = 0;
    let n = 0;
    for (let k = 0; k < r.count; k++) {
      const i = order ? order[k]! : k;
      const pid = r.pid[i]!;
      const start = r.startTicks[i]! + shiftTicks;
      if (this.prevCpu.size > 0) {
        const pc = this.prevCpu.get(pid);
        if (pc) pc.listedGen = gen;
      }
      const kept = keep?.has(pid) === true;
      if (bounds && !kept && freeRows >= freeBudget) {
        c.excluded!.max_processes++;
        continue;
      }
      if (bounds) {
        const cpuSec = r.utimeSec[i]! + r.stimeSec[i]!;
        let pc = this.prevCpu.get(pid);
        const why = kept
          ? undefined
          : excludedBy(
              bounds,
              names!,
              this.stringsOf(pid, r.startTicks[i]!).name,
              r.rssBytes[i]!,
              start,
              cpuSec,
              host.uptimeSec,
              clkTck,
              pc,
            );
        if (!pc) {
          pc = { start: 0, cpuSec: 0, uptime: 0, listedGen: gen };
          this.prevCpu.set(pid, pc);
        }
        pc.start = start;
        pc.cpuSec = cpuSec;
        pc.uptime = host.uptimeSec;
        if (why) {
          c.excluded![why]++;
          continue;
        }
      }
      const prev = this.known.get(pid);
      const fresh = !prev || prev.start !== start;
      const detail = !detailPids || fresh || detailPids.has(pid);
      if (detail && !fresh) {
        this.detailAsked++;
        if ((r.flags[i]! & FLAG_DETAIL) === 0) this.detailMissing++;
      }

      b.pid[n] = pid;
      b.ppid[n] = r.ppid[i]!;
      b.startTicks[n] = start;
      b.utimeSec[n] = r.utimeSec[i]!;
      b.stimeSec[n] = r.stimeSec[i]!;
      b.iowaitSec[n] = r.iowaitSec[i]!;
      b.rssBytes[n] = r.rssBytes[i]!;
      b.vsizeBytes[n] = r.vsizeBytes[i]!;
      b.threads[n] = r.threads[i]!;
      b.state[n] = r.state[i]!;
      b.minFaults[n] = r.minFaults[i]!;
      b.majFaults[n] = r.majFaults[i]!;
      if (detail) {
        if (mask.status || fresh) {
          b.uid[n] = r.uid[i]!;
          b.volCtx[n] = r.volCtx[i]!;
          b.involCtx[n] = r.involCtx[i]!;
        }
        if (mask.io) {
          b.readBytes[n] = r.readBytes[i]!;
          b.writeBytes[n] = r.writeBytes[i]!;
        }
        b.fds[n] = mask.fds ? r.fds[i]! : UNKNOWN;
      } else {
        b.fds[n] = UNKNOWN;
      }
      let flags = (detail ? FLAG_DETAIL : 0) | (r.flags[i]! & FLAG_KERNEL_THREAD);
      if (fresh) {
        const s = this.stringsOf(pid, r.startTicks[i]!);
        freshRows.push(n);
        b.freshName.push(s.name);
        b.freshCmdline.push(s.cmdline);
        b.freshExe.push(s.exe);
        b.freshCgroup.push(readCgroup ? s.cgroup : '');
        owners.push(s.owner);
        if (readCgroup && s.cgroup === '') c.cgroupUnreadable++;
        flags |= FLAG_NEW_IDENTITY;
        this.known.set(pid, { start, seenGen: gen });
      } else {
        prev.seenGen = gen;
      }
      b.flags[n] = flags;
      n++;
      if (!kept) freeRows++;
    }
    for (const [pid, k] of this.known) if (k.seenGen !== gen) this.known.delete(pid);
    for (const [pid, p] of this.prevCpu) if (p.listedGen !== gen) this.prevCpu.delete(pid);
    b.count = n;
    b.freshRows = Int32Array.from(freshRows);
    b.freshOwner = owners;
    return b;
  }
}
