/**
 * The in-memory index of one segment: where each record sits and what state
 * it is in. Payloads are not kept here; a record costs 25 bytes of index
 * (offset f64, length u32, time f64, weight u32, state u8) in growable
 * typed arrays. The weight is what the record stands for (the exporter's
 * data points), so that what is dropped can be counted in those units.
 */
import { frameBytes } from './format.js';
import type { Lane } from './types.js';

export const PENDING = 0;
export const IN_FLIGHT = 1;
export const ACKED = 2;

export class Segment {
  readonly lane: Lane;
  readonly firstSeq: number;
  count = 0;
  /** bytes of the file (header and frames) */
  size: number;
  offsets: Float64Array;
  lens: Uint32Array;
  times: Float64Array;
  weights: Uint32Array;
  state: Uint8Array;
  acked = 0;
  /** every record below this index is acked */
  ackedPrefix = 0;
  /** no record below this index is pending */
  pendingHint = 0;
  /** no more appends (rotated, recovered from a previous run, or a write could not be rolled back) */
  sealed = false;
  /** removed from its lane (fully acked or evicted); kept objects only answer lookups */
  gone = false;

  constructor(lane: Lane, firstSeq: number, headerBytes: number, capacity = 16) {
    this.lane = lane;
    this.firstSeq = firstSeq;
    this.size = headerBytes;
    this.offsets = new Float64Array(capacity);
    this.lens = new Uint32Array(capacity);
    this.times = new Float64Array(capacity);
    this.weights = new Uint32Array(capacity);
    this.state = new Uint8Array(capacity);
  }

  get nextSeq(): number {
    return this.firstSeq + this.count;
  }

  /** Index a record written at `offset` (the frame header's offset). */
  push(offset: number, len: number, timeMs: number, state = PENDING, weight = 0): number {
    if (this.count === this.offsets.length) this.grow();
    const i = this.count++;
    this.offsets[i] = offset;
    this.lens[i] = len;
    this.times[i] = timeMs;
    this.weights[i] = weight;
    this.state[i] = state;
    this.size = offset + frameBytes(len);
    if (state === ACKED) {
      this.acked++;
      if (this.ackedPrefix === i) this.ackedPrefix = i + 1;
    }
    return i;
  }

  /**
   * `n` seqs with no record (lost to damage, already counted): indexed as
   * acked, so positions and deletion work over them; the file size is not
   * touched.
   */
  skip(n: number): void {
    for (let k = 0; k < n; k++) {
      if (this.count === this.offsets.length) this.grow();
      const i = this.count++;
      this.offsets[i] = this.size;
      this.lens[i] = 0;
      this.times[i] = 0;
      this.weights[i] = 0;
      this.state[i] = ACKED;
      this.acked++;
      if (this.ackedPrefix === i) this.ackedPrefix = i + 1;
    }
  }

  /** Index of the first pending record, or -1. */
  firstPending(): number {
    let i = this.pendingHint;
    while (i < this.count && this.state[i] !== PENDING) i++;
    this.pendingHint = i;
    return i < this.count ? i : -1;
  }

  /** Mark acked; returns false when it already was. */
  markAcked(i: number): boolean {
    if (this.state[i] === ACKED) return false;
    this.state[i] = ACKED;
    this.acked++;
    while (this.ackedPrefix < this.count && this.state[this.ackedPrefix] === ACKED) this.ackedPrefix++;
    return true;
  }

  markPending(i: number): void {
    this.state[i] = PENDING;
    if (i < this.pendingHint) this.pendingHint = i;
  }

  get fullyAcked(): boolean {
    return this.acked === this.count;
  }

  /** Un-acked records and their frame bytes (the in-flight ones included). */
  unacked(): { records: number; bytes: number; inFlight: number } {
    let records = 0;
    let bytes = 0;
    let inFlight = 0;
    for (let i = this.ackedPrefix; i < this.count; i++) {
      const s = this.state[i];
      if (s === ACKED) continue;
      records++;
      bytes += frameBytes(this.lens[i]!);
      if (s === IN_FLIGHT) inFlight++;
    }
    return { records, bytes, inFlight };
  }

  /** Give back unused capacity (after recovery, for sealed segments). */
  trim(): void {
    if (this.count === this.offsets.length) return;
    this.offsets = this.offsets.slice(0, this.count);
    this.lens = this.lens.slice(0, this.count);
    this.times = this.times.slice(0, this.count);
    this.weights = this.weights.slice(0, this.count);
    this.state = this.state.slice(0, this.count);
  }

  private grow(): void {
    const n = Math.max(16, this.offsets.length * 2);
    const o = new Float64Array(n);
    o.set(this.offsets);
    this.offsets = o;
    const l = new Uint32Array(n);
    l.set(this.lens);
    this.lens = l;
    const t = new Float64Array(n);
    t.set(this.times);
    this.times = t;
    const w = new Uint32Array(n);
    w.set(this.weights);
    this.weights = w;
    const s = new Uint8Array(n);
    s.set(this.state);
    this.state = s;
  }
}
