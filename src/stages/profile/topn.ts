/**
 * Process tree and per-tier top-N over a ProcessBatch's columns: pure
 * functions, no per-process objects, nothing sorted that does not have to be.
 *
 * - `childrenIndex`: the children of every row, in CSR layout, in O(count).
 * - `topNByTier`: the n rows with the highest value in each tier, in
 *   O(count log n) with one bounded min-heap per tier; only the n kept rows
 *   are sorted at the end.
 */

import { PidRows } from '../../core/pid-rows.js';

export interface ChildrenIndex {
  /** count + 1 entries: the children of row r are children[offsets[r] .. offsets[r + 1]) */
  offsets: Int32Array;
  /** child row indices, grouped by parent row, ascending within a group */
  children: Int32Array;
  /** parent row of each row, -1 when the parent is not in the batch (or is the row itself) */
  parentRow: Int32Array;
}

/**
 * Children of each row. A row's parent is the row whose pid is its ppid;
 * rows whose parent is not in the batch (pid 1's ppid 0, a parent that exited
 * or was not scanned) are roots. With duplicate pids the first row wins.
 */
export function childrenIndex(ppid: Int32Array, pid: Int32Array, count: number): ChildrenIndex {
  const rowOf = new PidRows(pid, count);
  const parentRow = new Int32Array(count);
  const offsets = new Int32Array(count + 1);
  for (let r = 0; r < count; r++) {
    const p = rowOf.get(ppid[r]!);
    const pr = p === r ? -1 : p;
    parentRow[r] = pr;
    if (pr >= 0) offsets[pr + 1]!++;
  }
  for (let r = 0; r < count; r++) offsets[r + 1]! += offsets[r]!;
  const cursor = offsets.slice(0, count);
  const children = new Int32Array(offsets[count]!);
  // rows in ascending order, so each group is ascending
  for (let r = 0; r < count; r++) {
    const pr = parentRow[r]!;
    if (pr >= 0) children[cursor[pr]!++] = r;
  }
  return { offsets, children, parentRow };
}

/** NaN ranks with -Infinity, below every number. */
function key(v: number): number {
  return Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v;
}

/** Row a ranks below row b: a lower value, or the same value and a higher row index. */
function worse(values: Float64Array, a: number, b: number): boolean {
  const va = key(values[a]!);
  const vb = key(values[b]!);
  return va < vb || (va === vb && a > b);
}

/** Restore the heap (worst row at the root) below position i. */
function siftDown(values: Float64Array, heap: Int32Array, size: number, i: number): void {
  const row = heap[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= size) break;
    if (c + 1 < size && worse(values, heap[c + 1]!, heap[c]!)) c++;
    if (!worse(values, heap[c]!, row)) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = row;
}

function siftUp(values: Float64Array, heap: Int32Array, i: number): void {
  const row = heap[i]!;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!worse(values, row, heap[p]!)) break;
    heap[i] = heap[p]!;
    i = p;
  }
  heap[i] = row;
}

/**
 * Row indices of the top `n` rows of each tier by `values`, highest first;
 * equal values rank the lower row index first. Result[t] has
 * min(n, rows in tier t) entries. Rows with a tier >= tierCount are ignored;
 * NaN ranks below every number.
 */
export function topNByTier(
  values: Float64Array,
  tiers: Uint8Array,
  count: number,
  n: number,
  tierCount: number,
): Int32Array[] {
  const k = Math.max(0, Math.min(Math.floor(n), count));
  const heaps = Array.from({ length: tierCount }, () => new Int32Array(k));
  const sizes = new Int32Array(tierCount);
  if (k > 0) {
    for (let r = 0; r < count; r++) {
      const t = tiers[r]!;
      if (t >= tierCount) continue;
      const heap = heaps[t]!;
      const size = sizes[t]!;
      if (size < k) {
        heap[size] = r;
        sizes[t] = size + 1;
        siftUp(values, heap, size);
      } else if (worse(values, heap[0]!, r)) {
        heap[0] = r;
        siftDown(values, heap, k, 0);
      }
    }
  }
  return heaps.map((heap, t) => {
    // pop the worst repeatedly, filling from the back: best first, n log n over the kept rows only
    let size = sizes[t]!;
    const out = new Int32Array(size);
    while (size > 0) {
      out[size - 1] = heap[0]!;
      size--;
      heap[0] = heap[size]!;
      siftDown(values, heap, size, 0);
    }
    return out;
  });
}
