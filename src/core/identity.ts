/**
 * The identity table: one slot per live process identity (pid, start time),
 * and every per-process value any stage keeps as a typed-array column at that
 * slot. There is no per-process JS object: 100k processes cost their columns
 * and their strings.
 *
 * - `assign(batch)` gives each row its slot, once per cycle: a known identity
 *   keeps its slot and columns; a reused pid (same pid, another start time)
 *   resets its slot in place; a new identity takes a free slot with every
 *   column at its initial value. Fresh strings (name, executable path,
 *   command line, owner, cgroup) are stored at the slot (one shared
 *   instance per distinct text, src/core/strings.ts), and the row is
 *   marked `named` only when they differ from the slot's: a source that
 *   sends every row's strings every cycle (received OTLP) costs the stages
 *   that work per identity (classify, pool, baseline) nothing when nothing
 *   changed.
 * - `sweep()` frees the slots of identities the cycle did not see (the
 *   process exited); their columns are reset when the slot is reused.
 * - Stages register their own columns (`f64`, `i32`, `u8`): the table grows
 *   and resets them together, and only the stage that registered a column
 *   holds it. Columns can be shared memory, for scoring workers.
 * - `restore(pid, start)` puts a checkpointed identity back before the first
 *   cycle; it is kept by that cycle only if the process is still there.
 */

import type { ProcessBatch } from '../sources/batch.js';
import { SharedStrings } from './strings.js';

export type ColumnArray = Float64Array | Int32Array | Uint8Array;

interface ArrayCtor<A extends ColumnArray> {
  new (length: number): A;
  new (buffer: ArrayBufferLike): A;
  readonly BYTES_PER_ELEMENT: number;
}

export interface ColumnSpec {
  /** values per slot (default 1) */
  width?: number;
  /** the value of a fresh slot (default 0) */
  init?: number;
  /** backed by a SharedArrayBuffer (scoring workers read and write it) */
  shared?: boolean;
  /** which values a restored checkpoint may hold (default: any finite value, or NaN) */
  valid?: (v: number) => boolean;
}

/** One per-process column: `data[slot * width + k]`. `data` is replaced when the table grows. */
export class Column<A extends ColumnArray = ColumnArray> {
  data: A;
  readonly width: number;
  readonly init: number;
  readonly shared: boolean;
  private readonly valid?: (v: number) => boolean;

  constructor(
    readonly name: string,
    private readonly ctor: ArrayCtor<A>,
    spec: ColumnSpec,
    capacity: number,
  ) {
    this.width = spec.width ?? 1;
    this.init = spec.init ?? 0;
    this.shared = spec.shared ?? false;
    this.valid = spec.valid;
    this.data = this.alloc(capacity);
  }

  /** May a checkpoint restore `v` into this column? */
  accepts(v: number): boolean {
    return this.valid ? this.valid(v) : Number.isFinite(v) || Number.isNaN(v);
  }

  get kind(): 'f64' | 'i32' | 'u8' {
    return this.ctor.BYTES_PER_ELEMENT === 8 ? 'f64' : this.ctor.BYTES_PER_ELEMENT === 4 ? 'i32' : 'u8';
  }

  private alloc(capacity: number): A {
    const n = capacity * this.width;
    const a = this.shared ? new this.ctor(new SharedArrayBuffer(n * this.ctor.BYTES_PER_ELEMENT)) : new this.ctor(n);
    if (this.init !== 0) a.fill(this.init);
    return a;
  }

  /** @internal */
  grow(capacity: number): void {
    const next = this.alloc(capacity);
    next.set(this.data as never);
    this.data = next;
  }

  /** @internal */
  reset(slot: number): void {
    const w = this.width;
    if (w === 1) this.data[slot] = this.init;
    else this.data.fill(this.init, slot * w, slot * w + w);
  }

  /** Every value of every slot back to the initial value (e.g. the host rebooted). */
  clear(): void {
    this.data.fill(this.init);
  }
}

