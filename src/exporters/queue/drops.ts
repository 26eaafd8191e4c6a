/**
 * The queue's cumulative drop and refusal counters, per lane and reason, and
 * the logging of refusal streaks: per lane, one warning when its appends
 * start being refused (or the reason changes), naming the lane, and one info
 * line with the count when it accepts again.
 */
import type { Logger } from '../../core/log.js';
import { DROP_REASONS, type DropTally, LANES, type Lane, type QueueDropReason, type QueueStats } from './types.js';

const zero = (): Record<QueueDropReason, DropTally> => {
  const out = {} as Record<QueueDropReason, DropTally>;
  for (const r of DROP_REASONS) out[r] = { records: 0, bytes: 0, points: 0 };
  return out;
};

export class DropLedger {
  private readonly byLane = {} as Record<Lane, Record<QueueDropReason, DropTally>>;
  private readonly streaks = {} as Record<
    Lane,
    { reason: QueueDropReason; records: number; points: number } | undefined
  >;
  private refusedTotal = 0;

  constructor(private readonly log: Logger) {
    for (const l of LANES) this.byLane[l] = zero();
  }

  drop(lane: Lane, reason: QueueDropReason, records: number, bytes: number, points: number): void {
    const t = this.byLane[lane][reason];
    t.records += records;
    t.bytes += bytes;
    t.points += points;
  }

  /** An append was refused: counted as a refusal and as a dropped record of its lane. */
  refuse(lane: Lane, reason: QueueDropReason, bytes: number, points: number, context: Record<string, unknown>): void {
    this.refusedTotal++;
    this.drop(lane, reason, 1, bytes, points);
    const s = this.streaks[lane];
    if (s && s.reason === reason) {
      s.records++;
      s.points += points;
      return;
    }
    this.streaks[lane] = { reason, records: 1, points };
    this.log.warn(
      { lane, reason, bytes, points, ...context },
      `export queue refused a ${lane} record (and refuses ${lane} records until this line's 'accepts again')`,
    );
  }

  accepted(lane: Lane): void {
    const s = this.streaks[lane];
    if (!s) return;
    this.log.info(
      { lane, reason: s.reason, refused: s.records, points: s.points },
      `export queue accepts ${lane} records again`,
    );
    this.streaks[lane] = undefined;
  }

  get refused(): number {
    return this.refusedTotal;
  }

  snapshot(): Pick<QueueStats, 'dropped' | 'droppedByLane'> {
    const dropped = zero();
    const droppedByLane = {} as QueueStats['droppedByLane'];
    for (const l of LANES) {
      droppedByLane[l] = zero();
      for (const r of DROP_REASONS) {
        const t = this.byLane[l][r];
        droppedByLane[l][r] = { ...t };
        dropped[r].records += t.records;
        dropped[r].bytes += t.bytes;
        dropped[r].points += t.points;
      }
    }
    return { dropped, droppedByLane };
  }
}
