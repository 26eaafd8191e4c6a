/**
 * Pure parsers for procfs text. No I/O here, so both real and synthetic trees
 * (and the native backend's parity test) share exactly one interpretation.
 */

export interface StatFields {
  pid: number;
  comm: string;
  state: number; // char code
  ppid: number;
  /** kernel flags word (`stat` field 9); PF_KTHREAD marks kernel threads */
  flags: number;
  minflt: number;
  majflt: number;
  utime: number; // ticks
  stime: number; // ticks
  threads: number;
  starttime: number; // ticks since boot
  vsize: number; // bytes
  rss: number; // pages
  blkioTicks: number; // delayacct_blkio_ticks, 0 when absent
}

const SPACE = 32;

/** PF_KTHREAD in the `stat` flags word: the authoritative kernel-thread mark. */
export const PF_KTHREAD = 0x00200000;

/**
 * Parse `/proc/<pid>/stat`. The comm field is wrapped in parentheses and may
 * itself contain spaces and parentheses, so it ends at the LAST ')'.
 * Returns null for a line that is truncated or garbage.
 */
export function parseStat(line: string): StatFields | null {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 1 || close < open) return null;
  const pid = toInt(line, 0, open - 1);
  if (!(pid > 0)) return null;
  const comm = line.slice(open + 1, close);
  // Fields after the comm, 0 = state (field 3 of proc(5)).
  const f: number[] = [];
  let i = close + 2;
  const n = line.length;
  let state = 0;
  let idx = 0;
  while (i < n && idx < 40) {
    while (i < n && line.charCodeAt(i) === SPACE) i++;
    const start = i;
    while (i < n && line.charCodeAt(i) !== SPACE && line.charCodeAt(i) !== 10) i++;
    if (i === start) break;
    if (idx === 0) {
      state = line.charCodeAt(start);
      f.push(0);
    } else {
      f.push(toInt(line, start, i));
    }
    idx++;
    if (i < n && line.charCodeAt(i) === 10) break;
  }
  // Need at least up to rss (field 24 -> index 21).
  if (idx < 22) return null;
  for (let k = 1; k < 22; k++) if (Number.isNaN(f[k])) return null;
  const blk = idx > 39 && !Number.isNaN(f[39]) ? f[39] : 0;
  return {
    pid,
    comm,
    state,
    ppid: f[1],
    flags: f[6],
    minflt: f[7],
    majflt: f[9],
    utime: f[11],
    stime: f[12],
    threads: f[17],
    starttime: f[19],
    vsize: f[20],
    rss: f[21],
    blkioTicks: blk,
  };
}

/** Parse a decimal integer (optionally negative) in s[start, end); NaN on junk. */
function toInt(s: string, start: number, end: number): number {
  let neg = false;
  let i = start;
  if (i < end && s.charCodeAt(i) === 45) {
    neg = true;
    i++;
  }
  if (i >= end) return Number.NaN;
  let v = 0;
  for (; i < end; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return Number.NaN;
    v = v * 10 + c;
  }
  return neg ? -v : v;
}

export interface StatusFields {
  uid: number;
  volCtx: number;
  involCtx: number;
}

/** Parse the fields nrdot uses from `/proc/<pid>/status`; -1 when absent. */
export function parseStatus(text: string): StatusFields {
  return {
    uid: firstNumberAfter(text, '\nUid:'),
    volCtx: firstNumberAfter(text, '\nvoluntary_ctxt_switches:'),
    involCtx: firstNumberAfter(text, '\nnonvoluntary_ctxt_switches:'),
  };
}

export interface IoFields {
  readBytes: number;
  writeBytes: number;
}

/** Parse `/proc/<pid>/io`; -1 when a field is absent. */
export function parseIo(text: string): IoFields {
  const t = `\n${text}`;
  return {
    readBytes: firstNumberAfter(t, '\nread_bytes:'),
    writeBytes: firstNumberAfter(t, '\nwrite_bytes:'),
  };
}

function firstNumberAfter(text: string, key: string): number {
  const at = text.indexOf(key);
  if (at < 0) return -1;
  let i = at + key.length;
  const n = text.length;
  while (i < n && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
  const start = i;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  if (i === start) return -1;
  return Number(text.slice(start, i));
}

/** `cmdline` is NUL-separated argv; join with spaces, drop the trailing NUL. */
export function parseCmdline(raw: string): string {
  let end = raw.length;
  while (end > 0 && raw.charCodeAt(end - 1) === 0) end--;
  if (end === 0) return '';
  return raw.slice(0, end).replace(/\0/g, ' ');
}

export interface HostStat {
  btime: number;
  cpuCount: number;
}

export function parseHostStat(text: string): HostStat | null {
  let btime = -1;
  let cpuCount = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu') && line.length > 3 && line.charCodeAt(3) >= 48 && line.charCodeAt(3) <= 57) {
      cpuCount++;
    } else if (line.startsWith('btime ')) {
      btime = Number(line.slice(6).trim());
    }
  }
  if (!(btime > 0) || cpuCount === 0) return null;
  return { btime, cpuCount };
}

export function parseUptime(text: string): number {
  const sp = text.indexOf(' ');
  const v = Number(sp > 0 ? text.slice(0, sp) : text.trim());
  return Number.isFinite(v) && v >= 0 ? v : Number.NaN;
}

/** MemTotal in bytes, NaN when absent. */
export function parseMemTotal(text: string): number {
  const v = firstNumberAfter(`\n${text}`, '\nMemTotal:');
  return v < 0 ? Number.NaN : v * 1024;
}
