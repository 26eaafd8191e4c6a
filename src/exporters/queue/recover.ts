/**
 * Recovery of one lane directory at start: read the position file, scan the
 * segment files (scan.ts), repair them, rebuild the index. Nothing here
 * throws for bad data, and only damaged records are lost:
 *
 * - damage inside a segment: recovery resynchronises on the next intact
 *   frame, marks the damaged region as a hole (so the next start does not
 *   count it again) and keeps every intact record on both sides;
 * - a damaged tail: truncated after the last intact record;
 * - a damaged segment header over intact frames: rewritten;
 * - a file that is not ours (bad magic or another format version, and no
 *   frame of ours in it): renamed `.bad` and left alone;
 * - a segment cut inside its header: removed; its records are counted lost
 *   when a later segment or the saved end shows it had some;
 * - a position file pointing past the last record on disk (and past the
 *   saved end): not trusted; the lane is delivered again from its oldest
 *   segment (duplicates rather than silent loss).
 *
 * Lost records are counted exactly by seq: in a hole, the seqs between the
 * intact records around it; in a damaged tail, up to the next segment's
 * first seq, or for the newest segment up to the `end` saved in pos.json.
 * Records already acked (below the position) are not counted. Each damaged
 * file gets one warning naming it.
 */
import * as path from 'node:path';
import type { Logger } from '../../core/log.js';
import { isHeaderPrefix, parseSegmentFileName, SEGMENT_HEADER_BYTES } from './format.js';
import type { QueueIo } from './io.js';
import { type Position, readPosition } from './position.js';
import { type Damage, type SegmentScan, scanSegment, type Weigh } from './scan.js';
import { ACKED, PENDING, Segment } from './segment.js';
import type { RecoveredLane } from './store.js';
import type { Lane } from './types.js';

export { encodePosition, POSITION_FILE, readPosition } from './position.js';

type FileResult =
  | { kind: 'segment'; file: string; firstSeq: number; scan: SegmentScan; repaired: boolean }
  /** shorter than a header: removed (or moved aside when not a header prefix) */
  | { kind: 'short'; file: string; firstSeq: number; size: number; end: number | undefined }
  /** not a segment of ours: moved aside */
  | { kind: 'foreign'; bytes: number }
  | { kind: 'gone' };

async function readAll(io: QueueIo, fd: number): Promise<Uint8Array> {
  const size = await io.fstatSize(fd);
  const buf = Buffer.allocUnsafe(size);
  let got = 0;
  while (got < size) {
    const r = await io.read(fd, buf, got, size - got, got);
    if (r === 0) break;
    got += r;
  }
  return buf.subarray(0, got);
}

async function writeAt(io: QueueIo, fd: number, data: Uint8Array, off: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const n = await io.writev(fd, [data.subarray(done)], off + done);
    if (n <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
    done += n;
  }
}

/** Apply a scan's repairs to the file; false (logged) when the disk refused. */
async function repair(io: QueueIo, fd: number, file: string, scan: SegmentScan, log: Logger): Promise<boolean> {
  if (scan.writes.length === 0 && scan.truncateAt === undefined) return true;
  try {
    for (const w of scan.writes) await writeAt(io, fd, w.data, w.off);
    if (scan.truncateAt !== undefined) await io.ftruncate(fd, scan.truncateAt);
    await io.fsync(fd);
    return true;
  } catch (e) {
    log.error(
      { file, err: String(e) },
      'could not repair a damaged queue segment; its damage is found and counted again at the next start',
    );
    return false;
  }
}

/** Records of [from, to) not yet delivered (at or above `position`). */
const unacked = (from: number, to: number, position: number) => Math.max(0, to - Math.max(from, position));

function seqRanges(damage: { fromSeq: number; toSeq: number }[]): string {
  return damage
    .filter((d) => d.toSeq > d.fromSeq)
    .map((d) => (d.toSeq - d.fromSeq === 1 ? `${d.fromSeq}` : `${d.fromSeq}-${d.toSeq - 1}`))
    .join(', ');
}

