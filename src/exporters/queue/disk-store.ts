/**
 * Segment files on disk: `dir/<lane>/<16-digit first seq>.seg` plus
 * `dir/<lane>/pos.json`. See `format.ts` for the bytes and `index.ts` for
 * what each fsync setting guarantees.
 */
import * as path from 'node:path';
import { errnoOf } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { makeDirs } from '../../util/fs.js';
import {
  decodeFrameHeader,
  encodeFrameHeader,
  encodeSegmentHeader,
  FRAME_HEADER_BYTES,
  frameCrc,
  SEGMENT_HEADER_BYTES,
  segmentFileName,
} from './format.js';
import type { QueueIo } from './io.js';
import { encodePosition, POSITION_FILE, recoverLane } from './recover.js';
import type { Weigh } from './scan.js';
import type { Segment } from './segment.js';
import { CorruptRecordError, type Recovered, type RecoveredLane, type SegmentStore } from './store.js';
import { LANES, type Lane } from './types.js';

export interface DiskStoreOptions {
  dir: string;
  io: QueueIo;
  /** fsync every append before it resolves */
  syncEachWrite: boolean;
  logger: Logger;
  /** what a record stands for (data points), read from its payload at recovery */
  weigh?: Weigh;
}

/** Bytes read at once when draining (the window holds following records too). */
export const READ_AHEAD = 1 << 20;

interface ReadWindow {
  seg: Segment;
  /** file offset of buf[0] */
  start: number;
  len: number;
  buf: Buffer;
}

