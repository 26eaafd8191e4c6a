/**
 * The TypeScript procfs reader: the fallback scanner backend. Everything is
 * read through `procRoot`, so a synthetic tree runs through the same code as
 * the real /proc.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ErrorCodes, errnoOf, NrdotError } from '../../core/errors.js';
import {
  allocBatch,
  countOrUnknown,
  FLAG_DETAIL,
  FLAG_KERNEL_THREAD,
  FLAG_NEW_IDENTITY,
  type HostInfo,
  type ProcessBatch,
} from '../batch.js';
import {
  type CpuSample,
  emptyExcluded,
  excludedBy,
  NameFilter,
  type NormalBounds,
  normalizeBounds,
} from '../bounds.js';
import { resolveFiles, type ScanOptions } from '../scanner.js';
import { isDenied, ProcFiles } from './files.js';
import {
  PF_KTHREAD,
  parseCmdline,
  parseHostStat,
  parseIo,
  parseMemTotal,
  parseStat,
  parseStatus,
  parseUptime,
} from './parse.js';
import { sysconf } from './sysconf.js';

const PID_NAME = /^[1-9][0-9]*$/;

export interface ReaderOptions {
  procRoot?: string;
  /** host.name of every row; default `<procRoot>/sys/kernel/hostname` (--host-name, scan.host_name) */
  hostName?: string;
}

/** Throws NRDOT_ERR_NOT_PROCFS when `root` lacks the host files (both backends). */
export function checkProcRoot(root: string): void {
  for (const f of ['uptime', 'stat', 'meminfo']) {
    const p = path.join(root, f);
    if (!fs.existsSync(p)) {
      throw new NrdotError(ErrorCodes.NOT_PROCFS, `--proc-root ${root} is not a procfs tree: ${p} is missing`);
    }
  }
}

/** host.name: `<root>/sys/kernel/hostname`, else this machine's name. */
export function readHostname(root: string): string {
  let h: string | undefined;
  try {
    h = fs.readFileSync(path.join(root, 'sys', 'kernel', 'hostname'), 'latin1');
  } catch {
    h = undefined;
  }
  return h?.trim() || os.hostname();
}

/** The raw host files of a tree; undefined when unreadable. */
export interface HostTexts {
  stat: string | undefined;
  uptime: string | undefined;
  meminfo: string | undefined;
}

/** HostInfo from the host files, one interpretation for both backends. */
export function hostInfoFromTexts(root: string, t: HostTexts, hostname: string): HostInfo {
  const { clkTck, pageSize } = sysconf();
  const stat = parseHostStat(t.stat ?? '');
  if (!stat) {
    throw new NrdotError(
      ErrorCodes.NOT_PROCFS,
      `--proc-root ${root}: ${path.join(root, 'stat')} has no btime or cpu lines`,
    );
  }
  const uptime = parseUptime(t.uptime ?? '');
  if (Number.isNaN(uptime)) {
    throw new NrdotError(
      ErrorCodes.NOT_PROCFS,
      `--proc-root ${root}: ${path.join(root, 'uptime')} is not an uptime file`,
    );
  }
  const memTotal = parseMemTotal(t.meminfo ?? '');
  return {
    hostname,
    bootTimeSec: stat.btime,
    uptimeSec: uptime,
    cpuCount: stat.cpuCount,
    memTotalBytes: Number.isNaN(memTotal) ? 0 : memTotal,
    clkTck,
    pageSize,
  };
}

interface KnownIdentity {
  start: number;
  kernel: boolean;
  seenGen: number;
}

/** CPU at the last bounded scan that parsed the pid's `stat`; kept while the pid is listed. */
interface PrevCpu extends CpuSample {
  listedGen: number;
}

/** A bounded scan's state: the rules, the exempt pids and the row budget outside them. */
interface BoundedScan {
  bounds: NormalBounds;
  names: NameFilter;
  keep: Set<number>;
  /** rows for pids not in `keep` (Infinity: no cap) */
  freeBudget: number;
}

export class ProcfsReader {
  readonly procRoot: string;
  readonly backend = 'ts' as const;
  private readonly files = new ProcFiles();
  private readonly known = new Map<number, KnownIdentity>();
  private readonly prevCpu = new Map<number, PrevCpu>();
  private gen = 0;
  private hostnameCache: string | undefined;