/** What `assign` tells the stages about each row. */
export interface Assignment {
  /** the slot of each row */
  slot: Int32Array;
  /** 1: the identity is new this cycle (its columns are fresh) */
  isNew: Uint8Array;
  /**
   * 1: the row brought strings (name, path, command line, owner, cgroup)
   * that its slot did not hold (always, for a new identity that brought any)
   */
  named: Uint8Array;
}

const EMPTY = -1;
const INITIAL_CAPACITY = 1024;

export class IdentityTable {
  private cap = 0;
  private live = 0;
  /** open addressing, linear probing: pid -> slot (EMPTY = free bucket) */
  private keys = new Int32Array(0);
  private vals = new Int32Array(0);
  private mask = 0;
  private readonly free: number[] = [];
  /** slots ever handed out; slots below it are live or on `free` */
  private high = 0;
  private gen = 0;
  private readonly columns: Column[] = [];
  /** the memory of `assign`'s answer, reused (valid until the next assign) */
  private out = { slot: new Int32Array(0), isNew: new Uint8Array(0), named: new Uint8Array(0) };

  /** identity of each slot */
  readonly pid: Column<Int32Array>;
  readonly start: Column<Float64Array>;
  /** generation that last saw the slot; 0 = restored, not seen yet; -1 = free */
  private readonly seen: Column<Int32Array>;
  /**
   * strings per slot ('' unknown), each the one shared instance of its text:
   * the workers of a pool, the processes of a container or a service repeat
   * the same names, paths, command lines and cgroups
   */
  name: string[] = [];
  exe: string[] = [];
  cmdline: string[] = [];
  owner: string[] = [];
  /** `/proc/<pid>/cgroup` as read (or `process.cgroup` as received) */
  cgroup: string[] = [];
  private readonly shared = new SharedStrings();

  /** Distinct texts the slots' strings hold (each one instance, however many slots carry it). */
  get distinctStrings(): number {
    return this.shared.size;
  }

  /**
   * `owner`: uid → user name for rows that bring no owner of their own
   * (scanned rows; received rows name theirs). Default: numeric.
   */
  constructor(
    capacity = INITIAL_CAPACITY,
    private readonly ownerOf: (uid: number) => string = (uid) => (uid < 0 ? '' : String(uid)),
  ) {
    this.resize(Math.max(16, capacity));
    this.pid = this.i32('identity.pid');
    this.start = this.f64('identity.start');
    this.seen = this.i32('identity.seen', { init: -1 });
  }

  /** Live identities. */
  get size(): number {
    return this.live;
  }

  get capacity(): number {
    return this.cap;
  }

  f64(name: string, spec: ColumnSpec = {}): Column<Float64Array> {
    return this.add(new Column(name, Float64Array, spec, this.cap));
  }

  i32(name: string, spec: ColumnSpec = {}): Column<Int32Array> {
    return this.add(new Column(name, Int32Array, spec, this.cap));
  }

  u8(name: string, spec: ColumnSpec = {}): Column<Uint8Array> {
    return this.add(new Column(name, Uint8Array, spec, this.cap));
  }

  private add<A extends ColumnArray>(c: Column<A>): Column<A> {
    if (this.columns.some((x) => x.name === c.name)) throw new Error(`identity column '${c.name}' registered twice`);
    this.columns.push(c);
    return c;
  }

  /** The slot of `pid`, or -1. */
  slotOf(pid: number): number {
    const keys = this.keys;
    for (let h = this.home(pid); ; h = (h + 1) & this.mask) {
      const s = this.vals[h]!;
      if (s === EMPTY) return -1;
      if (keys[h] === pid) return s;
    }
  }

  /** Live slots, in slot order. */
  *slots(): IterableIterator<number> {
    const seen = this.seen.data;
    for (let s = 0; s < this.high; s++) if (seen[s]! >= 0) yield s;
  }

