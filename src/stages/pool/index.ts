/**
 * pool: the group each process rolls up into (pod, container, systemd
 * service or executable name, from its cgroup), and the pre-fork pools:
 * processes with the same executable in the same group are one pool,
 * whatever their parents are. In a pool, the members whose parent is in the
 * pool too are its workers; when no member's parent is (a flat pool under
 * pid 1, supervisord or systemd), the oldest member stands as the master and
 * the others are workers. A child of a process with the same executable is
 * a worker as well, in whichever group. A worker is one tier below its rules, so the
 * master keeps the rule's tier; the profile then keeps at most the
 * profile's `pools.top_k` busiest workers of a pool at full resolution.
 * A worker whose pid is in the `important` set (a discovered service's
 * process) is never demoted below important.
 */
import type { Config } from '../../config/schema.js';
import type { Frame } from '../../core/frame.js';
import type { GroupCatalog } from '../../core/groups.js';
import type { Column, IdentityTable } from '../../core/identity.js';
import { Interned } from '../../core/interned.js';
import type { Stage } from '../../pipeline/stage.js';
import { FLAG_KERNEL_THREAD } from '../../sources/batch.js';
import { TIER_IMPORTANT, TIER_NOISE } from '../../telemetry/names.js';
import type { ImportantPids } from '../classify/floor.js';
import { type CgroupInfo, parseCgroup } from './cgroup.js';
import { type GroupBy, groupFor } from './naming.js';
import { PoolLayout } from './pools.js';

/** distinct cgroup texts whose parse is remembered (then it starts over) */
const CGROUP_CACHE = 16384;

export class PoolStage implements Stage {
  readonly name = 'pool';
  /** per slot: the group id (catalog), and an id of the executable name */
  private readonly group: Column<Int32Array>;
  private readonly exe: Column<Int32Array>;
  /** executable names by id: an id is given back when no process of a cycle has the name */
  readonly names = new Interned<string>();
  private readonly by: readonly GroupBy[];
  private readonly template: string;
  private readonly demote: boolean;
  /** each row's parent slot (-1: not in the table, or a kernel thread), reused from cycle to cycle */
  private parent = new Int32Array(0);
  private readonly layout = new PoolLayout();
  private readonly parsed = new Map<string, CgroupInfo | undefined>();

  constructor(
    private readonly ids: IdentityTable,
    private readonly catalog: GroupCatalog,
    cfg: Pick<Config, 'groups' | 'classification'>,
    private readonly important?: ImportantPids,
  ) {
    this.group = ids.i32('pool.group', { init: -1 });
    this.exe = ids.i32('pool.exe', { init: -1 });
    this.by = cfg.groups.by;
    this.template = cfg.groups.template;
    this.demote = cfg.classification.demote_pool_workers;
  }

  process(f: Frame): void {
    const b = f.batch;
    const ids = this.ids;
    const group = this.group.data;
    const exe = this.exe.data;
    // groups of identities whose strings arrived (or changed) this cycle
    for (let i = 0; i < f.n; i++) {
      const s = f.slot[i]!;
      if (f.named[i] !== 1 && group[s]! >= 0) continue;
      const text = ids.cgroup[s];
      const cgroup = text ? this.cgroupInfo(text) : undefined;
      const info = groupFor(
        { name: ids.name[s]!, exe: ids.exe[s]!, owner: ids.owner[s]!, cgroup },
        this.by,
        this.template,
      );
      group[s] = this.catalog.intern(info);
      exe[s] = this.names.id(ids.name[s]!, String);
    }
    // each row's group, and its parent's slot looked up once (-1: not in the table, or a kernel
    // thread); the groups and names the rows use are marked, for the retain at the end
    const n = f.n;
    const parent = this.scratch(n);
    const usedGroups = this.catalog.usedMask();
    const usedNames = this.names.usedMask();
    for (let i = 0; i < n; i++) {
      const s = f.slot[i]!;
      const g = group[s]!;
      f.group[i] = g;
      if (g >= 0) usedGroups[g] = 1;
      const e = exe[s]!;
      if (e >= 0) usedNames[e] = 1;
      parent[i] = (b.flags[i]! & FLAG_KERNEL_THREAD) !== 0 ? -1 : ids.slotOf(b.ppid[i]!);
    }
    // pools: same executable in the same group, laid out once in the frame (the profile caps them)
    const pools = this.layout.build(f, group, exe);
    const { poolStart, poolRows } = f;
    for (let p = 0; p < pools; p++) {
      const from = poolStart[p]!;
      const to = poolStart[p + 1]!;
      let roots = 0;
      let oldest = -1;
      for (let j = from; j < to; j++) {
        const i = poolRows[j]!;
        const s = f.slot[i]!;
        const ps = parent[i]!;
        const parentIn = ps >= 0 && ps !== s && group[ps] === group[s] && exe[ps] === exe[s];
        if (parentIn) f.worker[i] = 1;
        else {
          roots++;
          if (
            oldest < 0 ||
            b.startTicks[i]! < b.startTicks[oldest]! ||
            (b.startTicks[i] === b.startTicks[oldest] && b.pid[i]! < b.pid[oldest]!)
          )
            oldest = i;
        }
      }
      // a flat pool: every member's parent is outside it; the oldest stands as its master
      if (roots === to - from) {
        for (let j = from; j < to; j++) if (poolRows[j] !== oldest) f.worker[poolRows[j]!] = 1;
      }
    }
    // a child of a process with the same executable is a worker too, whichever
    // group it is in (sshd sessions under the listening sshd, each in its own
    // session scope; systemd --user instances; forked children moved to their
    // own cgroup): it stands one tier below its rule, like a pool's worker
    for (let i = 0; i < n; i++) {
      if (f.worker[i] === 1 || parent[i]! < 0) continue;
      const s = f.slot[i]!;
      const ps = parent[i]!;
      if (ps >= 0 && ps !== s && exe[ps]! === exe[s]!) f.worker[i] = 1;
    }
    const floor = this.important?.of(f);
    for (let i = 0; i < f.n; i++) {
      if (f.worker[i] !== 1) continue;
      if (this.demote && f.prot[i] === 0 && f.tier[i]! < TIER_NOISE) {
        const t = f.tier[i]! + 1;
        f.tier[i] = t > TIER_IMPORTANT && floor?.has(b.pid[i]!) ? Math.min(f.tier[i]!, TIER_IMPORTANT) : t;
      }
    }
    f.facts.pools = pools;
    // groups and names no process of this cycle has are forgotten (the slots of the others are freed at its end)
    this.catalog.retain(usedGroups);
    this.names.retain(usedNames);
  }

  /** What a cgroup text says, parsed once per distinct text (a container's or a service's processes share one). */
  private cgroupInfo(text: string): CgroupInfo | undefined {
    let info = this.parsed.get(text);
    if (info === undefined && !this.parsed.has(text)) {
      info = parseCgroup(text);
      if (this.parsed.size >= CGROUP_CACHE) this.parsed.clear();
      this.parsed.set(text, info);
    }
    return info;
  }

  private scratch(n: number): Int32Array {
    if (this.parent.length < n) this.parent = new Int32Array(Math.max(n, Math.ceil(this.parent.length * 1.5)));
    return this.parent.subarray(0, n);
  }
}
