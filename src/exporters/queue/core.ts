/**
 * The export queue's logic, shared by the disk and the memory queue: lanes of
 * segments, drain order, in-flight/acked state, the byte cap and eviction,
 * refusals, position saving. Where bytes live is the `SegmentStore`'s job.
 *
 * Every operation that touches the store runs in one serial chain, so an
 * eviction never closes a file under a read and appends keep their order.
 * State changes that need no I/O (release, the marking part of ack) happen at
 * once.
 */
import { ErrorCodes, errnoOf, NrdotError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import { resolveQueueOptions } from './config.js';
import { DropLedger } from './drops.js';
import { frameBytes, MAX_PAYLOAD_BYTES, SEGMENT_HEADER_BYTES } from './format.js';
import {
  adoptRecovered,
  dropRecord,
  evictableFor,
  evictRecords,
  findSegment,
  type LaneState,
  lanePosition,
  newLane,
  noteEvicted,
  sumLanes,
} from './lane.js';
import { IN_FLIGHT, PENDING, Segment } from './segment.js';
import { CorruptRecordError, type SegmentStore } from './store.js';
import {
  type AppendOutcome,
  type ExportQueue,
  LANES,
  type Lane,
  type QueueDropReason,
  type QueuedRecord,
  type QueueOptions,
  type QueueStats,
} from './types.js';
import { Waiters } from './waiters.js';

/** Save positions after this many acks, or POSITION_SAVE_MS after the first unsaved one. */
export const ACK_SAVE_BATCH = 256;
export const POSITION_SAVE_MS = 200;

type Evicted = AppendOutcome['evicted'];

export class QueueCore implements ExportQueue {
  readonly persistent: boolean;
  private readonly maxBytes: number;
  private readonly segmentBytes: number;
  private readonly fsyncIntervalMs: number;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly weigh: (payload: Uint8Array) => number;
  private readonly lanes = {} as Record<Lane, LaneState>;
  private readonly drops: DropLedger;
  private chain: Promise<unknown> = Promise.resolve();
  private starting: Promise<void> | undefined;
  private started = false;
  private closed = false;
  private stopping: Promise<void> | undefined;
  private acksSinceSave = 0;
  private positionFailing = false;
  private posTimer: NodeJS.Timeout | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private readonly waiters = new Waiters();

  constructor(
    private readonly store: SegmentStore,
    opts: QueueOptions,
  ) {
    this.persistent = store.persistent;
    const o = resolveQueueOptions(opts);
    this.maxBytes = o.maxBytes;
    this.segmentBytes = o.segmentBytes;
    this.fsyncIntervalMs = o.fsyncIntervalMs;
    this.log = o.logger;
    this.now = o.now;
    this.weigh = o.weigh;
    this.drops = new DropLedger(this.log);
    for (const lane of LANES) this.lanes[lane] = newLane(lane);
  }

  /** Run `fn` after every operation queued before it. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  start(): Promise<void> {
    if (this.closed) return Promise.reject(new NrdotError(ErrorCodes.RUNTIME, 'export queue is shut down'));
    this.starting ??= this.serial(async () => {
      const rec = await this.store.open();
      for (const lane of LANES) {
        const c = rec.lanes[lane].corrupt;
        this.drops.drop(lane, 'corrupt', c.records, c.bytes, c.points);
        for (const seg of adoptRecovered(this.lanes[lane], rec.lanes[lane])) {
          await this.store
            .remove(seg)
            .catch((e) => this.log.warn({ lane, err: String(e) }, 'could not delete an acked queue segment'));
        }
      }
      this.started = true;
      // record recovered ends that differ from pos.json at once, so lost records are not counted twice
      if (this.persistent) await this.savePositions();
      if (this.persistent && this.fsyncIntervalMs > 0) {
        this.syncTimer = setInterval(() => {
          this.serial(() => this.store.flush()).catch((e) => this.log.error({ err: String(e) }, 'queue flush failed'));
        }, this.fsyncIntervalMs);
        this.syncTimer.unref();
      }
      const s = this.stats();
      if (s.records > 0 || s.dropped.corrupt.records > 0) {
        this.log.info(
          { records: s.records, bytes: s.bytes, corrupt: s.dropped.corrupt, persistent: this.persistent },
          'export queue recovered',
        );
      }
    }).catch((e) => {
      this.starting = undefined;
      throw e;
    });
    return this.starting;
  }

  private usable(): void {
    if (this.closed) throw new NrdotError(ErrorCodes.RUNTIME, 'export queue is shut down');
    if (!this.started) throw new NrdotError(ErrorCodes.RUNTIME, 'export queue used before start() finished');
  }

  private get totalBytes(): number {
    let n = 0;
    for (const l of LANES) n += this.lanes[l].bytes;
    return n;
  }

  append(lane: Lane, payload: Uint8Array): Promise<AppendOutcome> {
    try {
      this.usable();
      if (!LANES.includes(lane)) throw new NrdotError(ErrorCodes.RUNTIME, `unknown queue lane '${lane}'`);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.serial(() => this.appendNow(lane, payload));
  }

  private async appendNow(lane: Lane, payload: Uint8Array): Promise<AppendOutcome> {
    // an append queued before shutdown() still runs: the store closes after it
    const fb = frameBytes(payload.length);
    const evicted: Evicted = [];
    let w = 0;
    try {
      w = this.weigh(payload);
    } catch {
      // an unreadable weight counts as none
    }
    const weight = Number.isSafeInteger(w) && w > 0 && w <= 0xffff_ffff ? w : 0;
    if (payload.length > MAX_PAYLOAD_BYTES || fb > this.maxBytes) return this.refuse(lane, 'cap', fb, weight, evicted);
    const over = this.totalBytes + fb - this.maxBytes;
    if (over > 0) {
      await this.evict(lane, over, 'queued', 'cap', evicted);
      if (this.totalBytes + fb > this.maxBytes) return this.refuse(lane, 'cap', fb, weight, evicted);
    }
    const at = this.now();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.write(this.lanes[lane], payload, at, weight);
        break;
      } catch (e) {
        const code = errnoOf(e);
        const full = code === 'ENOSPC' || code === 'EDQUOT';
        if (full && attempt === 0) {
          const freed = await this.evict(lane, fb + SEGMENT_HEADER_BYTES, 'disk', 'disk_full', evicted);
          if (freed > 0) continue;
        }
        this.log.debug({ lane, err: String(e) }, 'queue write failed');
        return this.refuse(lane, full ? 'disk_full' : 'io_error', fb, weight, evicted, e);
      }
    }
    this.drops.accepted(lane);
    this.wake();
    this.schedulePositionSave();
    return { accepted: true, evicted };
  }

  /** Write one record to the lane's open segment, rotating or creating it as needed. */
  private async write(L: LaneState, payload: Uint8Array, at: number, weight: number): Promise<void> {
    const fb = frameBytes(payload.length);
    let seg = L.segments[L.segments.length - 1];
    if (seg && !seg.sealed && seg.count > 0 && seg.size + fb > this.segmentBytes) {
      await this.store.seal(seg);
      seg.sealed = true;
      seg.trim();
      if (seg.fullyAcked) await this.detach(L, seg, false);
    }
    if (!seg || seg.sealed) {
      seg = new Segment(L.lane, L.nextSeq, SEGMENT_HEADER_BYTES);
      await this.store.create(seg);
      L.segments.push(seg);
    }
    try {
      await this.store.append(seg, L.nextSeq, at, payload);
    } catch (e) {
      if (seg.sealed && seg.count === 0) await this.detach(L, seg, true);
      throw e;
    }
    seg.push(seg.size, payload.length, at, PENDING, weight);
    L.nextSeq++;
    L.records++;
    L.bytes += fb;
  }

  private refuse(
    lane: Lane,
    reason: QueueDropReason,
    fb: number,
    weight: number,
    evicted: Evicted,
    err?: unknown,
  ): AppendOutcome {
    this.drops.refuse(lane, reason, fb, weight, {
      maxBytes: this.maxBytes,
      queuedBytes: this.totalBytes,
      err: err ? String(err) : undefined,
    });
    return { accepted: false, reason, evicted };
  }

  /**
   * Evict whole segments, oldest first, from the lanes an append to `lane`
   * may evict, until `need` bytes are freed (queued bytes for the cap, file
   * bytes for a full disk). Returns the bytes freed.
   */
  private async evict(
    lane: Lane,
    need: number,
    measure: 'queued' | 'disk',
    reason: QueueDropReason,
    evicted: Evicted,
  ): Promise<number> {
    let freed = 0;
    for (const victim of evictableFor(lane)) {
      const L = this.lanes[victim];
      while (freed < need && L.segments.length > 0) {
        const seg = L.segments[0]!;
        const { records, bytes, points, queuedBytes } = evictRecords(L, seg, reason);
        freed += measure === 'queued' ? queuedBytes : seg.size;
        this.drops.drop(victim, reason, records, bytes, points);
        if (records > 0) noteEvicted(evicted, victim, records, bytes, points);
        this.log.debug({ lane: victim, firstSeq: seg.firstSeq, records, bytes, reason }, 'evicted a queue segment');
        await this.detach(L, seg, false);
      }
    }
    return freed;
  }

  /** Take `seg` out of its lane and delete it (its records must already be accounted for). */
  private detach(L: LaneState, seg: Segment, quiet: boolean): Promise<void> {
    seg.gone = true;
    const i = L.segments.indexOf(seg);
    if (i >= 0) L.segments.splice(i, 1);
    return this.store.remove(seg).catch((e) => {
      if (!quiet)
        this.log.warn({ lane: L.lane, firstSeq: seg.firstSeq, err: String(e) }, 'could not delete a queue segment');
    });
  }

  take(): Promise<QueuedRecord | undefined> {
    if (!this.started || this.closed) return Promise.resolve(undefined);
    return this.serial(async () => {
      for (;;) {
        if (this.closed) return undefined;
        const pick = this.pick();
        if (!pick) return undefined;
        const { L, seg, i } = pick;
        seg.state[i] = IN_FLIGHT;
        L.inFlight++;
        let payload: Uint8Array;
        try {
          payload = await this.store.read(seg, i);
        } catch (e) {
          const code = errnoOf(e);
          if (!(e instanceof CorruptRecordError) && code !== 'EIO' && code !== 'ENOENT') {
            // not about this record (EMFILE, ENOMEM...): put it back and report
            L.inFlight--;
            seg.markPending(i);
            throw e;
          }
          const reason = e instanceof CorruptRecordError ? 'corrupt' : 'io_error';
          const d = dropRecord(L, seg, i);
          this.drops.drop(L.lane, reason, 1, d.bytes, d.points);
          this.log.warn(
            { lane: L.lane, seq: seg.firstSeq + i, reason, err: String(e) },
            'queued record unreadable; dropped',
          );
          if (seg.sealed && seg.fullyAcked) await this.detach(L, seg, false);
          continue;
        }
        return { lane: L.lane, seq: seg.firstSeq + i, enqueuedAtMs: seg.times[i]!, payload };
      }
    });
  }

  private pick(): { L: LaneState; seg: Segment; i: number } | undefined {
    for (const lane of LANES) {
      const L = this.lanes[lane];
      if (L.records - L.inFlight <= 0) continue;
      for (const seg of L.segments) {
        const i = seg.firstPending();
        if (i >= 0) return { L, seg, i };
      }
    }
    return undefined;
  }

  async ack(rec: QueuedRecord): Promise<void> {
    if (!this.started || this.closed) return;
    const L = this.lanes[rec.lane];
    if (!L) return;
    const seg = findSegment(L, rec.seq);
    if (!seg) {
      L.orphans.delete(rec.seq);
      return;
    }
    const i = rec.seq - seg.firstSeq;
    const wasInFlight = seg.state[i] === IN_FLIGHT;
    if (!seg.markAcked(i)) return;
    if (wasInFlight) L.inFlight--;
    L.records--;
    L.bytes -= frameBytes(seg.lens[i]!);
    this.store.forget(seg, i);
    const work: Promise<unknown>[] = [];
    if (seg.sealed && seg.fullyAcked) {
      seg.gone = true;
      L.segments.splice(L.segments.indexOf(seg), 1);
      work.push(
        this.serial(() => this.store.remove(seg)).catch((e) =>
          this.log.warn({ err: String(e) }, 'could not delete an acked queue segment'),
        ),
      );
    }
    if (++this.acksSinceSave >= ACK_SAVE_BATCH) work.push(this.serial(() => this.savePositions()));
    else this.schedulePositionSave();
    await Promise.all(work);
  }

  /** Save positions (and lane ends) within POSITION_SAVE_MS, once for any number of changes. */
  private schedulePositionSave(): void {
    if (this.posTimer || !this.persistent || this.closed) return;
    this.posTimer = setTimeout(() => {
      this.posTimer = undefined;
      this.serial(() => this.savePositions()).catch(() => undefined);
    }, POSITION_SAVE_MS);
    this.posTimer.unref();
  }

  release(rec: QueuedRecord): void {
    if (!this.started || this.closed) return;
    const L = this.lanes[rec.lane];
    if (!L) return;
    const seg = findSegment(L, rec.seq);
    if (!seg) {
      const o = L.orphans.get(rec.seq);
      if (o) {
        L.orphans.delete(rec.seq);
        this.drops.drop(L.lane, o.reason, 1, o.bytes, o.points);
      }
      return;
    }
    const i = rec.seq - seg.firstSeq;
    if (seg.state[i] !== IN_FLIGHT) return;
    seg.markPending(i);
    L.inFlight--;
    this.wake();
  }

  private async savePositions(): Promise<void> {
    if (this.posTimer) clearTimeout(this.posTimer);
    this.posTimer = undefined;
    this.acksSinceSave = 0;
    for (const lane of LANES) {
      const L = this.lanes[lane];
      const p = lanePosition(L);
      if (p === L.savedPosition && L.nextSeq === L.savedEnd) continue;
      try {
        await this.store.savePosition(lane, p, L.nextSeq);
        L.savedPosition = p;
        L.savedEnd = L.nextSeq;
        if (this.positionFailing) this.log.info({ lane }, 'queue positions are saved again');
        this.positionFailing = false;
      } catch (e) {
        // once per streak: a full disk would otherwise log this every 200 ms
        if (!this.positionFailing) {
          this.log.warn(
            { lane, err: String(e) },
            'could not save the queue position (records may be delivered twice); retrying',
          );
        }
        this.positionFailing = true;
      }
    }
  }

  private hasPending(): boolean {
    for (const l of LANES) if (this.lanes[l].records - this.lanes[l].inFlight > 0) return true;
    return false;
  }

  private wake(): void {
    this.waiters.wake();
  }

  waitForData(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed || this.hasPending()) return Promise.resolve();
    return this.waiters.wait(ms, signal);
  }

  stats(): QueueStats {
    return {
      ...sumLanes(this.lanes, this.now(), this.persistent),
      ...this.drops.snapshot(),
      refused: this.drops.refused,
    };
  }

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      const starting = this.starting;
      this.closed = true;
      if (this.syncTimer) clearInterval(this.syncTimer);
      if (this.posTimer) clearTimeout(this.posTimer);
      this.posTimer = undefined;
      this.wake();
      if (!starting) return;
      const ok = await starting.then(
        () => true,
        () => false,
      );
      if (!ok) return;
      await this.serial(async () => {
        await this.store.flush();
        await this.savePositions();
        await this.store.close();
      });
    })();
    return this.stopping;
  }
}
