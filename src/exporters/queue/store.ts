/**
 * Where segment bytes live. The queue logic (`core.ts`) is the same for the
 * disk and the memory queue; only this interface differs.
 */
import { SEGMENT_HEADER_BYTES } from './format.js';
import type { Segment } from './segment.js';
import { LANES, type Lane } from './types.js';

export interface RecoveredLane {
  /** sealed segments in seq order; records below the saved position are marked acked */
  segments: Segment[];
  /** first seq the next append may use */
  nextSeq: number;
  /** the position read from disk (first un-acked seq) */
  position: number;
  /** the lane end saved with it (0 when no position file; -1 when unknown: saved again at once) */
  savedEnd: number;
  /** un-acked records lost to damage (bytes of the damaged regions, weights as far as readable) */
  corrupt: { records: number; bytes: number; points: number };
}

export interface Recovered {
  lanes: Record<Lane, RecoveredLane>;
}

/** A record that is on disk but does not read back as written. */
export class CorruptRecordError extends Error {
  override readonly name = 'CorruptRecordError';
}

export interface SegmentStore {
  readonly persistent: boolean;
  /** create directories, read positions, scan segments */
  open(): Promise<Recovered>;
  /** start an empty segment (file plus header) */
  create(seg: Segment): Promise<void>;
  /**
   * Write one frame at `seg.size` (fsynced when the policy says so). On
   * failure the partial write is rolled back; when that is impossible the
   * store seals the segment (`seg.sealed = true`) and closes it. The caller
   * indexes the record only after this resolves.
   */
  append(seg: Segment, seq: number, enqueuedAtMs: number, payload: Uint8Array): Promise<void>;
  /** the payload of record `i`; CorruptRecordError when it does not verify */
  read(seg: Segment, i: number): Promise<Uint8Array>;
  /** the record was acked: a memory store may let go of it */
  forget(seg: Segment, i: number): void;
  /** no more appends to `seg`: make it durable per policy and release its write handle */
  seal(seg: Segment): Promise<void>;
  /** delete the segment */
  remove(seg: Segment): Promise<void>;
  /** the lane's first un-acked seq and its next seq */
  savePosition(lane: Lane, position: number, end: number): Promise<void>;
  /** fsync whatever was written since the last flush */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Payloads in memory; segments exist only so eviction behaves as on disk. */
export class MemoryStore implements SegmentStore {
  readonly persistent = false;
  private readonly data = new Map<Segment, (Uint8Array | undefined)[]>();

  async open(): Promise<Recovered> {
    const lanes = {} as Record<Lane, RecoveredLane>;
    for (const l of LANES)
      lanes[l] = { segments: [], nextSeq: 0, position: 0, savedEnd: 0, corrupt: { records: 0, bytes: 0, points: 0 } };
    return { lanes };
  }

  async create(seg: Segment): Promise<void> {
    seg.size = SEGMENT_HEADER_BYTES;
    this.data.set(seg, []);
  }

  async append(seg: Segment, _seq: number, _t: number, payload: Uint8Array): Promise<void> {
    this.data.get(seg)!.push(payload.slice());
  }

  async read(seg: Segment, i: number): Promise<Uint8Array> {
    const p = this.data.get(seg)?.[i];
    if (!p) throw new CorruptRecordError(`record ${seg.firstSeq + i} of the ${seg.lane} lane is not in memory`);
    return p;
  }

  forget(seg: Segment, i: number): void {
    const arr = this.data.get(seg);
    if (arr) arr[i] = undefined;
  }

  async seal(seg: Segment): Promise<void> {
    seg.sealed = true;
  }

  async remove(seg: Segment): Promise<void> {
    this.data.delete(seg);
  }

  async savePosition(): Promise<void> {}
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.data.clear();
  }
}
