/**
 * The engine's contracts: what it needs from a scanner, the export stage and
 * the memory governor, what it is given, and what each cycle reports.
 */
import type { Config } from '../config/schema.js';
import type { IdentityTable } from '../core/identity.js';
import type { Lane, LaneBatch } from '../core/lanes.js';
import type { Logger } from '../core/log.js';
import type { EncodedRequest } from '../exporters/exporter.js';
import type { ExportHealth } from '../exporters/otlp/queued.js';
import type { ExportMetricsServiceRequest, ResourceMetrics } from '../otlp/model.js';
import type { ProcessBatch } from '../sources/batch.js';
import type { ScanOptions } from '../sources/scanner.js';
import type { MemoryCut } from '../stages/memory-cut/cut.js';
import type { Stateful } from '../state/checkpoint.js';
import type { StateStore } from '../state/store.js';
import type { SelfValues } from '../telemetry/self.js';
import type { CommandLinePrivacy } from '../util/privacy.js';
import type { PipelineTotals } from './telemetry.js';

/** What the engine needs from a scanner backend (the native one scans off the event loop). */
export interface Scanner {
  readonly backend: string;
  /** the proc root it reads (owners are named from that host's passwd); absent for received data */
  readonly procRoot?: string;
  scan(opts?: ScanOptions): ProcessBatch | Promise<ProcessBatch>;
}

export interface ExportOutcome {
  exporter: string;
  ok: boolean;
  bytes: number;
  error?: string;
}

/** What the engine needs from the export stage (a fan-out over exporters). */
export interface ExportSink {
  start(): Promise<void>;
  /**
   * `payload`: the request (the engine gives its EncodedRequest, whose
   * model is made only if an exporter asks); `batches` gives the same data
   * split by lane and request size, for queued exporters.
   */
  export(
    payload: ExportMetricsServiceRequest | EncodedRequest,
    encoded?: Uint8Array,
    batches?: () => readonly LaneBatch[],
  ): Promise<ExportOutcome[]>;
  /** queue and breaker figures of queued exporters */
  health?(): ExportHealth[];
  /** failed deliveries per exporter since start */
  errorCounts?(): Record<string, number>;
  shutdown(): Promise<void>;
}

/** What the engine reads from the memory governor each cycle. */
export interface MemoryView {
  readonly tier: number;
  readonly tierName: string;
  readonly usage: number;
  readonly policy: MemoryCut;
}

export interface CycleReport {
  cycle: number;
  profile: string;
  backend: string;
  processes: number;
  exported: number;
  rolledUp: number;
  rollupGroups: number;
  critical: { present: number; exported: number };
  /** `baseline`: the hostmetrics process scraper's default export of every present process */
  datapoints: { exported: number; processes: number; baseline: number };
  /** the extra resources of the export (discovered services): included in datapoints.exported and bytes.exported */
  extra: { resources: number; points: number; bytes: number };
  bytes: { exported: number; baseline: number };
  /** against the hostmetrics baseline (what users run today), and against `sameSet` */
  reduction: { bytes: number; datapoints: number; sameSet: { bytes: number; datapoints: number } };
  /** the two baselines: hostmetrics default metrics, and nrdot's enabled set, for every present process */
  baselines: { hostmetrics: { points: number; bytes: number }; sameSet: { points: number; bytes: number } };
  coverageCritical: number;
  /** processes promoted by anomaly scoring (held this cycle), and new promotions by reason */
  anomalies: { present: number; exported: number; promoted: { cpu: number; memory: number; new: number } };
  /** anomalous processes exported / present (1 when none) */
  coverageAnomaly: number;
  /** share of the processes' CPU time and resident memory exported by name, not in `_other_` (src/stages/cost/visibility.ts) */
  visibility: { cpu: number; memory: number };
  cost: { hourlyUsd: number; baselineHourlyUsd: number };
  droppedBy: { threshold: number; topN: number; maxSeries: number; memory: number };
  /** data points and requests per path this cycle */
  paths: {
    critical: { points: number; requests: number };
    standard: { points: number; requests: number };
    sampled: { points: number; requests: number };
    /** idle standard processes not re-sent this cycle (heartbeat) */
    heartbeatSkipped: number;
    /** sampled-path rate (power of two), 0 when nothing was sampled */
    sampleRate: number;
  };
  memory: { tier: number; tierName: string; usage: number };
  /** failed deliveries since the previous cycle's report (queued exporters fail while draining) */
  exportErrors: number;
  /** waiting in the export queues (all OTLP endpoints), before this cycle's data */
  queued: { records: number; bytes: number };
  scan: { vanished: number; denied: number; malformed: number; ms: number };
  cycleMs: number;
  exports: ExportOutcome[];
}

/** Everything one cycle produced, for whoever watches the engine (the agent, the receiver). */
export interface CycleResult {
  report: CycleReport;
  /** the self-telemetry values of the cycle (for /metrics) */
  self: SelfValues;
  /** the exported request (its model is made on first use) */
  request: EncodedRequest;
  /** received data: the pids exported this cycle and their path */
  exportedPids?: ReadonlyMap<number, Lane>;
  /** pids kept at full resolution whose unchanged values were not re-sent (the heartbeat) */
  heldPids: readonly number[];
}

export interface EngineOptions {
  config: Config;
  profile: string;
  scanner: Scanner;
  sink: ExportSink;
  intervalMs: number;
  logger: Logger;
  state?: StateStore;
  now?: () => number;
  /** scoring worker threads (0 = inline); default: config scoring.workers */
  workers?: number;
  /** the memory governor; absent = no memory limit */
  memory?: MemoryView;
  /** what exported command lines carry (privacy.command_line); default: as read */
  privacy?: CommandLinePrivacy;
  /** add nrdot's own telemetry to each cycle's export (default true; off for received data) */
  selfTelemetry?: boolean;
  /**
   * pids classified at least important whatever the rules say (the
   * processes of discovered services); read once per cycle, must not throw
   */
  importantPids?: () => ReadonlySet<number>;
  /**
   * resources appended to each cycle's export on the critical path (the
   * discovered services), counted in its points, bytes and cost; must not throw
   */
  extraResources?: (at: { nowMs: number; hostName: string }) => readonly ResourceMetrics[];
  /**
   * Hot reload (src/agent/reload.ts): continue `engine` (its counters and
   * start time from construction; its cycle number, identities and stage
   * state at start(), through `restore`, instead of the state file).
   */
  from?: {
    engine: { handOver(): EngineHandOver };
    restore(from: EngineHandOver, ids: IdentityTable, parts: readonly Stateful[]): void;
  };
}

/** What an engine hands to the one that replaces it (Engine.handOver). */
export interface EngineHandOver {
  ids: IdentityTable;
  stateful: readonly Stateful[];
  totals: PipelineTotals;
  cycleNo: number;
  agentStartMs: number;
}