/** Write every byte of `buffers` at `position`, looping over short writes. */
async function writeAll(io: QueueIo, fd: number, buffers: Uint8Array[], position: number): Promise<void> {
  let bufs = buffers;
  let pos = position;
  let left = bufs.reduce((n, b) => n + b.length, 0);
  while (left > 0) {
    const n = await io.writev(fd, bufs, pos);
    if (n <= 0) throw Object.assign(new Error('write wrote nothing'), { code: 'EIO' });
    pos += n;
    left -= n;
    if (left === 0) break;
    let skip = n;
    const rest: Uint8Array[] = [];
    for (const b of bufs) {
      if (skip >= b.length) {
        skip -= b.length;
        continue;
      }
      rest.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
    bufs = rest;
  }
}

export class DiskStore implements SegmentStore {
  readonly persistent = true;
  private readonly io: QueueIo;
  private readonly log: Logger;
  private readonly writeFds = new Map<Segment, number>();
  /** one cached read handle per lane, for sealed segments */
  private readonly readFds = new Map<Lane, { seg: Segment; fd: number }>();
  private readonly ahead = new Map<Lane, ReadWindow>();
  private readonly dirty = new Set<Segment>();
  private readonly dirtyDirs = new Set<string>();

  constructor(private readonly o: DiskStoreOptions) {
    this.io = o.io;
    this.log = o.logger;
  }

  laneDir(lane: Lane): string {
    return path.join(this.o.dir, lane);
  }

  private file(seg: Segment): string {
    return path.join(this.laneDir(seg.lane), segmentFileName(seg.firstSeq));
  }

  async open(): Promise<Recovered> {
    await makeDirs(this.o.dir);
    let created = false;
    for (const lane of LANES) {
      try {
        await this.io.mkdir(this.laneDir(lane));
        created = true;
      } catch (e) {
        if (errnoOf(e) !== 'EEXIST') throw e;
      }
    }
    if (created) await this.dirSynced(this.o.dir);
    const lanes = {} as Record<Lane, RecoveredLane>;
    for (const lane of LANES)
      lanes[lane] = await recoverLane(this.io, this.laneDir(lane), lane, this.log, this.o.weigh);
    return { lanes };
  }

  /** fsync a directory now (fsync on every write) or at the next flush. */
  private async dirSynced(dir: string): Promise<void> {
    if (this.o.syncEachWrite) await this.io.syncDir(dir);
    else this.dirtyDirs.add(dir);
  }

  async create(seg: Segment): Promise<void> {
    const file = this.file(seg);
    const fd = await this.io.open(file, 'wx+');
    try {
      await writeAll(this.io, fd, [encodeSegmentHeader(seg.lane, seg.firstSeq)], 0);
      if (this.o.syncEachWrite) await this.io.fsync(fd);
      else this.dirty.add(seg);
      await this.dirSynced(this.laneDir(seg.lane));
    } catch (e) {
      this.dirty.delete(seg);
      await this.io.close(fd).catch(() => undefined);
      await this.io.unlink(file).catch(() => undefined);
      throw e;
    }
    seg.size = SEGMENT_HEADER_BYTES;
    this.writeFds.set(seg, fd);
  }

  async append(seg: Segment, seq: number, enqueuedAtMs: number, payload: Uint8Array): Promise<void> {
    const fd = this.writeFds.get(seg);
    if (fd === undefined) throw new Error(`segment ${this.file(seg)} is not open for writing`);
    const start = seg.size;
    try {
      await writeAll(this.io, fd, [encodeFrameHeader(seq, enqueuedAtMs, payload), payload], start);
      if (this.o.syncEachWrite) await this.io.fsync(fd);
      else this.dirty.add(seg);
    } catch (e) {
      try {
        await this.io.ftruncate(fd, start);
      } catch (e2) {
        this.log.error(
          { file: this.file(seg), err: String(e2) },
          'could not roll back a failed queue write; the segment is sealed and its tail is dropped at the next start',
        );
        seg.sealed = true;
        this.writeFds.delete(seg);
        if (this.dirty.delete(seg)) await this.io.fsync(fd).catch(() => undefined); // the good records before it
        await this.io.close(fd).catch(() => undefined);
      }
      throw e;
    }
  }

  private async readFd(seg: Segment): Promise<number> {
    const w = this.writeFds.get(seg);
    if (w !== undefined) return w;
    const cached = this.readFds.get(seg.lane);
    if (cached?.seg === seg) return cached.fd;
    const fd = await this.io.open(this.file(seg), 'r');
    if (cached) await this.io.close(cached.fd).catch(() => undefined);
    this.readFds.set(seg.lane, { seg, fd });
    return fd;
  }

  /**
   * The payload of record `i`, CRC-checked. Reads go through a per-lane
   * read-ahead window (up to READ_AHEAD bytes of following records in one
   * read), so draining small records costs one thread-pool round trip per
   * window, not per record. The payload is copied out of the window.
   */
  async read(seg: Segment, i: number): Promise<Uint8Array> {
    const off = seg.offsets[i]!;
    const len = seg.lens[i]!;
    const n = FRAME_HEADER_BYTES + len;
    let w = this.ahead.get(seg.lane);
    if (!w || w.seg !== seg || off < w.start || off + n > w.start + w.len) {
      w = await this.fill(seg, off, n);
    }
    const frame = w.buf.subarray(off - w.start, off - w.start + n);
    const seq = seg.firstSeq + i;
    if (frame.length < n) throw new CorruptRecordError(`record ${seq} in ${this.file(seg)} is cut short`);
    const h = decodeFrameHeader(frame);
    const payload = frame.subarray(FRAME_HEADER_BYTES);
    if (h.seq !== seq || h.len !== len || frameCrc(frame, payload) !== h.crc) {
      throw new CorruptRecordError(`record ${seq} in ${this.file(seg)} fails its CRC check`);
    }
    return Uint8Array.prototype.slice.call(payload);
  }

  /** Read from `off` at least `n` bytes and at most READ_AHEAD (never past the indexed records). */
  private async fill(seg: Segment, off: number, n: number): Promise<ReadWindow> {
    const fd = await this.readFd(seg);
    const want = Math.max(n, Math.min(READ_AHEAD, seg.size - off));
    const old = this.ahead.get(seg.lane);
    this.ahead.delete(seg.lane);
    const buf = old && old.buf.length >= want && old.buf.length <= 2 * READ_AHEAD ? old.buf : Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const r = await this.io.read(fd, buf, got, want - got, off + got);
      if (r === 0) break;
      got += r;
    }
    const w = { seg, start: off, len: got, buf };
    this.ahead.set(seg.lane, w);
    return w;
  }

  forget(): void {}

  async seal(seg: Segment): Promise<void> {
    seg.sealed = true;
    const fd = this.writeFds.get(seg);
    if (fd === undefined) return;
    this.writeFds.delete(seg);
    if (this.dirty.delete(seg)) {
      await this.io.fsync(fd).catch((e) => this.log.error({ file: this.file(seg), err: String(e) }, 'fsync failed'));
    }
    await this.io.close(fd).catch(() => undefined);
  }

  async remove(seg: Segment): Promise<void> {
    const fd = this.writeFds.get(seg);
    this.writeFds.delete(seg);
    this.dirty.delete(seg);
    if (fd !== undefined) await this.io.close(fd).catch(() => undefined);
    if (this.ahead.get(seg.lane)?.seg === seg) this.ahead.delete(seg.lane);
    const cached = this.readFds.get(seg.lane);
    if (cached?.seg === seg) {
      this.readFds.delete(seg.lane);
      await this.io.close(cached.fd).catch(() => undefined);
    }
    try {
      await this.io.unlink(this.file(seg));
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw e;
    }
    await this.dirSynced(this.laneDir(seg.lane));
  }

  async savePosition(lane: Lane, position: number, end: number): Promise<void> {
    const file = path.join(this.laneDir(lane), POSITION_FILE);
    const tmp = `${file}.tmp`;
    await this.io.writeFileSync(tmp, encodePosition(lane, position, end));
    await this.io.rename(tmp, file);
    await this.dirSynced(this.laneDir(lane));
  }

  async flush(): Promise<void> {
    for (const seg of [...this.dirty]) {
      const fd = this.writeFds.get(seg);
      this.dirty.delete(seg);
      if (fd === undefined) continue;
      try {
        await this.io.fsync(fd);
      } catch (e) {
        this.log.error(
          { file: this.file(seg), err: String(e) },
          'queue fsync failed; recent records may not survive a power loss',
        );
      }
    }
    for (const dir of [...this.dirtyDirs]) {
      this.dirtyDirs.delete(dir);
      await this.io.syncDir(dir).catch((e) => this.log.error({ dir, err: String(e) }, 'directory fsync failed'));
    }
  }

  async close(): Promise<void> {
    await this.flush();
    for (const fd of this.writeFds.values()) await this.io.close(fd).catch(() => undefined);
    for (const { fd } of this.readFds.values()) await this.io.close(fd).catch(() => undefined);
    this.writeFds.clear();
    this.readFds.clear();
    this.ahead.clear();
  }
}
