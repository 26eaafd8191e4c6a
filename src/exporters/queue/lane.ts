/**
 * One lane's state: its live segments, counters of un-acked records, the
 * position to save, and the accounting of an eviction. No I/O here.
 */
import { frameBytes } from './format.js';
import { ACKED, IN_FLIGHT, type Segment } from './segment.js';
import {
  type AppendOutcome,
  LANES,
  type Lane,
  type LaneStats,
  type QueueDropReason,
  type QueueStats,
} from './types.js';

export interface LaneState {
  readonly lane: Lane;
  /** live segments in seq order; the last one takes appends unless sealed */
  segments: Segment[];
  nextSeq: number;
  /** un-acked records (in flight included) and their frame bytes */
  records: number;
  bytes: number;
  inFlight: number;
  savedPosition: number;
  /** the nextSeq last saved with the position */
  savedEnd: number;
  /** in-flight records whose segment was evicted: an ack is a delivery, a release a drop */
  orphans: Map<number, { bytes: number; points: number; reason: QueueDropReason }>;
}

export function newLane(lane: Lane): LaneState {
  return {
    lane,
    segments: [],
    nextSeq: 0,
    records: 0,
    bytes: 0,
    inFlight: 0,
    savedPosition: 0,
    savedEnd: 0,
    orphans: new Map(),
  };
}

/** Lanes an append to `lane` may evict, oldest segments first: never critical, never a more important lane. */
export function evictableFor(lane: Lane): Lane[] {
  return lane === 'sampled' ? ['sampled'] : ['sampled', 'standard'];
}

/** The live segment holding `seq`, by binary search. */
export function findSegment(L: LaneState, seq: number): Segment | undefined {
  const segs = L.segments;
  let lo = 0;
  let hi = segs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = segs[mid]!;
    if (seq < s.firstSeq) hi = mid - 1;
    else if (seq >= s.nextSeq) lo = mid + 1;
    else return s;
  }
  return undefined;
}

/** First un-acked seq of a lane (everything below it may be forgotten after a restart). */
export function lanePosition(L: LaneState): number {
  for (const seg of L.segments) if (seg.ackedPrefix < seg.count) return seg.firstSeq + seg.ackedPrefix;
  return L.nextSeq;
}

export function laneStats(L: LaneState, now: number): LaneStats {
  let oldestAgeMs = 0;
  for (const seg of L.segments) {
    if (seg.ackedPrefix < seg.count) {
      oldestAgeMs = Math.max(0, now - seg.times[seg.ackedPrefix]!);
      break;
    }
  }
  return { records: L.records, bytes: L.bytes, oldestAgeMs, inFlight: L.inFlight };
}

/**
 * Take the un-acked records of `seg` (about to be evicted) off the lane's
 * counters. Pending ones are dropped now; in-flight ones become orphans,
 * dropped only if they are released. Returns what was dropped now and the
 * queued bytes freed.
 */
export function evictRecords(
  L: LaneState,
  seg: Segment,
  reason: QueueDropReason,
): { records: number; bytes: number; points: number; queuedBytes: number } {
  let records = 0;
  let bytes = 0;
  let points = 0;
  let queuedBytes = 0;
  for (let i = seg.ackedPrefix; i < seg.count; i++) {
    const s = seg.state[i];
    if (s === ACKED) continue;
    const b = frameBytes(seg.lens[i]!);
    queuedBytes += b;
    L.records--;
    L.bytes -= b;
    const w = seg.weights[i]!;
    if (s === IN_FLIGHT) {
      L.inFlight--;
      L.orphans.set(seg.firstSeq + i, { bytes: b, points: w, reason });
    } else {
      records++;
      bytes += b;
      points += w;
    }
  }
  return { records, bytes, points, queuedBytes };
}

/**
 * Take over the segments recovered from disk. Returns the ones whose records
 * are all acked (below the saved position), for the caller to delete.
 */
export function adoptRecovered(
  L: LaneState,
  r: { segments: Segment[]; nextSeq: number; position: number; savedEnd: number },
): Segment[] {
  L.nextSeq = r.nextSeq;
  L.savedPosition = r.position;
  L.savedEnd = r.savedEnd;
  const done: Segment[] = [];
  for (const seg of r.segments) {
    if (seg.fullyAcked) {
      done.push(seg);
      continue;
    }
    const u = seg.unacked();
    L.records += u.records;
    L.bytes += u.bytes;
    L.segments.push(seg);
  }
  return done;
}

/** Mark record `i` acked because it cannot be delivered; returns its frame bytes and weight. */
export function dropRecord(L: LaneState, seg: Segment, i: number): { bytes: number; points: number } {
  const b = frameBytes(seg.lens[i]!);
  if (seg.state[i] === IN_FLIGHT) L.inFlight--;
  seg.markAcked(i);
  L.records--;
  L.bytes -= b;
  return { bytes: b, points: seg.weights[i]! };
}

/** Add an eviction to an append's outcome, one entry per lane. */
export function noteEvicted(
  evicted: AppendOutcome['evicted'],
  lane: Lane,
  records: number,
  bytes: number,
  points: number,
): void {
  const e = evicted.find((x) => x.lane === lane);
  if (e) {
    e.records += records;
    e.bytes += bytes;
    e.points += points;
  } else evicted.push({ lane, records, bytes, points });
}

/** Totals over the lanes (without drops and refusals). */
export function sumLanes(
  lanes: Record<Lane, LaneState>,
  now: number,
  countDisk: boolean,
): Pick<QueueStats, 'records' | 'bytes' | 'oldestAgeMs' | 'lanes' | 'diskBytes'> {
  const out = { records: 0, bytes: 0, oldestAgeMs: 0, lanes: {} as Record<Lane, LaneStats>, diskBytes: 0 };
  for (const lane of LANES) {
    const L = lanes[lane];
    const st = laneStats(L, now);
    out.lanes[lane] = st;
    out.records += st.records;
    out.bytes += st.bytes;
    out.oldestAgeMs = Math.max(out.oldestAgeMs, st.oldestAgeMs);
    if (countDisk) for (const seg of L.segments) out.diskBytes += seg.size;
  }
  return out;
}
