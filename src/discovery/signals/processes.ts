/**
 * The process table as discovery needs it: pid, parent, name, command line
 * and executable path, read from `<procRoot>/<pid>/{stat,cmdline,exe}`.
 * Other users' `exe` links need CAP_SYS_PTRACE: those stay unknown and are
 * counted. The loop yields to the event loop every few hundred processes so
 * an agent calling discovery keeps serving.
 */
import * as fs from 'node:fs';
import { errnoOf } from '../../core/errors.js';
import { parseCmdline } from '../../sources/procfs/parse.js';
import type { Host } from '../host.js';

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** comm from stat (at most 15 characters) */
  comm: string;
  /** argv joined with spaces ('' for kernel threads) */
  cmdline: string;
  /** /proc/<pid>/exe target; undefined when unreadable */
  exe?: string;
}

export interface ProcessTable {
  procs: ProcInfo[];
  byPid: Map<number, ProcInfo>;
  /** processes whose exe link was denied */
  exeDenied: number;
}

const PID_NAME = /^[1-9][0-9]*$/;
const BUF = Buffer.allocUnsafe(1 << 16);
export const YIELD_EVERY = 512;

export const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Read a small file through one reused buffer; undefined when it cannot be read. */
export function readSmall(file: string): string | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    let n = 0;
    for (;;) {
      const r = fs.readSync(fd, BUF, n, BUF.length - n, null);
      if (r === 0 || n + r >= BUF.length) {
        n += r;
        break;
      }
      n += r;
    }
    return BUF.toString('latin1', 0, n);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * comm and ppid from a `stat` line (the comm may hold spaces and parentheses,
 * so it ends at the last ')'); null for a truncated line.
 */
export function commAndPpid(line: string): { comm: string; ppid: number } | null {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 1 || close < open) return null;
  // ") S 1234 ": state, then ppid
  const start = close + 4;
  const end = line.indexOf(' ', start);
  if (end < 0) return null;
  const ppid = Number(line.slice(start, end));
  return Number.isInteger(ppid) ? { comm: line.slice(open + 1, close), ppid } : null;
}

/** List the pids of the tree (numeric directory names), sorted. */
export function listPids(host: Host): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync(host.procRoot)) if (PID_NAME.test(name)) pids.push(Number(name));
  return pids.sort((a, b) => a - b);
}

export async function readProcesses(host: Host): Promise<ProcessTable> {
  const procs: ProcInfo[] = [];
  const byPid = new Map<number, ProcInfo>();
  let exeDenied = 0;
  const pids = listPids(host);
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await yieldNow();
    const pid = pids[i]!;
    const dir = `${host.procRoot}/${pid}`;
    const statText = readSmall(`${dir}/stat`);
    if (statText === undefined) continue; // exited
    const st = commAndPpid(statText);
    if (!st) continue;
    const raw = readSmall(`${dir}/cmdline`);
    const cmdline = raw === undefined ? '' : parseCmdline(raw);
    let exe: string | undefined;
    if (cmdline !== '') {
      // kernel threads have no cmdline and no exe; skip the syscall
      try {
        exe = fs.readlinkSync(`${dir}/exe`);
        if (exe.endsWith(' (deleted)')) exe = exe.slice(0, -10);
      } catch (e) {
        const code = errnoOf(e);
        if (code === 'EACCES' || code === 'EPERM') exeDenied++;
      }
    }
    const p: ProcInfo = { pid, ppid: st.ppid, comm: st.comm, cmdline, exe };
    procs.push(p);
    byPid.set(pid, p);
  }
  return { procs, byPid, exeDenied };
}

/** /proc/<pid>/cwd as a host path; undefined when unreadable. */
export function readCwd(host: Host, pid: number): string | undefined {
  try {
    return fs.readlinkSync(host.proc(`${pid}/cwd`));
  } catch {
    return undefined;
  }
}

/** The systemd unit a process runs in, from its cgroup path (`.../redis-server.service`). */
export function readUnitOfProcess(host: Host, pid: number): string | undefined {
  const text = readSmall(host.proc(`${pid}/cgroup`));
  if (!text) return undefined;
  for (const line of text.split('\n')) {
    const m = /\/([^/]+\.service)(?:\/|$)/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}
