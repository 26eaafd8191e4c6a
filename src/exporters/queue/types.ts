/**
 * The export queue's public contract. The engine appends one record per OTLP
 * request into a lane; a drainer takes records in lane order, sends them and
 * acks or releases them. See `index.ts` for the durability guarantees.
 */

import type { Lane } from '../../core/lanes.js';
import type { Logger } from '../../core/log.js';

export type { Lane };

/** Drain order: every critical record before any standard one, before any sampled one. */
export const LANES: readonly Lane[] = Object.freeze(['critical', 'standard', 'sampled'] as const);

export type QueueDropReason = 'cap' | 'disk_full' | 'io_error' | 'corrupt';
export const DROP_REASONS: readonly QueueDropReason[] = Object.freeze([
  'cap',
  'disk_full',
  'io_error',
  'corrupt',
] as const);

export interface QueuedRecord {
  readonly lane: Lane;
  readonly seq: number;
  readonly enqueuedAtMs: number;
  readonly payload: Uint8Array;
}

export interface AppendOutcome {
  accepted: boolean;
  reason?: QueueDropReason;
  /**
   * non-critical records evicted to make room (one entry per lane that lost
   * records; in-flight records of an evicted segment count as dropped only if
   * they are released rather than acked)
   */
  evicted: { lane: Lane; records: number; bytes: number; points: number }[];
}

/** Records, their frame bytes, and their weight (data points, when the queue is given `weigh`). */
export interface DropTally {
  records: number;
  bytes: number;
  points: number;
}

export interface LaneStats {
  records: number;
  bytes: number;
  oldestAgeMs: number;
  inFlight: number;
}

export interface QueueStats {
  records: number;
  bytes: number;
  oldestAgeMs: number;
  lanes: Record<Lane, LaneStats>;
  /** cumulative since start: records dropped (evicted under the cap or a full disk, refused, lost as corrupt) by reason */
  dropped: Record<QueueDropReason, DropTally>;
  /** the same, per lane */
  droppedByLane: Record<Lane, Record<QueueDropReason, DropTally>>;
  /** cumulative: appends refused (not accepted) */
  refused: number;
  /** bytes of segment files on disk (0 for the memory queue) */
  diskBytes: number;
}

export interface ExportQueue {
  readonly persistent: boolean;
  /** recover from disk (persistent); idempotent */
  start(): Promise<void>;
  /** resolves after the record is written (and fsynced when fsyncIntervalMs = 0) */
  append(lane: Lane, payload: Uint8Array): Promise<AppendOutcome>;
  /**
   * next record not acked and not in flight, in drain order (every critical
   * record before any standard, before any sampled; oldest first within a
   * lane); undefined when none. Marks it in flight.
   */
  take(): Promise<QueuedRecord | undefined>;
  /** delivered or permanently rejected: never handed out again */
  ack(rec: QueuedRecord): Promise<void>;
  /** send failed: hand it out again later (keeps its place) */
  release(rec: QueuedRecord): void;
  /** resolves when a record is appended (or after `ms`, or immediately if records are available) */
  waitForData(ms: number, signal?: AbortSignal): Promise<void>;
  stats(): QueueStats;
  /** flush, fsync, save positions; safe twice */
  shutdown(): Promise<void>;
}

/** `queue.*` of the config (src/config/components.ts); there are no defaults here. */
export interface QueueOptions {
  /** cap on queued payload+framing bytes across lanes (`queue.max_bytes`) */
  maxBytes: number;
  /** rotate segment files at this size (`queue.segment_bytes`) */
  segmentBytes: number;
  /** 0 = fsync before append resolves; >0 = fsync at most this often (`queue.fsync_interval`) */
  fsyncIntervalMs: number;
  logger?: Logger;
  now?: () => number;
  /**
   * What a record stands for, read from its payload (the OTLP exporter: its
   * data points), so that drops are counted in those units too; also read
   * back from the payloads at recovery. Default: 0.
   */
  weigh?: (payload: Uint8Array) => number;
}
