/**
 * The scoring state table: one slot per process identity (pid, start ticks),
 * in flat typed arrays backed by SharedArrayBuffers so scoring workers read
 * and write the same memory. The main thread owns the pid -> slot index and
 * slot assignment; scoring (score.ts) only touches the columns of the slots
 * its rows name.
 *
 * - a new identity gets a free slot with an empty baseline;
 * - a reused pid (same pid, other start time) resets its slot in place;
 * - after each scan, slots whose identity was not seen are freed (the process
 *   exited) and go back on the free list;
 * - restored state older than a TTL is dropped (see persist.ts).
 */
import type { SlotState } from './score.js';

/** Columns, in the order they sit in their SharedArrayBuffer. */
const F64 = ['start', 'cpuMean', 'cpuVar', 'rssMean', 'rssVar', 'holdUntil', 'lastSeenMs'] as const;
const I32 = ['pid', 'cpuN', 'rssN', 'lastSeen'] as const;
const U8 = ['reason', 'used'] as const;

/** What a worker needs to view the table (SharedArrayBuffers are shared, not copied, by postMessage). */
export interface TableBuffers {
  capacity: number;
  f64: SharedArrayBuffer;
  i32: SharedArrayBuffer;
  u8: SharedArrayBuffer;
}

export interface TableColumns extends SlotState {
  start: Float64Array;
  lastSeenMs: Float64Array;
  pid: Int32Array;
  /** cycle number of the last scan that saw the slot */
  lastSeen: Int32Array;
  used: Uint8Array;
}

/** Typed-array views over a table's buffers (used on both sides of a worker boundary). */
export function viewColumns(b: TableBuffers): TableColumns {
  const cap = b.capacity;
  const cols: Record<string, Float64Array | Int32Array | Uint8Array> = {};
  F64.forEach((k, j) => {
    cols[k] = new Float64Array(b.f64, j * cap * 8, cap);
  });
  I32.forEach((k, j) => {
    cols[k] = new Int32Array(b.i32, j * cap * 4, cap);
  });
  U8.forEach((k, j) => {
    cols[k] = new Uint8Array(b.u8, j * cap, cap);
  });
  return cols as unknown as TableColumns;
}

function allocBuffers(capacity: number): TableBuffers {
  return {
    capacity,
    f64: new SharedArrayBuffer(F64.length * capacity * 8),
    i32: new SharedArrayBuffer(I32.length * capacity * 4),
    u8: new SharedArrayBuffer(U8.length * capacity),
  };
}

export class ScoreTable {
  buffers: TableBuffers;
  cols: TableColumns;
  /** pid -> slot */
  readonly index = new Map<number, number>();
  private free: number[] = [];
  /** slots ever handed out (free slots below this are on `free`) */
  private high = 0;

  constructor(initialCapacity = 1024) {
    this.buffers = allocBuffers(Math.max(16, initialCapacity));
    this.cols = viewColumns(this.buffers);
  }

  get size(): number {
    return this.index.size;
  }

  get capacity(): number {
    return this.buffers.capacity;
  }

  private grow(min: number): void {
    let cap = this.buffers.capacity;
    while (cap < min) cap *= 2;
    const next = allocBuffers(cap);
    const cols = viewColumns(next);
    for (const k of [...F64, ...I32, ...U8]) {
      const from = this.cols[k];
      (cols[k] as typeof from).set(from as never);
    }
    this.buffers = next;
    this.cols = cols;
  }

  private clear(s: number): void {
    const c = this.cols;
    c.cpuMean[s] = 0;
    c.cpuVar[s] = 0;
    c.rssMean[s] = 0;
    c.rssVar[s] = 0;
    c.cpuN[s] = 0;
    c.rssN[s] = 0;
    c.holdUntil[s] = 0;
    c.reason[s] = 0;
  }

  /** A slot for (pid, start): the existing one, a reset one for a reused pid, or a fresh one. */
  slotFor(pid: number, start: number): number {
    let s = this.index.get(pid);
    if (s !== undefined) {
      if (this.cols.start[s] !== start) {
        this.clear(s); // pid reuse: a new process, a new baseline
        this.cols.start[s] = start;
      }
      return s;
    }
    s = this.free.pop();
    if (s === undefined) {
      if (this.high >= this.buffers.capacity) this.grow(this.high + 1);
      s = this.high++;
    }
    this.clear(s);
    const c = this.cols;
    c.pid[s] = pid;
    c.start[s] = start;
    c.used[s] = 1;
    c.lastSeen[s] = -1;
    this.index.set(pid, s);
    return s;
  }

  /**
   * Assign a slot to every row and mark it seen in `cycle`. Returns the slot
   * per row.
   */
  assign(count: number, pid: Int32Array, start: Float64Array, cycle: number, nowMs: number): Int32Array {
    if (this.index.size + count > this.buffers.capacity) this.grow(this.index.size + count);
    const slots = new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const s = this.slotFor(pid[i]!, start[i]!);
      const c = this.cols; // slotFor may have grown the table
      c.lastSeen[s] = cycle;
      c.lastSeenMs[s] = nowMs;
      slots[i] = s;
    }
    return slots;
  }

  /** Free every slot not seen in `cycle` (its process exited). Returns how many were freed. */
  sweep(cycle: number): number {
    const c = this.cols;
    let freed = 0;
    for (const [pid, s] of this.index) {
      if (c.lastSeen[s] === cycle) continue;
      this.index.delete(pid);
      c.used[s] = 0;
      this.free.push(s);
      freed++;
    }
    return freed;
  }

  /** Put a restored entry in a slot (persist.ts). */
  restore(pid: number, start: number): number {
    return this.slotFor(pid, start);
  }
}
