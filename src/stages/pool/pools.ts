/**
 * The pools of a frame: rows with the same (group, executable) pair, two or
 * more of them, numbered in the order their first row appears, laid out once
 * in compressed sparse rows (`frame.poolStart`, `frame.poolRows`) for every
 * stage that goes over a pool's members. The pair is compared whole (an
 * open-addressing table over the two ids), so no two pairs can share a key.
 * Every array is reused from cycle to cycle.
 */
import type { Frame } from '../../core/frame.js';
import { FLAG_KERNEL_THREAD } from '../../sources/batch.js';

const EMPTY = -1;

export class PoolLayout {
  /** (group, exe) → candidate number; `cand` EMPTY marks a free bucket */
  private keyGroup = new Int32Array(0);
  private keyExe = new Int32Array(0);
  private bucket = new Int32Array(0);
  private mask = 0;
  /** per row: its candidate (-1: a kernel thread, never pooled) */
  private cand = new Int32Array(0);
  /** per candidate: its rows, then its pool number (-1: fewer than two rows) */
  private count = new Int32Array(0);
  /** per pool: the next free place in poolRows */
  private cursor = new Int32Array(0);

  private fit(n: number): void {
    if (this.cand.length < n) {
      const m = Math.max(n, Math.ceil(this.cand.length * 1.5), 1024);
      this.cand = new Int32Array(m);
      this.count = new Int32Array(m);
      this.cursor = new Int32Array(m);
    }
    let buckets = 16;
    while (buckets < n * 2) buckets *= 2;
    if (buckets > this.bucket.length) {
      this.keyGroup = new Int32Array(buckets);
      this.keyExe = new Int32Array(buckets);
      this.bucket = new Int32Array(buckets);
    }
    this.mask = this.bucket.length - 1;
    this.bucket.fill(EMPTY);
  }

  /**
   * Fill `f.pool` (the row's pool, -1 when none), `f.poolStart` and
   * `f.poolRows` (the rows of pool p, ascending, are
   * `poolRows[poolStart[p] .. poolStart[p + 1])`) from the per-slot `group`
   * and `exe` ids. Returns the number of pools.
   */
  build(f: Frame, group: Int32Array, exe: Int32Array): number {
    const n = f.n;
    this.fit(n);
    const { keyGroup, keyExe, bucket, mask, cand, count, cursor } = this;
    const flags = f.batch.flags;
    let candidates = 0;
    for (let i = 0; i < n; i++) {
      if ((flags[i]! & FLAG_KERNEL_THREAD) !== 0) {
        cand[i] = -1;
        continue;
      }
      const s = f.slot[i]!;
      const g = group[s]!;
      const e = exe[s]!;
      let h = Math.imul(g, 0x85ebca6b) ^ e;
      h = Math.imul(h ^ (h >>> 16), 0x9e3779b1);
      h = (h ^ (h >>> 13)) & mask;
      for (;;) {
        const c = bucket[h]!;
        if (c === EMPTY) {
          keyGroup[h] = g;
          keyExe[h] = e;
          bucket[h] = candidates;
          count[candidates] = 0;
          cand[i] = candidates++;
          break;
        }
        if (keyGroup[h] === g && keyExe[h] === e) {
          cand[i] = c;
          break;
        }
        h = (h + 1) & mask;
      }
      count[cand[i]!]!++;
    }
    const { poolStart, poolRows } = f;
    let pools = 0;
    let at = 0;
    for (let c = 0; c < candidates; c++) {
      const rows = count[c]!;
      if (rows < 2) {
        count[c] = -1;
        continue;
      }
      poolStart[pools] = at;
      cursor[pools] = at;
      at += rows;
      count[c] = pools++;
    }
    if (pools === 0) return 0;
    poolStart[pools] = at;
    for (let i = 0; i < n; i++) {
      const c = cand[i]!;
      if (c < 0) continue;
      const p = count[c]!;
      if (p < 0) continue;
      f.pool[i] = p;
      poolRows[cursor[p]!++] = i;
    }
    return pools;
  }
}
