/**
 * Roll-up into groups: every row not exported at full resolution adds its
 * values to its group's aggregate. Gauges (RSS, virtual size, threads, fds,
 * utilization) are summed over the members whose value is known, and each
 * metric says how many members contributed; cumulative counters grow by
 * exactly what the members consumed since the previous cycle. So kept
 * members + group aggregate = all members, for every known value.
 *
 * The biggest groups (CPU share of the host plus memory share) keep their own
 * aggregate, up to the profile's group budget; the rest go to `_other_`.
 * Pure over columns, apart from the cumulative state it is handed.
 */
import type { Frame, RollupGroup } from '../../core/frame.js';
import type { GroupCatalog } from '../../core/groups.js';
import { ROLLUP_NAME } from '../../telemetry/names.js';
import { NCOUNTERS } from '../rates/counters.js';

/** Per-metric contributors, in this order. */
export const CONTRIBUTIONS = [
  'cpuTime',
  'memoryUsage',
  'memoryVirtual',
  'diskIo',
  'threads',
  'fds',
  'faults',
  'switches',
  'utilization',
] as const;
export type Contribution = (typeof CONTRIBUTIONS)[number];

/** The running sums of one group's cumulative series. */
export interface GroupSeries {
  cumulative: Float64Array;
  startMs: number;
  /** cycle this group last had members */
  seen: number;
}

const K = CONTRIBUTIONS.length;

/** f64 values per group: cpuCores, rss, vsize, threads, fds, util (3), deltas (NCOUNTERS) */
const F64_PER_GROUP = 5 + 3 + NCOUNTERS;

/** Sums of one cycle, per group id: two grow-only buffers, zeroed each cycle. */
export class Sums {
  private cap = 0;
  private f64 = new Float64Array(0);
  private i32 = new Int32Array(0);
  count: Int32Array = this.i32;
  known: Int32Array = this.i32; // CONTRIBUTIONS.length per group
  cpuCores: Float64Array = this.f64;
  rss: Float64Array = this.f64;
  vsize: Float64Array = this.f64;
  threads: Float64Array = this.f64;
  fds: Float64Array = this.f64;
  util: Float64Array = this.f64; // 3 per group
  deltas: Float64Array = this.f64; // NCOUNTERS per group

  /** Room for group ids below `n`, every sum 0. */
  reset(n: number): void {
    if (n <= this.cap) {
      this.f64.fill(0);
      this.i32.fill(0);
      return;
    }
    const c = Math.max(n, Math.ceil(this.cap * 1.5), 64);
    this.cap = c;
    this.f64 = new Float64Array(c * F64_PER_GROUP);
    this.i32 = new Int32Array(c * (1 + K));
    this.count = this.i32.subarray(0, c);
    this.known = this.i32.subarray(c);
    let at = 0;
    const next = (width: number) => {
      const view = this.f64.subarray(at * c, (at + width) * c);
      at += width;
      return view;
    };
    const views = [1, 1, 1, 1, 1, 3, NCOUNTERS].map(next);
    [this.cpuCores, this.rss, this.vsize, this.threads, this.fds, this.util, this.deltas] = views as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
  }
}

const KI = Object.fromEntries(CONTRIBUTIONS.map((c, i) => [c, i])) as Record<Contribution, number>;

/**
 * The cycle's aggregates: own-aggregate groups (at most `budget`, biggest
 * first, each with at least `minMembers` rolled-up members) and `_other_`
 * for the rest. `series` holds the cumulative state by
 * group name (and `ROLLUP_NAME` for `_other_`); new series start at
 * `startMs` (never after the point time). `sums`: the per-group buffers,
 * reused from cycle to cycle by the caller.
 */