  /**
   * Give every row of `b` its slot for this cycle (one identity check per
   * row), store the strings of fresh rows, and mark the slots seen. The
   * answer's arrays are valid until the next call.
   */
  assign(b: ProcessBatch): Assignment {
    const n = b.count;
    const gen = ++this.gen;
    if (this.out.slot.length < n) {
      const m = Math.max(n, Math.ceil(this.out.slot.length * 1.5));
      this.out = { slot: new Int32Array(m), isNew: new Uint8Array(m), named: new Uint8Array(m) };
    }
    const slot = this.out.slot.subarray(0, n);
    const isNew = this.out.isNew.subarray(0, n);
    const named = this.out.named.subarray(0, n);
    isNew.fill(0);
    named.fill(0);
    // slots grow only when a new identity needs one (the exited are freed by sweep, after the cycle)
    let start = this.start.data;
    let seen = this.seen.data;
    for (let i = 0; i < n; i++) {
      const pid = b.pid[i]!;
      const st = b.startTicks[i]!;
      let s = this.slotOf(pid);
      if (s < 0) {
        // no room: make room for every new identity of the batch at once, not by doubling again and again
        if (this.free.length === 0 && this.high >= this.cap) this.reserve(this.newIn(b, i));
        s = this.insert(pid, st);
        // an insert may have grown the columns: their arrays are new
        start = this.start.data;
        seen = this.seen.data;
        isNew[i] = 1;
      } else if (start[s] !== st) {
        this.renew(s, pid, st); // a reused pid: a new process in the same slot
        isNew[i] = 1;
      }
      seen[s] = gen;
      slot[i] = s;
    }
    const fresh = b.freshCgroup;
    for (let k = 0; k < b.freshRows.length; k++) {
      const i = b.freshRows[k]!;
      const s = slot[i]!;
      const name = b.freshName[k]!;
      const exe = b.freshExe[k]!;
      const cmdline = b.freshCmdline[k]!;
      const owner = b.freshOwner?.[k] || this.ownerOf(b.uid[i]!);
      const cgroup = fresh?.[k] ?? '';
      if (
        isNew[i] === 0 &&
        this.name[s] === name &&
        this.exe[s] === exe &&
        this.cmdline[s] === cmdline &&
        this.owner[s] === owner &&
        this.cgroup[s] === cgroup
      ) {
        continue; // sent again, unchanged
      }
      this.setStrings(s, name, exe, cmdline, owner, cgroup);
      named[i] = 1;
    }
    // a new identity that came without strings: its owner is known from the uid
    for (let i = 0; i < n; i++) {
      if (isNew[i] === 1 && named[i] === 0) this.put(this.owner, slot[i]!, this.ownerOf(b.uid[i]!));
    }
    return { slot, isNew, named };
  }

  /** Room for `extra` more identities without growing (a checkpoint about to be restored, a batch of new ones). */
  reserve(extra: number): void {
    const room = this.free.length + this.cap - this.high;
    if (room < extra) this.resize(this.high + extra - this.free.length);
  }

  /** Rows of `b` from `from` on whose pid has no slot (an upper bound of the identities they add). */
  private newIn(b: ProcessBatch, from: number): number {
    let k = 0;
    for (let i = from; i < b.count; i++) if (this.slotOf(b.pid[i]!) < 0) k++;
    return k;
  }

  /** Free the slots not seen by the last `assign` (their processes exited). Returns how many. */
  sweep(): number {
    const seen = this.seen.data;
    const gen = this.gen;
    let freed = 0;
    for (let s = 0; s < this.high; s++) {
      const g = seen[s]!;
      if (g < 0 || g === gen) continue;
      this.remove(this.pid.data[s]!);
      seen[s] = -1;
      this.setStrings(s, '', '', '', '', '');
      this.free.push(s);
      this.live--;
      freed++;
    }
    return freed;
  }

  /**
   * A checkpointed identity, before the first cycle: its slot (columns at
   * their initial values, for the caller to fill). The next `assign` keeps
   * it when the same (pid, start) is scanned and `sweep` frees it otherwise.
   */
  restore(pid: number, start: number): number {
    let s = this.slotOf(pid);
    if (s >= 0) {
      if (this.start.data[s] !== start) this.renew(s, pid, start);
    } else {
      s = this.insert(pid, start);
    }
    this.seen.data[s] = 0;
    return s;
  }

