/**
 * Recovery of one lane directory at start: read the position file, scan the
 * segment files, rebuild the index. Nothing here throws for bad data: a torn
 * or corrupt frame truncates its segment at the last good record (counted,
 * logged once naming the file), so the next start finds a clean file; a
 * segment whose header is not ours is renamed `.bad` and left alone; an
 * unreadable position file means "deliver again from the oldest segment".
 */
import * as path from 'node:path';
import { errnoOf } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import {
  checkSegmentHeader,
  decodeFrameHeader,
  FRAME_HEADER_BYTES,
  frameCrc,
  isHeaderPrefix,
  MAX_PAYLOAD_BYTES,
  parseSegmentFileName,
  SEGMENT_HEADER_BYTES,
} from './format.js';
import type { QueueIo } from './io.js';
import { ACKED, PENDING, Segment } from './segment.js';
import type { RecoveredLane } from './store.js';
import type { Lane } from './types.js';

export const POSITION_FILE = 'pos.json';
const CHUNK = 1 << 20;

export interface LaneRecovery extends RecoveredLane {
  corrupt: { records: number; bytes: number };
}

/** The saved position (first un-acked seq) of a lane; 0 when missing or unreadable. */
export async function readPosition(io: QueueIo, dir: string, lane: Lane, log: Logger): Promise<number> {
  const file = path.join(dir, POSITION_FILE);
  let text: string;
  try {
    text = Buffer.from(await io.readFile(file)).toString('utf8');
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') {
      log.warn(
        { file, err: String(e) },
        'queue position file unreadable; the lane is delivered again from its oldest segment',
      );
    }
    return 0;
  }
  try {
    const j = JSON.parse(text) as { format?: unknown; lane?: unknown; next?: unknown };
    if (j.format === 1 && j.lane === lane && Number.isSafeInteger(j.next) && (j.next as number) >= 0) {
      return j.next as number;
    }
  } catch {
    // reported below
  }
  log.warn({ file }, 'queue position file is corrupt; the lane is delivered again from its oldest segment');
  return 0;
}

export function encodePosition(lane: Lane, next: number): Uint8Array {
  return Buffer.from(`${JSON.stringify({ format: 1, lane, next })}\n`, 'utf8');
}

/** Reads a file through a reusable buffer, CHUNK bytes at a time. */
class ChunkReader {
  private buf = Buffer.allocUnsafe(CHUNK);
  private start = 0;
  private len = 0;
  constructor(
    private readonly io: QueueIo,
    private readonly fd: number,
  ) {}

  async get(off: number, n: number): Promise<Uint8Array> {
    if (off >= this.start && off + n <= this.start + this.len) {
      return this.buf.subarray(off - this.start, off - this.start + n);
    }
    if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n);
    const want = Math.max(n, Math.min(this.buf.length, CHUNK));
    let got = 0;
    while (got < want) {
      const r = await this.io.read(this.fd, this.buf, got, want - got, off + got);
      if (r === 0) break;
      got += r;
    }
    this.start = off;
    this.len = got;
    if (got < n) throw Object.assign(new Error(`short read at ${off}`), { code: 'EIO' });
    return this.buf.subarray(0, n);
  }
}

type ScanResult =
  | { kind: 'ok'; seg: Segment; corrupt: { records: number; bytes: number } }
  | { kind: 'bad'; reason: string; bytes: number }
  | { kind: 'torn-create' };

/**
 * Scan one segment. Records below `position` are indexed as acked and only
 * their framing is checked; the others must pass the CRC.
 */
