/**
 * pid -> row of a batch, for lookups over 100k rows every cycle (process
 * trees, a recording's reference to the scan before).
 */

/**
 * pid -> first (or last) row with that pid: open addressing over typed arrays (a Map
 * of 100k entries costs about 8x more to build and probe).
 */
export class PidRows {
  private readonly keys: Int32Array;
  /** row + 1; 0 = empty slot */
  private readonly rows: Int32Array;
  private readonly mask: number;

  /** `last`: a repeated pid maps to its last row (a Map's `set` order) instead of its first */
  constructor(pid: Int32Array, count: number, last = false) {
    let cap = 16;
    while (cap < count * 2) cap <<= 1;
    this.mask = cap - 1;
    this.keys = new Int32Array(cap);
    this.rows = new Int32Array(cap);
    for (let r = 0; r < count; r++) {
      const i = this.slot(pid[r]!);
      if (this.rows[i] === 0 || last) {
        this.keys[i] = pid[r]!;
        this.rows[i] = r + 1;
      }
    }
  }

  /** the slot holding `k`, or the empty slot where it would go */
  private slot(k: number): number {
    let i = (Math.imul(k, 0x9e3779b1) >>> 0) & this.mask;
    while (this.rows[i] !== 0 && this.keys[i] !== k) i = (i + 1) & this.mask;
    return i;
  }

  /** the row of `k`, -1 when absent */
  get(k: number): number {
    return this.rows[this.slot(k)]! - 1;
  }
}
