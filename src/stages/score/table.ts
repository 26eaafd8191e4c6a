/**
 * The scoring state: EWMA mean and variance of CPU and RSS, valid samples per
 * metric, the promotion hold and its reason, as columns of the identity
 * table at each process's slot. They are shared memory, so scoring workers
 * read and write the same columns: each shard writes only the slots its rows
 * name, which are distinct.
 */
import type { Column, IdentityTable } from '../../core/identity.js';
import type { SlotState } from './score.js';

/** The columns' buffers, as a worker receives them (shared, not copied, by postMessage). */
export interface ScoreBuffers {
  cpuMean: SharedArrayBuffer;
  cpuVar: SharedArrayBuffer;
  rssMean: SharedArrayBuffer;
  rssVar: SharedArrayBuffer;
  holdUntil: SharedArrayBuffer;
  cpuN: SharedArrayBuffer;
  rssN: SharedArrayBuffer;
  reason: SharedArrayBuffer;
}

/** Typed-array views over the buffers (on either side of a worker boundary). */
export function viewBuffers(b: ScoreBuffers): SlotState {
  return {
    cpuMean: new Float64Array(b.cpuMean),
    cpuVar: new Float64Array(b.cpuVar),
    rssMean: new Float64Array(b.rssMean),
    rssVar: new Float64Array(b.rssVar),
    holdUntil: new Float64Array(b.holdUntil),
    cpuN: new Int32Array(b.cpuN),
    rssN: new Int32Array(b.rssN),
    reason: new Uint8Array(b.reason),
  };
}

const finite = (v: number) => Number.isFinite(v);
const nonNegative = (v: number) => v >= 0 && Number.isFinite(v);

export class ScoreColumns {
  readonly cpuMean: Column<Float64Array>;
  readonly cpuVar: Column<Float64Array>;
  readonly rssMean: Column<Float64Array>;
  readonly rssVar: Column<Float64Array>;
  /** ms (the injected clock) until which the slot is promoted */
  readonly holdUntil: Column<Float64Array>;
  readonly cpuN: Column<Int32Array>;
  readonly rssN: Column<Int32Array>;
  readonly reason: Column<Uint8Array>;

  constructor(ids: IdentityTable) {
    const shared = true;
    this.cpuMean = ids.f64('score.cpuMean', { shared, valid: nonNegative });
    this.cpuVar = ids.f64('score.cpuVar', { shared, valid: nonNegative });
    this.rssMean = ids.f64('score.rssMean', { shared, valid: nonNegative });
    this.rssVar = ids.f64('score.rssVar', { shared, valid: nonNegative });
    this.holdUntil = ids.f64('score.holdUntil', { shared, valid: finite });
    this.cpuN = ids.i32('score.cpuN', { shared, valid: (v) => v >= 0 });
    this.rssN = ids.i32('score.rssN', { shared, valid: (v) => v >= 0 });
    this.reason = ids.u8('score.reason', { shared, valid: (v) => v <= 3 });
  }

  all(): Column[] {
    return [this.cpuMean, this.cpuVar, this.rssMean, this.rssVar, this.holdUntil, this.cpuN, this.rssN, this.reason];
  }

  /** Views of the current columns (they change when the table grows). */
  state(): SlotState {
    return {
      cpuMean: this.cpuMean.data,
      cpuVar: this.cpuVar.data,
      rssMean: this.rssMean.data,
      rssVar: this.rssVar.data,
      holdUntil: this.holdUntil.data,
      cpuN: this.cpuN.data,
      rssN: this.rssN.data,
      reason: this.reason.data,
    };
  }

  buffers(): ScoreBuffers {
    const sab = (c: Column) => c.data.buffer as SharedArrayBuffer;
    return {
      cpuMean: sab(this.cpuMean),
      cpuVar: sab(this.cpuVar),
      rssMean: sab(this.rssMean),
      rssVar: sab(this.rssVar),
      holdUntil: sab(this.holdUntil),
      cpuN: sab(this.cpuN),
      rssN: sab(this.rssN),
      reason: sab(this.reason),
    };
  }
}