  private home(pid: number): number {
    return (Math.imul(pid, 0x9e3779b1) >>> 0) & this.mask;
  }

  private insert(pid: number, start: number): number {
    let s = this.free.pop();
    if (s === undefined) {
      if (this.high >= this.cap) this.resize(this.cap + 1);
      // a slot never handed out holds every column's initial value already
      s = this.high++;
    } else {
      for (const c of this.columns) c.reset(s);
    }
    this.pid.data[s] = pid;
    this.start.data[s] = start;
    this.setStrings(s, '', '', '', '', '');
    let h = this.home(pid);
    while (this.vals[h] !== EMPTY) h = (h + 1) & this.mask;
    this.keys[h] = pid;
    this.vals[h] = s;
    this.live++;
    return s;
  }

  private renew(s: number, pid: number, start: number): void {
    for (const c of this.columns) c.reset(s);
    this.pid.data[s] = pid;
    this.start.data[s] = start;
    this.setStrings(s, '', '', '', '', '');
  }

  private setStrings(s: number, name: string, exe: string, cmdline: string, owner: string, cgroup: string): void {
    this.put(this.name, s, name);
    this.put(this.exe, s, exe);
    this.put(this.cmdline, s, cmdline);
    this.put(this.owner, s, owner);
    this.put(this.cgroup, s, cgroup);
  }

  /** Slot `s` of `strings` holds the shared instance of `v`. */
  private put(strings: string[], s: number, v: string): void {
    const was = strings[s];
    if (was === v) return;
    if (was !== undefined) this.shared.drop(was);
    strings[s] = this.shared.hold(v);
  }

  /** Slot `s` takes the strings of slot `o` of `from` (a hot reload: the scanner does not send them again). */
  copyStrings(s: number, from: IdentityTable, o: number): void {
    const str = (a: string[]) => a[o] ?? '';
    this.setStrings(s, str(from.name), str(from.exe), str(from.cmdline), str(from.owner), str(from.cgroup));
  }

  /** Backward-shift deletion: probe chains stay intact without tombstones. */
  private remove(pid: number): void {
    const mask = this.mask;
    let h = this.home(pid);
    for (;;) {
      if (this.vals[h] === EMPTY) return;
      if (this.keys[h] === pid) break;
      h = (h + 1) & mask;
    }
    let hole = h;
    for (let j = (h + 1) & mask; ; j = (j + 1) & mask) {
      if (this.vals[j] === EMPTY) break;
      const home = this.home(this.keys[j]!);
      // move j into the hole unless its home lies cyclically in (hole, j]
      const between = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (between) continue;
      this.keys[hole] = this.keys[j]!;
      this.vals[hole] = this.vals[j]!;
      hole = j;
    }
    this.vals[hole] = EMPTY;
  }

  /**
   * Capacity for at least `min` live slots, with an eighth more for the
   * processes that start before the exited are swept (and at least a
   * quarter more than before, so that growing one by one stays rare): every
   * column grows, the index is rebuilt. Columns are not rounded up to a
   * power of two: at 100k processes that would leave 31% of every column
   * unused.
   */
  private resize(min: number): void {
    let cap = Math.max(this.cap, 16);
    if (cap < min) cap = Math.max(min + (min >>> 3), Math.ceil(cap * 1.25));
    if (cap !== this.cap) {
      for (const c of this.columns) c.grow(cap);
      this.cap = cap;
    }
    let buckets = 16;
    while (buckets < cap * 2) buckets *= 2;
    if (buckets === this.keys.length) return;
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Int32Array(buckets);
    this.vals = new Int32Array(buckets).fill(EMPTY);
    this.mask = buckets - 1;
    for (let h = 0; h < oldVals.length; h++) {
      const s = oldVals[h]!;
      if (s === EMPTY) continue;
      let j = this.home(oldKeys[h]!);
      while (this.vals[j] !== EMPTY) j = (j + 1) & this.mask;
      this.keys[j] = oldKeys[h]!;
      this.vals[j] = s;
    }
  }
}
