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
  /**
   * baseline: what exporting every process would cost. `hostmetrics`: the
   * Collector's process scraper with its default metrics (what users run
   * today); `sameSet`: every process with the metrics nrdot has enabled.
   */
  baseline: { hostmetrics: { points: number; bytes: number }; sameSet: { points: number; bytes: number } };
  /** route: critical processes present and exported, anomalous ones exported */
  criticalPresent: number;
  criticalExported: number;
  anomaliesExported: number;
  /** roll-up groups exported */
  rollupGroups: number;
  /** pools of two or more processes (same executable in the same group) */
  pools: number;
}

/** A group's aggregate of the rows that were not exported at full resolution this cycle. */
export interface RollupGroup {
  /** `nrdot.group`: pod/<uid>, container/<id>, a systemd unit, exe/<name>, or `_other_` */
  name: string;
  /** semantic-convention attributes of the aggregate (k8s.pod.uid, container.id, service.name, ...) */
  attrs: readonly (readonly [string, string])[];
  count: number;
  cpuCores: number;
  rssBytes: number;
  vsizeBytes: number;
  threads: number;
  fds: number;
  /** user, system, wait, fractions of one core, over the members whose rate is known */
  utilization: number[];
  /** members whose value of each metric is known (and summed) */
  known: Record<
    'cpuTime' | 'memoryUsage' | 'memoryVirtual' | 'diskIo' | 'threads' | 'fds' | 'faults' | 'switches' | 'utilization',
    number
  >;
  /** cumulative sums since `startMs`, in COUNTERS order */
  cumulative: Float64Array;
  /** when the group's cumulative series began, ms since the epoch */
  startMs: number;
}

/** What the build stage made of the frame: the exported rows and roll-ups, encoded once. */
export interface BuiltRequest {
  /**
   * OTLP protobuf in pieces, each a run of whole ResourceMetrics entries:
   * one entry per exported row, then the roll-ups. The cost stage adds its
   * own after them (in its copy) and concatenates them once (a repeated
   * field is the concatenation of its elements). Read-only past the build.
   */
  readonly parts: readonly Uint8Array[];
  /** the path of each entry */
  readonly lanes: readonly Lane[];
  /** data points of each entry */
  readonly points: readonly number[];
  /** pids exported this cycle and their path (received data only: their extras follow them) */
  exportedPids?: Map<number, Lane>;
  /**
   * pids kept at full resolution but not re-sent this cycle (the heartbeat:
   * their values did not change, so their series downstream still hold)
   */
  heldPids: number[];
}

/**
 * The per-row columns' memory, reused from cycle to cycle (grow-only): on
 * this kind of VM touching fresh pages costs far more than reusing mapped
 * ones, and a 100k-row frame has about 2.5 MB of columns.
 */
export class FrameBuffers {
  private cap = 0;
  private u8 = new Uint8Array(0);
  private f64 = new Float64Array(0);
  private i32 = new Int32Array(0);
  /** u8 columns per frame */
  static readonly U8 = 10;
  /** f64 columns per frame */
  static readonly F64 = 1;
  /** i32 columns per frame */
  static readonly I32 = 4;
  /**
   * the first i32 columns (group, pool) are filled with -1; the others
   * (poolStart, poolRows) are not: the pool stage writes every entry that
   * is read (the `facts.pools` pools' extents and members)
   */
  static readonly I32_FILLED = 2;

  /** Views for `n` rows: [u8 columns (0)..., f64 columns (0)..., i32 columns (-1, then as left)...]. */
  take(n: number): { u8: Uint8Array[]; f64: Float64Array[]; i32: Int32Array[] } {
    if (n > this.cap) {
      this.cap = Math.max(n, Math.ceil(this.cap * 1.5), 1024);
      this.u8 = new Uint8Array(this.cap * FrameBuffers.U8);
      this.f64 = new Float64Array(this.cap * FrameBuffers.F64);
      this.i32 = new Int32Array(this.cap * FrameBuffers.I32);
    }
    const u8: Uint8Array[] = [];
    for (let k = 0; k < FrameBuffers.U8; k++) {
      const v = this.u8.subarray(k * this.cap, k * this.cap + n);
      v.fill(0);
      u8.push(v);
    }
    const f64: Float64Array[] = [];
    for (let k = 0; k < FrameBuffers.F64; k++) {
      const v = this.f64.subarray(k * this.cap, k * this.cap + n);
      v.fill(0);
      f64.push(v);
    }
    const i32: Int32Array[] = [];
    for (let k = 0; k < FrameBuffers.I32; k++) {
      const v = this.i32.subarray(k * this.cap, k * this.cap + n);
      if (k < FrameBuffers.I32_FILLED) v.fill(-1);
      i32.push(v);
    }
    return { u8, f64, i32 };
  }
}

/** A frame's columns are valid during its cycle only: the next frame reuses their memory. */
export class Frame {
  readonly n: number;
  /** identity: the slot of each row, and which identities are new */
  slot: Int32Array;
  isNew: Uint8Array;
  named: Uint8Array;
  /** classify: tier index (0 critical .. 3 noise); pool: one lower for pool workers */
  readonly tier: Uint8Array;
  /** classify: a `classification.protected` pattern matched */
  readonly prot: Uint8Array;
  /** pool: the group the row rolls up into (GroupCatalog id) */
  readonly group: Int32Array;
  /** pool: the row's pool this cycle (-1: not in a pool of two or more) */
  readonly pool: Int32Array;
  /**
   * pool: the members of each pool (`facts.pools` of them), compressed sparse
   * rows: the rows of pool p, ascending, are `poolRows[poolStart[p] ..
   * poolStart[p + 1])`
   */
  readonly poolStart: Int32Array;
  readonly poolRows: Int32Array;
  /** pool: the row is a worker of its pool (not its master) */
  readonly worker: Uint8Array;
  /** rates: CPU as a fraction of one core */
  readonly cpuCores: Float64Array;
  /** rates: growth of each counter since the last cycle, row-major (row * NCOUNTERS + k) */
  deltas: Float64Array;
  /** rates: user, system and wait CPU as fractions of one core since the last cycle (row * 3 + k); NaN when unknown */
  cpuState: Float64Array;
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
    buffers: FrameBuffers = new FrameBuffers(),
  ) {
    const n = batch.count;
    this.n = n;
    this.slot = ids.slot;
    this.isNew = ids.isNew;
    this.named = ids.named;
    const { u8, f64, i32 } = buffers.take(n);
    [
      this.tier,
      this.prot,
      this.worker,
      this.born,
      this.anomaly,
      this.points,
      this.series,
      this.keep,
      this.sampled,
      this.lane,
    ] = u8 as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    this.cpuCores = f64[0]!;
    [this.group, this.pool, this.poolStart, this.poolRows] = i32 as [Int32Array, Int32Array, Int32Array, Int32Array];
    this.deltas = new Float64Array(0);
    this.cpuState = new Float64Array(0);
    this.facts = {
      anomaliesPresent: 0,
      promoted: { cpu: 0, memory: 0, new: 0 },
      kept: 0,
      droppedBy: { threshold: 0, topN: 0, maxSeries: 0, memory: 0 },
      droppedPoints: { threshold: 0, topN: 0, maxSeries: 0, memory: 0 },
      sampleRate: 0,
      heartbeatSkipped: 0,
      baseline: { hostmetrics: { points: 0, bytes: 0 }, sameSet: { points: 0, bytes: 0 } },
      criticalPresent: 0,
      criticalExported: 0,
      anomaliesExported: 0,
      rollupGroups: 0,
      pools: 0,
    };
  }
}
