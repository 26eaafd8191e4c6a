/**
 * Values interned to small integer ids by a string key, so per-row work is
 * integer work, with the ids no row uses any more given back: at most as
 * many ids as distinct keys in use, never a count that only grows. The
 * group catalog (src/core/groups.ts) and the pool stage's executable names
 * are two.
 */
export class Interned<T> {
  private readonly byKey = new Map<string, number>();
  private readonly keys: (string | undefined)[] = [];
  private readonly values: (T | undefined)[] = [];
  private readonly free: number[] = [];
  private live = new Uint8Array(0);

  /** The id of `key`, adding it (with the value `make` gives) when new. */
  id(key: string, make: (key: string) => T): number {
    let id = this.byKey.get(key);
    if (id !== undefined) return id;
    id = this.free.pop() ?? this.keys.length;
    this.keys[id] = key;
    this.values[id] = make(key);
    this.byKey.set(key, id);
    return id;
  }

  get(id: number): T {
    return this.values[id]!;
  }

  /** Ids below this bound may be in use. */
  get bound(): number {
    return this.keys.length;
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Forget the ids not in `live` (1 = in use). */
  retain(live: Uint8Array): void {
    for (let id = 0; id < this.keys.length; id++) {
      const key = this.keys[id];
      if (key === undefined || live[id] === 1) continue;
      this.byKey.delete(key);
      this.keys[id] = undefined;
      this.values[id] = undefined;
      this.free.push(id);
    }
  }

  /**
   * A zeroed mask over the ids in use now (reused from call to call): set
   * 1 at each id still used, then `retain(mask)`. No id may be added in
   * between.
   */
  usedMask(): Uint8Array {
    if (this.live.length < this.keys.length) this.live = new Uint8Array(Math.max(64, this.keys.length * 2));
    const live = this.live;
    live.fill(0);
    return live;
  }
}