export function aggregate(
  f: Frame,
  catalog: GroupCatalog,
  budget: number,
  series: Map<string, GroupSeries>,
  cycle: number,
  startMs: number,
  minMembers: number,
  sums: Sums = new Sums(),
): RollupGroup[] {
  const b = f.batch;
  const n = f.n;
  sums.reset(catalog.bound + 1);
  const d = f.deltas;
  let any = false;
  for (let i = 0; i < n; i++) {
    if (f.keep[i] === 1) continue;
    any = true;
    const g = f.group[i]!;
    sums.count[g]!++;
    sums.cpuCores[g]! += f.cpuCores[i]!;
    const kb = g * K;
    if (b.utimeSec[i]! >= 0) sums.known[kb + KI.cpuTime]!++;
    const rss = b.rssBytes[i]!;
    if (rss >= 0) {
      sums.rss[g]! += rss;
      sums.known[kb + KI.memoryUsage]!++;
    }
    const vs = b.vsizeBytes[i]!;
    if (vs >= 0) {
      sums.vsize[g]! += vs;
      sums.known[kb + KI.memoryVirtual]!++;
    }
    if (b.readBytes[i]! >= 0 && b.writeBytes[i]! >= 0) sums.known[kb + KI.diskIo]!++;
    const th = b.threads[i]!;
    if (th >= 0) {
      sums.threads[g]! += th;
      sums.known[kb + KI.threads]!++;
    }
    const fd = b.fds[i]!;
    if (fd >= 0) {
      sums.fds[g]! += fd;
      sums.known[kb + KI.fds]!++;
    }
    if (b.minFaults[i]! >= 0 && b.majFaults[i]! >= 0) sums.known[kb + KI.faults]!++;
    if (b.volCtx[i]! >= 0 && b.involCtx[i]! >= 0) sums.known[kb + KI.switches]!++;
    const u = f.cpuState[i * 3]!;
    if (!Number.isNaN(u)) {
      sums.util[g * 3]! += u;
      sums.util[g * 3 + 1]! += f.cpuState[i * 3 + 1]!;
      sums.util[g * 3 + 2]! += f.cpuState[i * 3 + 2]!;
      sums.known[kb + KI.utilization]!++;
    }
    const base = i * NCOUNTERS;
    const gb = g * NCOUNTERS;
    for (let k = 0; k < NCOUNTERS; k++) sums.deltas[gb + k]! += d[base + k]!;
  }
  if (!any) return [];

  // rank the groups with members by their share of the host's CPU and memory
  let mem = b.host.memTotalBytes;
  if (!(mem > 0)) {
    mem = 0;
    for (let g = 0; g < catalog.bound; g++) mem += sums.rss[g]!;
    if (!(mem > 0)) mem = 1;
  }
  const cpus = b.host.cpuCount;
  const present: number[] = [];
  for (let g = 0; g < catalog.bound; g++) if (sums.count[g]! > 0) present.push(g);
  const activity = (g: number) => sums.cpuCores[g]! / cpus + sums.rss[g]! / mem;
  present.sort((x, y) => activity(y) - activity(x) || catalog.get(x).name.localeCompare(catalog.get(y).name));
  const own: number[] = [];
  const rest: number[] = [];
  for (const g of present) {
    if (own.length < budget && sums.count[g]! >= minMembers) own.push(g);
    else rest.push(g);
  }

  const out: RollupGroup[] = [];
  const seriesOf = (name: string): GroupSeries => {
    let s = series.get(name);
    if (!s) {
      s = { cumulative: new Float64Array(NCOUNTERS), startMs, seen: cycle };
      series.set(name, s);
    }
    s.seen = cycle;
    return s;
  };
  const emit = (gs: readonly number[], name: string, attrs: readonly (readonly [string, string])[]) => {
    const s = seriesOf(name);
    const r: RollupGroup = {
      name,
      attrs,
      count: 0,
      cpuCores: 0,
      rssBytes: 0,
      vsizeBytes: 0,
      threads: 0,
      fds: 0,
      utilization: [0, 0, 0],
      known: Object.fromEntries(CONTRIBUTIONS.map((c) => [c, 0])) as Record<Contribution, number>,
      cumulative: s.cumulative,
      startMs: s.startMs,
    };
    for (const g of gs) {
      r.count += sums.count[g]!;
      r.cpuCores += sums.cpuCores[g]!;
      r.rssBytes += sums.rss[g]!;
      r.vsizeBytes += sums.vsize[g]!;
      r.threads += sums.threads[g]!;
      r.fds += sums.fds[g]!;
      for (let k = 0; k < 3; k++) r.utilization[k]! += sums.util[g * 3 + k]!;
      for (let k = 0; k < K; k++) r.known[CONTRIBUTIONS[k]!] += sums.known[g * K + k]!;
      for (let k = 0; k < NCOUNTERS; k++) s.cumulative[k]! += sums.deltas[g * NCOUNTERS + k]!;
    }
    out.push(r);
  };
  for (const g of own) {
    const info = catalog.get(g);
    emit([g], info.name, info.attrs);
  }
  if (rest.length > 0) emit(rest, ROLLUP_NAME, [['process.executable.name', ROLLUP_NAME]]);
  return out;
}

/** Forget the series of groups that had no members for `cycles` cycles. */
export function forgetIdle(series: Map<string, GroupSeries>, cycle: number, cycles: number): void {
  for (const [name, s] of series) if (name !== ROLLUP_NAME && cycle - s.seen > cycles) series.delete(name);
}
