/**
 * The stage list, built from the config: the one place that says which
 * stages run and in what order. Everything per process lives in the identity
 * table the stages share; everything else a stage keeps is its own.
 *
 *   classify → pool → rates → score → baseline → profile → memory_cut →
 *   sample → rollup → route → heartbeat → build → cost
 */
import { durationMs } from '../config/schema.js';
import { GroupCatalog } from '../core/groups.js';
import type { IdentityTable } from '../core/identity.js';
import type { ExportHealth } from '../exporters/otlp/queued.js';
import { boundsFromConfig, scanIsBounded } from '../sources/bounds-config.js';
import { BaselineStage } from '../stages/baseline/index.js';
import { BuildStage } from '../stages/build/index.js';
import { metricSet } from '../stages/build/metrics.js';
import { ImportantPids } from '../stages/classify/floor.js';
import { ClassifyStage } from '../stages/classify/index.js';
import { CostStage } from '../stages/cost/index.js';
import { GroupStage } from '../stages/group/index.js';
import { HeartbeatStage } from '../stages/heartbeat/index.js';
import { MemoryCutStage } from '../stages/memory-cut/index.js';
import { PoolStage } from '../stages/pool/index.js';
import { ProfileStage } from '../stages/profile/index.js';
import { RatesStage } from '../stages/rates/index.js';
import { RouteStage } from '../stages/route/index.js';
import { SampleStage } from '../stages/sample/index.js';
import { ScoreStage } from '../stages/score/stage.js';
import type { Stateful } from '../state/checkpoint.js';
import { CommandLinePrivacy } from '../util/privacy.js';
import type { Stage } from './stage.js';
import type { PipelineTotals } from './telemetry.js';
import type { EngineOptions } from './types.js';

/** What the stages are built from: the engine's options, and what the engine keeps for them. */
export interface StageListOptions
  extends Pick<
    EngineOptions,
    'config' | 'logger' | 'intervalMs' | 'workers' | 'selfTelemetry' | 'privacy' | 'importantPids' | 'extraResources'
  > {
  ids: IdentityTable;
  agentStartMs: number;
  /** the exporters' queues and breakers, at this moment */
  health: () => ExportHealth[];
  totals: PipelineTotals;
  /** the scan's duration this cycle, ms */
  scanMs: () => number;
}

export interface StageList {
  /** in the order they run */
  stages: Stage[];
  /** the stages whose state the checkpoint keeps */
  stateful: Stateful[];
  /** the route stage: what the next scan reads */
  route: RouteStage;
  /** the cost stage: what goes to the exporters */
  cost: CostStage;
  /** stages with a lifecycle (the scoring worker pool) */
  score: ScoreStage;
}

export function buildStages(o: StageListOptions): StageList {
  const { config, ids } = o;
  const metrics = metricSet(config);
  const sc = config.scan;
  const bounded = scanIsBounded(sc);
  const rates = new RatesStage(ids);
  const score = new ScoreStage(
    ids,
    o.workers ?? config.scoring.workers,
    durationMs(config.scoring.state_ttl),
    o.logger,
  );
  const catalog = new GroupCatalog();
  const group = new GroupStage(catalog);
  const route = new RouteStage(sc.detail === 'exported', bounded ? boundsFromConfig(sc) : undefined);
  const heartbeat = new HeartbeatStage(ids, metrics, config.paths.standard.heartbeat_cycles);
  const cost = new CostStage({
    intervalMs: o.intervalMs,
    pricePerGb: config.cost.price_per_gb,
    selfTelemetry: o.selfTelemetry ?? true,
    agentStartMs: o.agentStartMs,
    criticalMaxRequestBytes: config.paths.critical.max_request_bytes,
    maxRequestBytes: config.export_options.otlp.max_request_bytes,
    health: o.health,
    totals: o.totals,
    scanMs: o.scanMs,
    logger: o.logger,
    extraResources: o.extraResources,
  });
  // classify and pool read the same set in a cycle
  const important = o.importantPids ? new ImportantPids(o.importantPids) : undefined;
  const stages: Stage[] = [
    new ClassifyStage(ids, config.classification, important),
    new PoolStage(ids, catalog, config, important),
    rates,
    score,
    new BaselineStage(ids, metrics),
    new ProfileStage(),
    new MemoryCutStage(),
    new SampleStage(),
    group,
    route,
    heartbeat,
    new BuildStage(ids, metrics, sc.detail === 'all', o.privacy ?? new CommandLinePrivacy('keep')),
    cost,
  ];
  return { stages, stateful: [rates, score, group, heartbeat], route, cost, score };
}