  constructor(opts: ReaderOptions = {}) {
    this.procRoot = path.resolve(opts.procRoot ?? '/proc');
    this.hostnameCache = opts.hostName || undefined;
  }

  /** Throws NRDOT_ERR_NOT_PROCFS when the root lacks the host files. */
  validateRoot(): void {
    checkProcRoot(this.procRoot);
    this.readHost();
  }

  readHost(): HostInfo {
    const root = this.procRoot;
    if (this.hostnameCache === undefined) this.hostnameCache = readHostname(root);
    return hostInfoFromTexts(
      root,
      {
        stat: this.readText(path.join(root, 'stat')),
        uptime: this.readText(path.join(root, 'uptime')),
        meminfo: this.readText(path.join(root, 'meminfo')),
      },
      this.hostnameCache,
    );
  }

  listPids(): number[] {
    const out: number[] = [];
    for (const name of fs.readdirSync(this.procRoot)) {
      if (!PID_NAME.test(name)) continue;
      out.push(Number(name));
    }
    return out;
  }

  /**
   * One scan. Every process gets `stat`; `status`, `io` and the fd count
   * (FLAG_DETAIL) are read for every process unless `opts.detail` lists the
   * pids that need them, in which case only those and identities new in this
   * scan get them (the others keep -1 there). `opts.files` masks the three
   * files off for detail rows; a fresh identity still reads `status`, and
   * `cmdline`, `exe` and (unless `opts.cgroup` is false) `cgroup`.
   */
  scan(opts: ScanOptions = {}): ProcessBatch {
    const host = this.readHost();
    const pids = this.listPids();
    const b = allocBatch(pids.length, host);
    const gen = ++this.gen;
    const freshRows: number[] = [];
    const detailPids = opts.detail ? new Set(opts.detail) : undefined;
    const mask = resolveFiles(opts.files);
    const readCgroup = opts.cgroup !== false;
    const c = b.counters;
    const { clkTck, pageSize } = host;
    const bd = opts.bounds ? this.startBounded(opts, pids, b) : undefined;
    const excluded = b.counters.excluded!;
    let freeRows = 0;
    let n = 0;
    for (const pid of pids) {
      if (this.prevCpu.size > 0) {
        const pc = this.prevCpu.get(pid);
        if (pc) pc.listedGen = gen;
      }
      const keep = bd?.keep.has(pid) === true;
      if (bd && !keep && freeRows >= bd.freeBudget) {
        excluded.max_processes++; // over the cap: not even `stat` is read
        continue;
      }
      const dir = `${this.procRoot}/${pid}`;
      const statText = this.files.read(`${dir}/stat`, c, 'utf8');
      if (statText == null) continue; // vanished, or (never seen in practice) denied
      const st = parseStat(statText);
      if (!st) {
        c.malformed++;
        continue;
      }
      if (bd) {
        const cpuSec = st.utime / clkTck + st.stime / clkTck;
        let pc = this.prevCpu.get(pid);
        const why = keep
          ? undefined
          : excludedBy(
              bd.bounds,
              bd.names,
              st.comm,
              st.rss * pageSize,
              st.starttime,
              cpuSec,
              host.uptimeSec,
              clkTck,
              pc,
            );
        // Every parsed `stat` of a bounded scan is the base of the next CPU rate.
        if (!pc) {
          pc = { start: 0, cpuSec: 0, uptime: 0, listedGen: gen };
          this.prevCpu.set(pid, pc);
        }
        pc.start = st.starttime;
        pc.cpuSec = cpuSec;
        pc.uptime = host.uptimeSec;
        if (why) {
          excluded[why]++;
          continue;
        }
      }
      const prev = this.known.get(pid);
      const fresh = !prev || prev.start !== st.starttime;
      const detail = !detailPids || fresh || detailPids.has(pid);

      let status: ReturnType<typeof parseStatus> | undefined;
      let ioText: string | undefined;
      let fdCount = -1;
      if (detail) {
        // A fresh identity reads `status` whatever the mask: its Uid names the owner.
        if (mask.status || fresh) {
          const statusText = this.files.read(`${dir}/status`, c, 'latin1', dir);
          if (statusText === null) continue;
          if (statusText !== undefined) status = parseStatus(statusText);
        }
        if (mask.io) {
          const io = this.files.read(`${dir}/io`, c, 'latin1', dir);
          if (io === null) continue;
          ioText = io;
        }
        if (mask.fds) {
          const fds = this.files.countFds(`${dir}/fd`, c, dir);
          if (fds === null) continue;
          fdCount = fds;
        }
      }

      let flags = detail ? FLAG_DETAIL : 0;
      if (fresh) {
        const raw = this.files.read(`${dir}/cmdline`, c, 'utf8', dir);
        if (raw === null) continue;
        const cmdline = parseCmdline(raw ?? '');
        const kernel = (st.flags & PF_KTHREAD) !== 0;
        let exe = '';
        try {
          exe = fs.readlinkSync(`${dir}/exe`);
        } catch (e) {
          if (isDenied(errnoOf(e))) c.denied++;
        }
        const cgroup = readCgroup ? this.files.readCgroup(dir, c) : '';
        if (cgroup === null) continue;
        this.known.set(pid, { start: st.starttime, kernel, seenGen: gen });
        freshRows.push(n);
        b.freshName.push(st.comm);
        b.freshCmdline.push(cmdline);
        b.freshExe.push(exe);
        b.freshCgroup.push(cgroup);
        flags |= FLAG_NEW_IDENTITY;
        if (kernel) flags |= FLAG_KERNEL_THREAD;
      } else {
        prev.seenGen = gen;
        if (prev.kernel) flags |= FLAG_KERNEL_THREAD;
      }

      b.pid[n] = pid;
      b.ppid[n] = st.ppid;
      b.startTicks[n] = st.starttime;
      b.utimeSec[n] = st.utime / clkTck;
      b.stimeSec[n] = st.stime / clkTck;
      b.iowaitSec[n] = st.blkioTicks / clkTck;
      b.rssBytes[n] = countOrUnknown(st.rss * pageSize);
      b.vsizeBytes[n] = countOrUnknown(st.vsize);
      b.threads[n] = st.threads;
      b.state[n] = st.state;
      b.minFaults[n] = countOrUnknown(st.minflt);
      b.majFaults[n] = countOrUnknown(st.majflt);
      if (status) {
        b.uid[n] = status.uid;
        b.volCtx[n] = countOrUnknown(status.volCtx);
        b.involCtx[n] = countOrUnknown(status.involCtx);
      }
      if (ioText !== undefined) {
        const io = parseIo(ioText);
        b.readBytes[n] = countOrUnknown(io.readBytes);
        b.writeBytes[n] = countOrUnknown(io.writeBytes);
      }
      b.fds[n] = fdCount;
      b.flags[n] = flags;
      n++;
      if (!keep) freeRows++;
    }
    // Forget identities not seen in this scan, and CPU samples of pids no longer listed.
    for (const [pid, k] of this.known) if (k.seenGen !== gen) this.known.delete(pid);
    for (const [pid, p] of this.prevCpu) if (p.listedGen !== gen) this.prevCpu.delete(pid);
    b.count = n;
    b.freshRows = Int32Array.from(freshRows);
    b.scannedAtMs = Date.now();
    return b;
  }

  /**
   * Set up a bounded scan: `counters.excluded`, the exempt pids, and for
   * `maxProcesses` the pids in numeric order (the native scanner's order)
   * with the rows of listed `keep` pids reserved.
   */
  private startBounded(opts: ScanOptions, pids: number[], b: ProcessBatch): BoundedScan {
    const bounds = normalizeBounds(opts.bounds!);
    // Int32 like the addon's `keep`, so both backends exempt the same pids.
    const keep = new Set<number>(opts.keep ? Int32Array.from(opts.keep) : []);
    b.counters.excluded = emptyExcluded();
    let freeBudget = Number.POSITIVE_INFINITY;
    if (bounds.maxProcesses > 0) {
      pids.sort((x, y) => x - y);
      let listedKeep = 0;
      for (const p of pids) if (keep.has(p)) listedKeep++;
      freeBudget = Math.max(0, bounds.maxProcesses - listedKeep);
    }
    return { bounds, names: new NameFilter(bounds.excludeNames), keep, freeBudget };
  }

  /** Nothing to release: the reader keeps no fds between scans. */
  close(): void {}

  private readText(file: string): string | undefined {
    try {
      return fs.readFileSync(file, 'latin1');
    } catch {
      return undefined;
    }
  }
}
