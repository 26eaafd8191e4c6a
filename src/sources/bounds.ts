/**
 * Bounded discovery: which processes a scan leaves out, and the counts of
 * what it left out. Both backends apply these rules right after a process's
 * `stat` is parsed, before `status`, `io`, `fd/` or `cmdline` are read (the
 * native one in native/scanner.cc, `Scanner::Excluded`), and both produce the
 * same rows and counters on the same tree.
 *
 * Order: `maxProcesses` first (over the cap, not even `stat` is read), then
 * name, rss, age, cpu. A process is counted once, under the first bound that
 * excludes it. Pids in `ScanOptions.keep` pass every bound.
 */
export interface ScanBounds {
  /**
   * Rows at most (0 or absent: no cap). The rows are the `keep` pids plus
   * the first processes in pid order that pass the other bounds, so the cap
   * is the same on both backends and stable from scan to scan. Listed `keep`
   * pids have their rows reserved: rows ≤ max(maxProcesses, listed keep pids).
   */
  maxProcesses?: number;
  /**
   * Patterns over the comm name (`stat` field 2, at most 15 bytes): an exact
   * name, or a prefix followed by one trailing `*` (`kworker/*`). No other
   * wildcard: the native scanner matches bytes, without a regex engine.
   */
  excludeNames?: readonly string[];
  /**
   * CPU below this percent of ONE core is left out: the rate since this
   * scanner's previous bounded scan read the process, or its lifetime
   * average when there is none (the engine's rule, src/state/counters.ts).
   */
  minCpuPercent?: number;
  /** RSS below this many bytes is left out. */
  minRssBytes?: number;
  /**
   * Processes younger than this many seconds (on the tree's own clock) are
   * left out. This hides short-lived processes, and with them a fork bomb
   * whose children never grow old: keep it 0 unless the host's churn costs
   * more than that visibility is worth.
   */
  minAgeSec?: number;
}

/** Processes left out by each bound in one scan (ScanCounters.excluded). */
export interface ExcludedCounters {
  max_processes: number;
  name: number;
  cpu: number;
  rss: number;
  age: number;
}

export function emptyExcluded(): ExcludedCounters {
  return { max_processes: 0, name: 0, cpu: 0, rss: 0, age: 0 };
}

/** Why a pattern of `exclude_names` is not usable, or undefined when it is. */
export function namePatternProblem(p: string): string | undefined {
  if (p.length === 0) return 'empty pattern';
  const star = p.indexOf('*');
  if (star >= 0 && star !== p.length - 1) {
    return `'${p}': only one '*', at the end, is supported (an exact name, or a prefix followed by '*')`;
  }
  if (p.includes('\uFFFD')) return `'${p}': U+FFFD cannot be matched against raw comm bytes`;
  return undefined;
}

/** Exact names and prefixes, matched against the decoded comm. */
export class NameFilter {
  private readonly exact: Set<string>;
  private readonly prefixes: string[];

  constructor(patterns: readonly string[]) {
    this.exact = new Set();
    this.prefixes = [];
    for (const p of patterns) {
      if (p.endsWith('*')) this.prefixes.push(p.slice(0, -1));
      else this.exact.add(p);
    }
  }

  get empty(): boolean {
    return this.exact.size === 0 && this.prefixes.length === 0;
  }

  matches(comm: string): boolean {
    if (this.exact.has(comm)) return true;
    for (const p of this.prefixes) if (comm.startsWith(p)) return true;
    return false;
  }
}

/** Bounds with every field present and checked; throws TypeError on bad values (like the addon). */
export interface NormalBounds {
  maxProcesses: number;
  excludeNames: readonly string[];
  minCpuPercent: number;
  minRssBytes: number;
  minAgeSec: number;
}

export function normalizeBounds(b: ScanBounds): NormalBounds {
  const num = (key: keyof ScanBounds, v: number | undefined): number => {
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !(v >= 0)) throw new TypeError(`scan bounds: ${key} must be a number >= 0`);
    return v;
  };
  const names = b.excludeNames ?? [];
  for (const p of names) {
    const why = typeof p === 'string' ? namePatternProblem(p) : 'not a string';
    if (why) throw new TypeError(`scan bounds: excludeNames: ${why}`);
  }
  return {
    maxProcesses: Math.floor(num('maxProcesses', b.maxProcesses)),
    excludeNames: names,
    minCpuPercent: num('minCpuPercent', b.minCpuPercent),
    minRssBytes: num('minRssBytes', b.minRssBytes),
    minAgeSec: num('minAgeSec', b.minAgeSec),
  };
}

/** Previous CPU sample of a pid (the base of the next rate). */
export interface CpuSample {
  start: number;
  cpuSec: number;
  uptime: number;
}

/**
 * The bound that excludes a process, or undefined. `cpuSec` is
 * utime/clkTck + stime/clkTck; `uptime` the tree's clock. The arithmetic is
 * the native scanner's, operation for operation, so both decide alike.
 */
export function excludedBy(
  b: NormalBounds,
  names: NameFilter,
  comm: string,
  rssBytes: number,
  startTicks: number,
  cpuSec: number,
  uptime: number,
  clkTck: number,
  prev: CpuSample | undefined,
): keyof ExcludedCounters | undefined {
  if (!names.empty && names.matches(comm)) return 'name';
  if (b.minRssBytes > 0 && rssBytes < b.minRssBytes) return 'rss';
  if (b.minAgeSec > 0 && uptime - startTicks / clkTck < b.minAgeSec) return 'age';
  if (b.minCpuPercent > 0) {
    let cores: number;
    const dt = prev ? uptime - prev.uptime : 0;
    if (prev && prev.start === startTicks && dt > 0) {
      const d = cpuSec - prev.cpuSec;
      cores = d > 0 ? d / dt : 0;
    } else {
      const age = uptime - startTicks / clkTck;
      cores = age > 0 ? cpuSec / age : 0;
    }
    if (cores * 100 < b.minCpuPercent) return 'cpu';
  }
  return undefined;
}
