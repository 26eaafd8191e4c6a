/**
 * Scanning one segment file's bytes at recovery (pure: no I/O). It finds the
 * intact records, resynchronises after damage on the next frame whose CRC
 * holds and whose seq fits, and plans the repairs: a hole marker over each
 * damaged region that intact records follow, the truncation of a damaged
 * tail, a rewritten segment header when only the header is damaged.
 *
 * The seq numbers are what make the count exact: the records lost in a hole
 * are the seqs between the last intact record before it and the first one
 * after it. For a damaged tail the caller knows the end (the next segment's
 * first seq, or the lane's end saved in pos.json); `seen` is what the bytes
 * themselves still show.
 */
import {
  checkSegmentHeader,
  encodeHole,
  encodeSegmentHeader,
  FORMAT_VERSION,
  FRAME_HEADER_BYTES,
  HOLE_MIN_BYTES,
  holeEnd,
  MAX_PAYLOAD_BYTES,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  validFrameAt,
} from './format.js';
import type { Lane } from './types.js';

/** Data points (or any weight) a record stands for, read from its payload; 0 when unknown. */
export type Weigh = (payload: Uint8Array) => number;

export type ScanEntry =
  | { kind: 'record'; off: number; len: number; seq: number; timeMs: number; weight: number }
  /** seqs [fromSeq, toSeq) have no record here (lost to damage) */
  | { kind: 'gap'; fromSeq: number; toSeq: number };

export interface Damage {
  /** first seq lost */
  fromSeq: number;
  /** seq of the first intact record after the damage; undefined for a damaged tail */
  toSeq: number | undefined;
  /** records the damaged bytes still show (frame headers that line up), at least 1 */
  seen: number;
  /** weights of the damaged records that could still be read, by seq */
  weights: { seq: number; weight: number }[];
  off: number;
  bytes: number;
  reason: string;
}

export interface SegmentScan {
  /** 'foreign': not a segment of this lane (bad magic or another format version, and no frame of ours) */
  header: 'ok' | 'repair' | 'foreign';
  /** what was wrong with the header (repair, foreign) */
  headerReason?: string;
  entries: ScanEntry[];
  /** damage found in this scan (regions already marked as holes by an earlier start are not damage) */
  damage: Damage[];
  /** holes marked by an earlier start: already counted then */
  knownHoles: number;
  /** bytes to write in place: hole markers, a rewritten header */
  writes: { off: number; data: Uint8Array }[];
  /** cut the file here (damaged tail) */
  truncateAt?: number;
  /** file size once repaired */
  size: number;
  /** seq after the last record or hole */
  end: number;
}

export interface ScanOptions {
  lane: Lane;
  /** the segment's first seq, from its file name */
  firstSeq: number;
  /** seqs at or above this belong to a later segment (its first seq); undefined for the last segment */
  seqLimit?: number;
  weigh?: Weigh;
}

const TWO_32 = 0x1_0000_0000;

function safeWeigh(weigh: Weigh | undefined, payload: Uint8Array): number {
  if (!weigh) return 0;
  try {
    const w = weigh(payload);
    return Number.isSafeInteger(w) && w > 0 ? w : 0;
  } catch {
    return 0;
  }
}

/**
 * Walk the damaged bytes [from, to) frame by frame while the headers line up
 * (the first one is the damaged record itself, whatever its seq field says):
 * how many records they still show, and the weights of those whose payload
 * is there.
 */
function walk(
  buf: Uint8Array,
  dv: DataView,
  from: number,
  to: number,
  seq: number,
  weigh: Weigh | undefined,
): Pick<Damage, 'seen' | 'weights'> {
  let o = from;
  let s = seq;
  let seen = 0;
  const weights: Damage['weights'] = [];
  while (to - o >= FRAME_HEADER_BYTES) {
    const len = dv.getUint32(o, true);
    const fs = dv.getUint32(o + 8, true) + dv.getUint32(o + 12, true) * TWO_32;
    if (o !== from && fs !== s) break;
    seen++;
    if (len > MAX_PAYLOAD_BYTES || o + FRAME_HEADER_BYTES + len > to) break;
    const w = safeWeigh(weigh, buf.subarray(o + FRAME_HEADER_BYTES, o + FRAME_HEADER_BYTES + len));
    if (w > 0) weights.push({ seq: s, weight: w });
    o += FRAME_HEADER_BYTES + len;
    s++;
  }
  return { seen: Math.max(seen, to > from ? 1 : 0), weights };
}

