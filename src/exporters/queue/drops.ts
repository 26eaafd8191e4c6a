/**
 * The queue's cumulative drop and refusal counters, and the logging of
 * refusal streaks: one warning when appends start being refused (or the
 * reason changes), one info line when they are accepted again.
 */
import type { Logger } from '../../core/log.js';
import { DROP_REASONS, type Lane, type QueueDropReason, type QueueStats } from './types.js';

export class DropLedger {
  private readonly dropped = {} as Record<QueueDropReason, { records: number; bytes: number }>;
  private refusedTotal = 0;
  private streakReason: QueueDropReason | undefined;
  private streak = 0;

  constructor(private readonly log: Logger) {
    for (const r of DROP_REASONS) this.dropped[r] = { records: 0, bytes: 0 };
  }

  drop(reason: QueueDropReason, records: number, bytes: number): void {
    this.dropped[reason].records += records;
    this.dropped[reason].bytes += bytes;
  }

  /** An append was refused: counted as a refusal and as a dropped record. */
  refuse(lane: Lane, reason: QueueDropReason, bytes: number, context: Record<string, unknown>): void {
    this.refusedTotal++;
    this.streak++;
    this.drop(reason, 1, bytes);
    if (this.streakReason !== reason) {
      this.streakReason = reason;
      this.log.warn({ lane, reason, bytes, ...context }, 'export queue refused a record');
    }
  }

  accepted(lane: Lane): void {
    if (this.streakReason === undefined) return;
    this.log.info({ lane, refused: this.streak }, 'export queue accepts records again');
    this.streakReason = undefined;
    this.streak = 0;
  }

  get refused(): number {
    return this.refusedTotal;
  }

  snapshot(): QueueStats['dropped'] {
    const out = {} as QueueStats['dropped'];
    for (const r of DROP_REASONS) out[r] = { ...this.dropped[r] };
    return out;
  }
}