/** Recover one lane directory (which must exist). */
export async function recoverLane(
  io: QueueIo,
  dir: string,
  lane: Lane,
  log: Logger,
  weigh?: Weigh,
): Promise<RecoveredLane> {
  const pos: Position = await readPosition(io, dir, lane, log);
  const savedEnd = pos.kind === 'ok' ? pos.end : undefined;
  const names = (await io.readdir(dir))
    .map((name) => ({ name, seq: parseSegmentFileName(name) }))
    .filter((x): x is { name: string; seq: number } => x.seq !== undefined)
    .sort((a, b) => a.seq - b.seq);

  // pass 1: scan and repair each file, in seq order
  const results: FileResult[] = [];
  let reserved = 0;
  let prevEnd = -1;
  for (let k = 0; k < names.length; k++) {
    const { name, seq } = names[k]!;
    const file = path.join(dir, name);
    const seqLimit = names[k + 1]?.seq;
    if (seq < prevEnd) {
      await io.rename(file, `${file}.bad`).catch((e) => log.error({ file, err: String(e) }, 'rename failed'));
      log.warn(
        {
          file,
          reason: `overlaps the records of the segment before it (seq ${seq} < ${prevEnd})`,
          movedTo: `${file}.bad`,
        },
        'not a valid queue segment; moved aside',
      );
      results.push({ kind: 'gone' });
      continue;
    }
    let fd: number;
    try {
      fd = await io.open(file, 'r+');
    } catch (e) {
      log.error({ file, err: String(e) }, 'queue segment unreadable; skipped (left on disk)');
      reserved = Math.max(reserved, seq + 1); // never create a segment under its name
      results.push({ kind: 'gone' });
      continue;
    }
    let open = true;
    const close = async () => {
      if (open) await io.close(fd).catch(() => undefined);
      open = false;
    };
    try {
      const buf = await readAll(io, fd);
      if (buf.length < SEGMENT_HEADER_BYTES) {
        await close();
        const prefix = isHeaderPrefix(buf, lane, seq);
        if (prefix) await io.unlink(file).catch(() => undefined);
        else {
          await io.rename(file, `${file}.bad`).catch((e) => log.error({ file, err: String(e) }, 'rename failed'));
        }
        results.push({ kind: 'short', file, firstSeq: seq, size: buf.length, end: seqLimit ?? savedEnd });
        continue;
      }
      const scan = scanSegment(buf, { lane, firstSeq: seq, seqLimit, weigh });
      if (scan.header === 'foreign') {
        await close();
        await io.rename(file, `${file}.bad`).catch((e) => log.error({ file, err: String(e) }, 'rename failed'));
        log.warn(
          { file, reason: scan.headerReason, bytes: buf.length, movedTo: `${file}.bad` },
          'not a valid queue segment; moved aside',
        );
        results.push({ kind: 'foreign', bytes: buf.length });
        continue;
      }
      const repaired = await repair(io, fd, file, scan, log);
      results.push({ kind: 'segment', file, firstSeq: seq, scan, repaired });
      prevEnd = scan.end;
    } catch (e) {
      log.error({ file, err: String(e) }, 'queue segment unreadable; skipped (left on disk)');
      reserved = Math.max(reserved, seq + 1);
      results.push({ kind: 'gone' });
    } finally {
      await close();
    }
  }

  // the end of each damaged tail: the next segment's first seq, or for the newest one the saved end
  const tailEnd = (k: number, d: Damage): number => {
    const next = names[k + 1]?.seq;
    if (next !== undefined) return Math.max(next, d.fromSeq);
    return Math.max(d.fromSeq + d.seen, savedEnd ?? 0);
  };
  // diskEnd: the lane's end as far as the disk and pos.json tell (lost records included);
  // physicalEnd: after the last record still on disk, where the next append goes
  let diskEnd = 0;
  let physicalEnd = 0;
  let anySegment = false;
  results.forEach((r, k) => {
    if (r.kind === 'short' && r.end !== undefined) diskEnd = Math.max(diskEnd, r.end);
    if (r.kind !== 'segment') return;
    anySegment = true;
    physicalEnd = Math.max(physicalEnd, r.scan.end);
    const last = r.scan.damage[r.scan.damage.length - 1];
    diskEnd = Math.max(diskEnd, last && last.toSeq === undefined ? tailEnd(k, last) : r.scan.end);
  });

  // pass 2: check the position against what is on disk
  let position = pos.kind === 'ok' ? pos.next : 0;
  let trusted = pos.kind === 'ok';
  if (pos.kind === 'ok' && anySegment && pos.next > diskEnd && !(pos.end !== undefined && pos.next <= pos.end)) {
    trusted = false;
    log.warn(
      { file: pos.file, next: pos.next, lastRecordOnDisk: diskEnd - 1 },
      'queue position file points past the last record on disk; not trusted: the lane is delivered again from its oldest segment',
    );
    position = 0;
  }

  // pass 3: build the index, count and report what was lost
  const segments: Segment[] = [];
  const corrupt = { records: 0, bytes: 0, points: 0 };
  for (let k = 0; k < results.length; k++) {
    const r = results[k]!;
    if (r.kind === 'short') {
      const lost = r.end !== undefined ? unacked(r.firstSeq, r.end, position) : 0;
      if (lost > 0) {
        corrupt.records += lost;
        corrupt.bytes += r.size;
        log.warn(
          {
            file: r.file,
            lane,
            bytes: r.size,
            records: lost,
            seqs: seqRanges([{ fromSeq: r.firstSeq, toSeq: r.end! }]),
          },
          'queue segment cut short inside its header; its records are lost',
        );
      } else {
        log.info({ file: r.file }, 'removed a queue segment whose creation was interrupted (no records)');
      }
      continue;
    }
    if (r.kind === 'foreign') corrupt.bytes += r.bytes;
    if (r.kind !== 'segment') continue;
    const { scan } = r;
    const seg = new Segment(lane, r.firstSeq, SEGMENT_HEADER_BYTES);
    for (const e of scan.entries) {
      if (e.kind === 'gap') seg.skip(e.toSeq - e.fromSeq);
      else seg.push(e.off, e.len, e.timeMs, e.seq < position ? ACKED : PENDING, e.weight);
    }
    seg.size = scan.size;
    seg.sealed = true;
    seg.trim();
    segments.push(seg);
    if (scan.damage.length === 0) {
      if (scan.header === 'repair') {
        log.warn(
          { file: r.file, reason: scan.headerReason, repaired: r.repaired },
          'queue segment header damaged; rewritten from its records (no record lost)',
        );
      }
      continue;
    }
    let records = 0;
    let bytes = 0;
    let points = 0;
    const ranges: { fromSeq: number; toSeq: number }[] = [];
    for (const d of scan.damage) {
      const to = d.toSeq ?? tailEnd(k, d);
      const lost = unacked(d.fromSeq, to, position);
      ranges.push({ fromSeq: Math.max(d.fromSeq, Math.min(position, to)), toSeq: to });
      if (lost === 0) continue;
      records += lost;
      bytes += d.bytes;
      for (const w of d.weights) if (w.seq >= position && w.seq < to) points += w.weight;
    }
    corrupt.records += records;
    corrupt.bytes += bytes;
    corrupt.points += points;
    const tail = scan.truncateAt !== undefined;
    log.warn(
      {
        file: r.file,
        lane,
        records,
        points,
        bytes,
        seqs: seqRanges(ranges),
        regions: scan.damage.map((d) => ({ offset: d.off, bytes: d.bytes, reason: d.reason })),
        kept: scan.entries.filter((e) => e.kind === 'record').length,
        ...(scan.header === 'repair' ? { header: `rewritten (${scan.headerReason})` } : {}),
        ...(tail ? { truncatedAt: scan.truncateAt } : {}),
        repaired: r.repaired,
      },
      tail
        ? 'queue segment damaged: lost the damaged records, kept the intact ones, truncated after the last intact record'
        : 'queue segment damaged: lost the damaged records, kept the intact ones',
    );
  }
  // records the position file counts as accepted but no segment holds (the newest segment lost its end)
  if (trusted && savedEnd !== undefined && savedEnd > diskEnd) {
    const lost = unacked(diskEnd, savedEnd, position);
    if (lost > 0) {
      corrupt.records += lost;
      log.warn(
        {
          dir,
          lane,
          file: pos.kind === 'ok' ? pos.file : undefined,
          records: lost,
          seqs: seqRanges([{ fromSeq: Math.max(diskEnd, position), toSeq: savedEnd }]),
        },
        'queued records are missing from the end of the lane (its newest segment lost its end or was removed); counted as corrupt',
      );
    }
  }
  // Seqs of lost records may be used again: they were counted once, and the
  // position saved right after recovery records the lane's new end.
  const nextSeq = Math.max(position, reserved, physicalEnd);
  const end = pos.kind === 'missing' ? 0 : trusted && savedEnd !== undefined ? savedEnd : -1;
  return { segments, nextSeq, position, savedEnd: end, corrupt };
}
