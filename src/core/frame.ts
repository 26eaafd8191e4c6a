/**
 * The frame: one cycle's batch (scanned or received) plus the per-row
 * columns the stages add, in the order the stages fill them. A stage reads
 * the columns of the stages before it and writes its own; it never reaches
 * into another stage's state. Per-cycle figures that the report and the
 * self-telemetry need are gathered in `facts`.
 */

import type { ProcessBatch } from '../sources/batch.js';
import type { Assignment } from './identity.js';
import type { Lane } from './lanes.js';

/** `lane` column values. */
export const LANE_NONE = 0;
export const LANE_CRITICAL = 1;
export const LANE_STANDARD = 2;
export const LANE_SAMPLED = 3;
export const LANE_NAMES: readonly (Lane | undefined)[] = [undefined, 'critical', 'standard', 'sampled'];

/** What the stages learn in a cycle that the report and the self-telemetry show. */
export interface FrameFacts {
  /** scoring: anomalous rows held this cycle, and new promotions by reason */
  anomaliesPresent: number;
  promoted: { cpu: number; memory: number; new: number };
  /** profile: rows kept at full resolution (after the memory cut) */
  kept: number;
  droppedBy: { threshold: number; topN: number; maxSeries: number; memory: number };
  droppedPoints: { threshold: number; topN: number; maxSeries: number; memory: number };
  /** sampled path: the rate (power of two), 0 when nothing was sampled */
  sampleRate: number;
  /** heartbeat: idle standard rows not sent this cycle */
  heartbeatSkipped: number;
  /** cost: the baseline (every process exported) */
  baselinePoints: number;
  baselineBytes: number;
  /** route: critical processes present and exported, anomalous ones exported */
  criticalPresent: number;
  criticalExported: number;
  anomaliesExported: number;
  /** roll-up groups exported */
  rollupGroups: number;
}

/** The aggregate of the rows of one tier that were not exported at full resolution. */
export interface RollupGroup {
  tier: number;
  count: number;
  cpuCores: number;
  rssBytes: number;
  vsizeBytes: number;
  threads: number;
  fds: number;
  /** cumulative sums since `startMs`, in COUNTERS order */
  cumulative: Float64Array;
  /** when the roll-up's cumulative series began, ms since the epoch */
  startMs: number;
}

/** What the build stage made of the frame: the exported rows and roll-ups, encoded once. */
export interface BuiltRequest {
  /** OTLP protobuf: one ResourceMetrics entry per exported row, then the roll-ups */
  protobuf: Buffer;
  /** the path of each entry */
  lanes: Lane[];
  /** data points of each entry */
  points: number[];
  /** pids exported this cycle and their path (received data only: their extras follow them) */
  exportedPids?: Map<number, Lane>;
}

export class Frame {
  readonly n: number;
  /** identity: the slot of each row, and which identities are new */
  slot: Int32Array;
  isNew: Uint8Array;
  named: Uint8Array;
  /** classify: tier index (0 critical .. 3 noise) */
  readonly tier: Uint8Array;
  /** rates: CPU as a fraction of one core */
  readonly cpuCores: Float64Array;
  /** rates: growth of each counter since the last cycle, row-major (row * NCOUNTERS + k) */
  deltas: Float64Array;
  /** rates: the process started since the previous cycle */
  readonly born: Uint8Array;
  /** score: reason | OUT_PROMOTED_NOW (0 = not anomalous) */
  readonly anomaly: Uint8Array;
  /** baseline: data points the row has as read, and the series it costs when exported */
  readonly points: Uint8Array;
  readonly series: Uint8Array;
  /** profile (then memory cut): 1 = exported at full resolution */
  readonly keep: Uint8Array;
  /** sample: 1 = exported on the sampled path (it stays in the roll-up) */
  readonly sampled: Uint8Array;
  /** route, heartbeat: the path each exported row takes (LANE_*), LANE_NONE when not exported */
  readonly lane: Uint8Array;
  /** group: the roll-up aggregates to export */
  groups: RollupGroup[] = [];
  /** build: the encoded request */
  built?: BuiltRequest;
  readonly facts: FrameFacts;

  constructor(
    readonly batch: ProcessBatch,
    /** received data: rows carry every metric they were sent with */
    readonly pushed: boolean,
    readonly cycle: number,
    /** the injected clock's time of this cycle */
    readonly nowMs: number,
    ids: Assignment,
  ) {
    const n = batch.count;
    this.n = n;
    this.slot = ids.slot;
    this.isNew = ids.isNew;
    this.named = ids.named;
    this.tier = new Uint8Array(n);
    this.cpuCores = new Float64Array(n);
    this.deltas = new Float64Array(0);
    this.born = new Uint8Array(n);
    this.anomaly = new Uint8Array(n);
    this.points = new Uint8Array(n);
    this.series = new Uint8Array(n);
    this.keep = new Uint8Array(n);
    this.sampled = new Uint8Array(n);
    this.lane = new Uint8Array(n);
    this.facts = {
      anomaliesPresent: 0,
      promoted: { cpu: 0, memory: 0, new: 0 },
      kept: 0,
      droppedBy: { threshold: 0, topN: 0, maxSeries: 0, memory: 0 },
      droppedPoints: { threshold: 0, topN: 0, maxSeries: 0, memory: 0 },
      sampleRate: 0,
      heartbeatSkipped: 0,
      baselinePoints: 0,
      baselineBytes: 0,
      criticalPresent: 0,
      criticalExported: 0,
      anomaliesExported: 0,
      rollupGroups: 0,
    };
  }
}