/** Why the frame at `off` is not the record expected there. */
function describe(buf: Uint8Array, dv: DataView, off: number, expected: number): string {
  if (buf.length - off < FRAME_HEADER_BYTES) return 'short frame header (torn write)';
  const len = dv.getUint32(off, true);
  const seq = dv.getUint32(off + 8, true) + dv.getUint32(off + 12, true) * TWO_32;
  if (seq !== expected) return `frame seq ${seq}, expected ${expected}`;
  if (len > MAX_PAYLOAD_BYTES || off + FRAME_HEADER_BYTES + len > buf.length) {
    return `frame length ${len} runs past the end of the file (torn write or bad length)`;
  }
  return 'bad CRC';
}

/** Scan a whole segment file (at least a header's worth of bytes). */
export function scanSegment(buf: Uint8Array, o: ScanOptions): SegmentScan {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const size = buf.length;
  const limit = o.seqLimit ?? Number.MAX_SAFE_INTEGER;
  const entries: ScanEntry[] = [];
  const damage: Damage[] = [];
  const writes: SegmentScan['writes'] = [];
  let knownHoles = 0;
  let truncateAt: number | undefined;
  let off = SEGMENT_HEADER_BYTES;
  let expected = o.firstSeq;
  let records = 0;

  while (off < size) {
    const f = validFrameAt(buf, off, expected, expected);
    if (f) {
      const frame = buf.subarray(off, off + FRAME_HEADER_BYTES + f.len);
      const hole = holeEnd(frame);
      if (hole === undefined) {
        const weight = safeWeigh(o.weigh, frame.subarray(FRAME_HEADER_BYTES));
        entries.push({ kind: 'record', off, len: f.len, seq: expected, timeMs: f.enqueuedAtMs, weight });
        records++;
        off += FRAME_HEADER_BYTES + f.len;
        expected++;
        continue;
      }
      if (hole >= expected && hole <= limit) {
        if (hole > expected) entries.push({ kind: 'gap', fromSeq: expected, toSeq: hole });
        knownHoles++;
        off += FRAME_HEADER_BYTES + f.len;
        expected = hole;
        continue;
      }
      // a hole marker that names an impossible seq is damage like any other
    }
    const reason = describe(buf, dv, off, expected);
    // Resynchronise: the first later offset holding a whole frame whose CRC
    // holds and whose seq fits. Every lost record took at least a frame
    // header, which bounds the seq that can appear at each offset.
    let found: { off: number; seq: number } | undefined;
    for (let p = off + 1; p + FRAME_HEADER_BYTES <= size; p++) {
      const seq = dv.getUint32(p + 8, true) + dv.getUint32(p + 12, true) * TWO_32;
      const maxSeq = Math.min(expected + Math.floor((p - off) / FRAME_HEADER_BYTES), limit - 1);
      if (seq < expected || seq > maxSeq) continue;
      if (validFrameAt(buf, p, seq, seq)) {
        found = { off: p, seq };
        break;
      }
    }
    const to = found ? found.off : size;
    const { seen, weights } = walk(buf, dv, off, to, expected, o.weigh);
    damage.push({ fromSeq: expected, toSeq: found?.seq, seen, weights, off, bytes: to - off, reason });
    if (!found) {
      truncateAt = off;
      break;
    }
    if (found.seq > expected) entries.push({ kind: 'gap', fromSeq: expected, toSeq: found.seq });
    if (to - off >= HOLE_MIN_BYTES) writes.push({ off, data: encodeHole(expected, found.seq, to - off) });
    off = found.off;
    expected = found.seq;
  }

  const head = buf.subarray(0, SEGMENT_HEADER_BYTES);
  const hc = checkSegmentHeader(head, o.lane, o.firstSeq);
  let header: SegmentScan['header'] = 'ok';
  let headerReason: string | undefined;
  if (!hc.ok) {
    headerReason = hc.reason;
    let magicOk = true;
    for (let i = 0; i < 8; i++) if (head[i] !== SEGMENT_MAGIC.charCodeAt(i)) magicOk = false;
    const versionOk = dv.getUint32(8, true) === FORMAT_VERSION;
    // Frames of ours (CRC and seq both right) prove the file is ours whatever
    // its header says; without any, only an intact magic and version do.
    const ours = records > 0 || knownHoles > 0 || (magicOk && versionOk);
    header = ours ? 'repair' : 'foreign';
    if (ours) writes.unshift({ off: 0, data: encodeSegmentHeader(o.lane, o.firstSeq) });
  }
  if (header === 'foreign') {
    return { header, headerReason, entries: [], damage: [], knownHoles: 0, writes: [], size, end: o.firstSeq };
  }
  return {
    header,
    headerReason,
    entries,
    damage,
    knownHoles,
    writes,
    truncateAt,
    size: truncateAt ?? size,
    end: expected,
  };
}