async function scanSegment(
  io: QueueIo,
  file: string,
  lane: Lane,
  firstSeq: number,
  position: number,
  log: Logger,
): Promise<ScanResult> {
  const fd = await io.open(file, 'r+');
  try {
    const size = await io.fstatSize(fd);
    const rd = new ChunkReader(io, fd);
    const head = size > 0 ? await rd.get(0, Math.min(size, SEGMENT_HEADER_BYTES)) : new Uint8Array(0);
    if (size < SEGMENT_HEADER_BYTES && isHeaderPrefix(head, lane, firstSeq)) return { kind: 'torn-create' };
    const hc = checkSegmentHeader(head, lane, firstSeq);
    if (!hc.ok) return { kind: 'bad', reason: hc.reason, bytes: size };

    const seg = new Segment(lane, firstSeq, SEGMENT_HEADER_BYTES);
    let off = SEGMENT_HEADER_BYTES;
    let expected = firstSeq;
    let problem: string | undefined;
    while (off < size) {
      if (size - off < FRAME_HEADER_BYTES) {
        problem = 'short frame header (torn write)';
        break;
      }
      const h = decodeFrameHeader(await rd.get(off, FRAME_HEADER_BYTES));
      if (h.seq !== expected) {
        problem = `frame seq ${h.seq}, expected ${expected}`;
        break;
      }
      if (h.len > MAX_PAYLOAD_BYTES || off + FRAME_HEADER_BYTES + h.len > size) {
        problem = `frame length ${h.len} runs past the end of the file (torn write or bad length)`;
        break;
      }
      const acked = expected < position;
      if (!acked) {
        const frame = await rd.get(off, FRAME_HEADER_BYTES + h.len);
        if (frameCrc(frame, frame.subarray(FRAME_HEADER_BYTES)) !== h.crc) {
          problem = 'bad CRC';
          break;
        }
      }
      seg.push(off, h.len, h.enqueuedAtMs, acked ? ACKED : PENDING);
      off += FRAME_HEADER_BYTES + h.len;
      expected++;
    }
    const corrupt = { records: 0, bytes: 0 };
    if (problem) {
      corrupt.records = await countLost(rd, off, size, expected, position);
      corrupt.bytes = corrupt.records > 0 ? size - off : 0;
      let truncated = true;
      try {
        await io.ftruncate(fd, off);
        await io.fsync(fd);
      } catch (e) {
        truncated = false;
        log.error({ file, err: String(e) }, 'could not truncate a corrupt queue segment');
      }
      log.warn(
        { file, offset: off, reason: problem, records: corrupt.records, bytes: size - off, truncated },
        'queue segment has a corrupt tail; truncated at the last good record',
      );
      seg.size = off;
    }
    seg.sealed = true;
    seg.trim();
    return { kind: 'ok', seg, corrupt };
  } finally {
    await io.close(fd).catch(() => undefined);
  }
}

/**
 * How many un-acked records the dropped tail held, as far as it can be told:
 * the bad frame, then every following frame whose seq and length still line up.
 */
async function countLost(rd: ChunkReader, off: number, size: number, seq: number, position: number): Promise<number> {
  let n = 0;
  let o = off;
  let s = seq;
  while (size - o >= FRAME_HEADER_BYTES) {
    const h = decodeFrameHeader(await rd.get(o, FRAME_HEADER_BYTES));
    const fits = h.len <= MAX_PAYLOAD_BYTES && o + FRAME_HEADER_BYTES + h.len <= size;
    if (o !== off && (h.seq !== s || !fits)) break;
    if (s >= position) n++;
    if (!fits) break;
    o += FRAME_HEADER_BYTES + h.len;
    s++;
  }
  if (o === off && s >= position) n = Math.max(n, 1);
  return n;
}

/** Recover one lane directory (which must exist). */
export async function recoverLane(io: QueueIo, dir: string, lane: Lane, log: Logger): Promise<LaneRecovery> {
  const position = await readPosition(io, dir, lane, log);
  const names = (await io.readdir(dir))
    .map((name) => ({ name, seq: parseSegmentFileName(name) }))
    .filter((x): x is { name: string; seq: number } => x.seq !== undefined)
    .sort((a, b) => a.seq - b.seq);
  const segments: Segment[] = [];
  const corrupt = { records: 0, bytes: 0 };
  let reserved = 0;
  for (const { name, seq } of names) {
    const file = path.join(dir, name);
    const prev = segments[segments.length - 1];
    let r: ScanResult;
    try {
      r =
        prev && seq < prev.nextSeq
          ? { kind: 'bad', reason: `overlaps the records of ${path.basename(name)}`, bytes: 0 }
          : await scanSegment(io, file, lane, seq, position, log);
    } catch (e) {
      log.error({ file, err: String(e) }, 'queue segment unreadable; skipped (left on disk)');
      reserved = Math.max(reserved, seq + 1); // never create a segment under its name
      continue;
    }
    if (r.kind === 'torn-create') {
      await io.unlink(file).catch(() => undefined);
      log.info({ file }, 'removed a queue segment whose creation was interrupted (no records)');
    } else if (r.kind === 'bad') {
      await io.rename(file, `${file}.bad`).catch((e) => log.error({ file, err: String(e) }, 'rename failed'));
      corrupt.bytes += r.bytes;
      log.warn({ file, reason: r.reason, movedTo: `${file}.bad` }, 'not a valid queue segment; moved aside');
    } else {
      corrupt.records += r.corrupt.records;
      corrupt.bytes += r.corrupt.bytes;
      segments.push(r.seg);
    }
  }
  const last = segments[segments.length - 1];
  const nextSeq = Math.max(position, reserved, last ? last.nextSeq : 0);
  return { segments, nextSeq, position, corrupt };
}
