/**
 * The engine: one cycle = scan -> classify -> rates -> score -> profile ->
 * roll-up -> build OTLP -> cost -> export. Components start downstream first (exporters)
 * and shut down upstream first (stop scanning, then flush exporters), and
 * `shutdown()` is safe to call twice.
 */

import type { Config, ProfileConfig } from '../config/schema.js';
import { durationMs } from '../config/schema.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { IdentityTable } from '../core/identity.js';
import type { Lane, LaneBatch } from '../core/lanes.js';
import type { Logger } from '../core/log.js';
import { countDataPoints, type ExportMetricsServiceRequest, nanosFromMs, type ResourceMetrics } from '../otlp/model.js';
import { encodeRequest } from '../otlp/proto.js';
import { reportSplit, splitByLane } from '../otlp/split.js';
import { FLAG_DETAIL, type ProcessBatch } from '../sources/batch.js';
import type { ScanBounds } from '../sources/bounds.js';
import { boundsFromConfig } from '../sources/bounds-config.js';
import type { ScanOptions } from '../sources/scanner.js';
import { pointsForRow, processResource, rollupResource } from '../stages/build/build.js';
import { Classifier, TIER_IMPORTANCE } from '../stages/classify/classifier.js';
import { RollupMemory, rollUp } from '../stages/group/rollup.js';
import { decide } from '../stages/profile/policy.js';
import { CounterMemory } from '../stages/rates/counters.js';
import { applyMemoryCut, heartbeatDue, sampleRolledUp } from '../stages/route/route.js';
import { type ScoreParams, scoreParams } from '../stages/score/params.js';
import {
  OUT_PROMOTED_NOW,
  OUT_REASON_MASK,
  REASON_CPU,
  REASON_MEMORY,
  REASON_NEW,
  REASONS,
  ROW_BORN,
} from '../stages/score/score.js';
import { createScorer, InlineScorer, type Scorer } from '../stages/score/scorer.js';
import { ScoreTable } from '../stages/score/table.js';
import type { StateStore } from '../state/store.js';
import { TIER_CRITICAL, TIERS } from '../telemetry/names.js';
import { EXCLUDE_REASONS, type SelfValues, selfResource } from '../telemetry/self.js';
import { StageTimer } from './stage.js';
import type { CycleReport, EngineOptions, ExportSink, MemoryView, Scanner } from './types.js';

export type { CycleReport, EngineOptions, ExportOutcome, ExportSink, MemoryView, Scanner } from './types.js';

export class Engine {
  private readonly config: Config;
  private profileName: string;
  private profile: ProfileConfig;
  private readonly scanner: Scanner;
  private readonly sink: ExportSink;
  private readonly logger: Logger;
  private readonly state?: StateStore;
  private readonly now: () => number;
  private readonly intervalMs: number;
  private readonly identities: IdentityTable;
  private counters = new CounterMemory();
  /** pids exported last cycle: the next scan reads status/io/fd only for them */
  private detailPids?: Int32Array;
  private scores = new ScoreTable();
  private scorer: Scorer = new InlineScorer();
  private readonly workers: number;
  private params: ScoreParams;
  private promotedTotals = { cpu: 0, memory: 0, new: 0 };
  private rollup: RollupMemory;
  readonly timer = new StageTimer();
  private readonly agentStartMs: number;
  private cycleNo = 0;
  private started = false;
  private stopped = false;
  private totals = { vanished: 0, denied: 0, exportErrors: {} as Record<string, number> };
  private readonly memory?: MemoryView;
  private pendingProfile?: string;
  private lastReportValue?: CycleReport;
  private lastSelf?: SelfValues;
  private readonly selfTelemetry: boolean;
  /** bounded discovery (config scan:), undefined when every bound is off */
  private readonly bounds?: ScanBounds;
  /** critical and anomalous pids of the last cycle: never excluded by the bounds */
  private keepPids?: Int32Array;
  private readonly excludedTotals: Record<(typeof EXCLUDE_REASONS)[number], number> = {
    max_processes: 0,
    name: 0,
    cpu: 0,
    rss: 0,
    age: 0,
  };
  private errorsReported = 0;
  private exportedPidsValue?: Map<number, Lane>;
  private readonly keepLastRequest: boolean;
  private lastRequestValue?: ExportMetricsServiceRequest;

  constructor(o: EngineOptions) {
    this.config = o.config;
    const p = o.config.profiles[o.profile];
    if (!p) {
      throw new NrdotError(
        ErrorCodes.UNKNOWN_PROFILE,
        `--profile: unknown profile '${o.profile}' (known: ${Object.keys(o.config.profiles).join(', ')})`,
      );
    }
    this.profileName = o.profile;
    this.profile = p;
    this.params = scoreParams(p.anomaly);
    this.workers = o.workers ?? o.config.scoring.workers;
    this.scanner = o.scanner;
    this.sink = o.sink;
    this.logger = o.logger;
    this.state = o.state;
    this.now = o.now ?? Date.now;
    this.intervalMs = o.intervalMs;
    this.identities = new IdentityTable(
      new Classifier(o.config.classification),
      o.config.classification.demote_pool_workers,
    );
    this.agentStartMs = this.now();
    this.rollup = new RollupMemory(this.agentStartMs);
    this.memory = o.memory;
    this.selfTelemetry = o.selfTelemetry ?? true;
    this.keepLastRequest = o.keepLastRequest ?? false;
    const sc = o.config.scan;
    const bounded =
      sc.max_processes > 0 ||
      sc.exclude_names.length > 0 ||
      sc.min_cpu_percent > 0 ||
      sc.min_rss_mib > 0 ||
      durationMs(sc.min_age) > 0;
    this.bounds = bounded ? boundsFromConfig(sc) : undefined;
  }

  get activeProfile(): string {
    return this.pendingProfile ?? this.profileName;
  }

  /** Profiles this engine can switch to. */
  get profiles(): string[] {
    return Object.keys(this.config.profiles);
  }

  /** The last cycle's self-telemetry values (for /metrics). */
  get lastSelfValues(): SelfValues | undefined {
    return this.lastSelf;
  }

  /** Pids exported at full resolution or sampled by the last cycle on pushed data. */
  get lastExportedPids(): ReadonlyMap<number, Lane> | undefined {
    return this.exportedPidsValue;
  }

  /** The last cycle's exported request, when `keepLastRequest` is on. */
  get lastRequest(): ExportMetricsServiceRequest | undefined {
    return this.lastRequestValue;
  }

  /** The last cycle's report (undefined before the first cycle). */
  get lastReport(): CycleReport | undefined {
    return this.lastReportValue;
  }

  /**
   * Switch the cost profile from the next cycle on (the cycle running now
   * finishes with the old one). Throws NrdotError(UNKNOWN_PROFILE).
   */
  setProfile(name: string): { before: string; after: string } {
    if (!this.config.profiles[name]) {
      throw new NrdotError(
        ErrorCodes.UNKNOWN_PROFILE,
        `unknown profile '${name}' (known: ${Object.keys(this.config.profiles).join(', ')})`,
      );
    }
    const before = this.activeProfile;
    this.pendingProfile = name === this.profileName ? undefined : name;
    return { before, after: name };
  }

  private applyPendingProfile(): void {
    const name = this.pendingProfile;
    if (name === undefined) return;
    this.pendingProfile = undefined;
    const p = this.config.profiles[name]!;
    this.logger.info({ from: this.profileName, to: name }, 'profile switched');
    this.profileName = name;
    this.profile = p;
    this.params = scoreParams(p.anomaly);
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.sink.start(); // downstream first
    if (this.state) {
      this.state.prepare();
      const r = this.state.load(this.agentStartMs);
      this.counters = r.counters;
      this.rollup = r.rollup;
      if (r.restored) this.logger.info({ file: this.state.file, processes: r.counters.prev.size }, 'state restored');
      const sc = this.state.loadScores(this.agentStartMs, durationMs(this.config.scoring.state_ttl));
      this.scores = sc.table;
      if (sc.restored) this.logger.info({ file: this.state.scoreFile, processes: sc.table.size }, 'baselines restored');
    }
    this.scorer = createScorer(this.workers);
    this.started = true;
  }

  /**
   * Run one full cycle and export its data. `pushed`: process data that
   * arrived from elsewhere (the OTLP receiver) instead of a scan.
   */
  async cycle(pushed?: ProcessBatch): Promise<CycleReport> {
    if (!this.started) throw new Error('engine not started');
    if (this.stopped) throw new Error('engine shut down');
    const t0 = performance.now();
    this.applyPendingProfile();
    const cycle = ++this.cycleNo;
    const timer = this.timer;

    // Tier-aware reads: after the first cycle only the processes exported
    // last cycle (and new ones) get status/io/fd read; the rest cost one stat.
    const scanOpts: ScanOptions = {};
    if (this.detailPids) scanOpts.detail = this.detailPids;
    if (this.bounds) {
      scanOpts.bounds = this.bounds;
      if (this.keepPids) scanOpts.keep = this.keepPids;
    }
    const b = pushed ?? (await timer.runAsync('scan', async () => this.scanner.scan(scanOpts)));
    const ex = b.counters.excluded;
    if (ex) for (const r of EXCLUDE_REASONS) this.excludedTotals[r] += ex[r];
    const n = b.count;
    const ids = timer.run('classify', () => this.identities.update(b));
    const tier = new Uint8Array(n);
    for (let i = 0; i < n; i++) tier[i] = ids[i]!.tier;
    // processes that started since the previous scan (before step() moves the clock on)
    const sinceUptime = this.counters.lastUptime;
    const { cpuCores, deltas } = timer.run('rates', () => this.counters.step(b));
    const nowMs = this.now();
    const scored = await timer.runAsync('score', () => this.score(b, cpuCores, sinceUptime, cycle, nowMs));

    // points each row has as read this cycle (computed once, used by the profile and the build)
    let rowPoints = new Uint8Array(0);
    const decision = timer.run('profile', () => {
      const activity = new Float64Array(n);
      const seriesPerRow = new Uint8Array(n);
      rowPoints = new Uint8Array(n);
      // received data has no MemTotal: rank memory against the batch's total instead
      let mem = b.host.memTotalBytes;
      if (!(mem > 0)) {
        mem = 0;
        for (let i = 0; i < n; i++) if (b.rssBytes[i]! > 0) mem += b.rssBytes[i]!;
        if (!(mem > 0)) mem = 1;
      }
      for (let i = 0; i < n; i++) {
        activity[i] = cpuCores[i]! / b.host.cpuCount + b.rssBytes[i]! / mem;
        // what the row costs when exported with every point (a row read
        // without detail still costs its full set once it is exported)
        rowPoints[i] = pointsForRow(b, i);
        seriesPerRow[i] = Math.max(rowPoints[i]!, ids[i]!.baselinePoints);
      }
      return {
        ...decide(
          { count: n, tier, cpuCores, rssBytes: b.rssBytes, activity, seriesPerRow, forced: scored.forced },
          this.profile,
        ),
        seriesPerRow,
      };
    });
    const memory = this.memory;
    const cut = memory
      ? applyMemoryCut(b, decision.keep, tier, scored.forced, memory.policy, decision.seriesPerRow)
      : { rows: 0, points: 0 };
    const memoryCut = cut.rows;
    decision.kept -= memoryCut;
    const sampling = this.profile.sampling;
    // under memory pressure the sampled path (extra data) is off
    const sample =
      sampling && sampling.budget_points > 0 && (memory === undefined || memory.tier === 0)
        ? sampleRolledUp(
            b,
            decision.keep,
            tier,
            decision.seriesPerRow,
            new Set(sampling.tiers.map((t) => TIERS.indexOf(t))),
            sampling.budget_points,
          )
        : undefined;
    const groups = timer.run('rollup', () => rollUp(b, decision.keep, tier, cpuCores, deltas, this.rollup));
    if (this.bounds) {
      const keepPids: number[] = [];
      for (let i = 0; i < n; i++) if (tier[i] === TIER_CRITICAL || scored.forced[i] === 1) keepPids.push(b.pid[i]!);
      this.keepPids = Int32Array.from(keepPids);
    }
    if (this.config.scan.detail === 'exported') {
      const kept: number[] = [];
      for (let i = 0; i < n; i++) if (decision.keep[i] === 1 || sample?.sampled[i] === 1) kept.push(b.pid[i]!);
      this.detailPids = Int32Array.from(kept);
    }

    const timeNs = nanosFromMs(b.scannedAtMs);
    const built = timer.run('build', () => {
      const resources: ResourceMetrics[] = [];
      const lanes: Lane[] = [];
      const exportedPids = pushed ? new Map<number, Lane>() : undefined;
      this.exportedPidsValue = exportedPids;
      let heartbeatSkipped = 0;
      const heartbeat = this.config.paths.standard.heartbeat_cycles;
      let baselineBytes = 0;
      let baselinePoints = 0;
      let criticalPresent = 0;
      let criticalExported = 0;
      let anomaliesExported = 0;
      for (let i = 0; i < n; i++) {
        const id = ids[i]!;
        if ((b.flags[i]! & FLAG_DETAIL) !== 0) {
          const pts = rowPoints[i]!;
          if (id.baselinePoints !== pts) {
            // Measured once per identity, from a full read: values are
            // fixed-width in protobuf, so the size only changes when the
            // set of points does. Rows read stat-only reuse the measure.
            id.baselineBytes = encodeRequest({
              resourceMetrics: [processResource(b, i, id, cpuCores[i]!, timeNs)],
            }).length;
            id.baselinePoints = pts;
          }
        }
        baselinePoints += id.baselinePoints;
        baselineBytes += id.baselineBytes;
        if (tier[i] === TIER_CRITICAL) criticalPresent++;
        const sampled = sample?.sampled[i] === 1;
        if (decision.keep[i] !== 1 && !sampled) continue;
        const reason = scored.out[i]! & OUT_REASON_MASK;
        let lane: Lane;
        if (sampled) {
          lane = 'sampled';
        } else if (tier[i] === TIER_CRITICAL || reason !== 0) {
          lane = 'critical';
          if (tier[i] === TIER_CRITICAL) criticalExported++;
          if (reason !== 0) anomaliesExported++;
        } else {
          lane = 'standard';
          if (!heartbeatDue(id, b, i, cycle, heartbeat)) {
            heartbeatSkipped++;
            continue;
          }
        }
        lanes.push(lane);
        exportedPids?.set(b.pid[i]!, lane);
        resources.push(
          processResource(b, i, id, cpuCores[i]!, timeNs, {
            tier: tier[i]!,
            importance: TIER_IMPORTANCE[tier[i]!]!,
            profile: this.profileName,
            anomaly: reason !== 0 ? REASONS[reason] : undefined,
            sampleRate: sampled ? sample!.rate : undefined,
          }),
        );
      }
      // received rows carry every metric; scanned ones only with scan.detail all
      const rollupDetail = this.config.scan.detail === 'all' || pushed !== undefined;
      for (const g of groups) {
        resources.push(rollupResource(g, b.host, this.profileName, this.rollup.startMs, timeNs, rollupDetail));
        lanes.push('standard');
      }
      return {
        resources,
        lanes,
        heartbeatSkipped,
        baselineBytes,
        baselinePoints,
        criticalPresent,
        criticalExported,
        anomaliesExported,
      };
    });

    const processReq: ExportMetricsServiceRequest = { resourceMetrics: built.resources };
    const pointsOf = built.resources.map((r) => countDataPoints({ resourceMetrics: [r] }));
    let processPoints = 0;
    const pathPoints = { critical: 0, standard: 0, sampled: 0 };
    for (const [k, p] of pointsOf.entries()) {
      processPoints += p;
      pathPoints[built.lanes[k]!] += p;
    }
    const processPb = timer.run('encode', () => encodeRequest(processReq));
    const processBytes = processPb.length;

    this.totals.vanished += b.counters.vanished;
    this.totals.denied += b.counters.denied;
    const intervalSec = this.intervalMs / 1000;
    const price = this.config.cost.price_per_gb;
    const hourly = (bytes: number) => (bytes * (3600 / intervalSec) * price) / 1e9;
    const health = this.sink.health?.() ?? [];
    const coverageAnomaly = scored.present === 0 ? 1 : built.anomaliesExported / scored.present;
    const selfValues: SelfValues = {
      processesSeen: n,
      processesExported: decision.kept,
      processesRolledUp: n - decision.kept,
      datapointsExported: 0,
      datapointsBaseline: built.baselinePoints,
      // data points, as the metric's name says (the report counts processes)
      droppedThreshold: decision.droppedPoints.threshold,
      droppedTopN: decision.droppedPoints.topN,
      droppedMaxSeries: decision.droppedPoints.maxSeries,
      costBytes: 0,
      costBaselineBytes: built.baselineBytes,
      costHourly: 0,
      reductionRatio: 0,
      coverageCritical: built.criticalPresent === 0 ? 1 : built.criticalExported / built.criticalPresent,
      coverageAnomaly,
      anomaliesPromoted: { ...this.promotedTotals },
      anomaliesActive: scored.present,
      scanSeconds: timer.last('scan') / 1000,
      cycleSeconds: 0,
      scanVanished: this.totals.vanished,
      scanDenied: this.totals.denied,
      exportErrors: { ...this.totals.exportErrors },
      droppedMemory: cut.points,
      memoryTier: memory?.tier ?? 0,
      memoryUsage: memory?.usage ?? 0,
      pathPoints,
      samplingRate: sample?.rate ?? 0,
      scanExcluded: { ...this.excludedTotals },
      exporters: health.map((h) => ({
        exporter: h.exporter,
        queueRecords: h.queue.records,
        queueBytes: h.queue.bytes,
        queueOldestAgeSec: h.queue.oldestAgeMs / 1000,
        breaker: h.breaker,
        retries: h.retries,
        dropped: h.dropped,
      })),
    };
    // Measure the self-telemetry's size with placeholder values (all doubles,
    // fixed width), then fill in totals that include it.
    const selfProbe = selfResource(selfValues, b.host.hostname, this.profileName, this.agentStartMs, nowMs);
    const selfBytes = encodeRequest({ resourceMetrics: [selfProbe] }).length;
    const selfPoints = countDataPoints({ resourceMetrics: [selfProbe] });
    const exportedBytes = processBytes + (this.selfTelemetry ? selfBytes : 0);
    const exportedPoints = processPoints + (this.selfTelemetry ? selfPoints : 0);
    selfValues.datapointsExported = exportedPoints;
    selfValues.costBytes = exportedBytes;
    selfValues.costHourly = hourly(exportedBytes);
    selfValues.reductionRatio = built.baselineBytes > 0 ? 1 - exportedBytes / built.baselineBytes : 0;
    selfValues.cycleSeconds = (performance.now() - t0) / 1000;
    if (this.selfTelemetry) pathPoints.critical += selfPoints;
    const self = selfResource(selfValues, b.host.hostname, this.profileName, this.agentStartMs, nowMs);
    const withSelf = this.selfTelemetry;
    const req: ExportMetricsServiceRequest = {
      resourceMetrics: withSelf ? [...built.resources, self] : built.resources,
    };
    // A repeated protobuf field is the concatenation of its elements, so the
    // full request is the process part followed by the self-telemetry part.
    const encoded = withSelf
      ? timer.run('encode_self', () => Buffer.concat([processPb, encodeRequest({ resourceMetrics: [self] })]))
      : processPb;
    const limits = this.config.paths.critical.max_request_bytes;
    const maxRequest = this.config.export_options.otlp.max_request_bytes;
    let split: LaneBatch[] | undefined;
    const batches = () => {
      if (!split) {
        const r = splitByLane(
          withSelf
            ? { protobuf: encoded, lanes: [...built.lanes, 'critical'], points: [...pointsOf, selfPoints] }
            : { protobuf: encoded, lanes: built.lanes, points: pointsOf },
          (lane) => (lane === 'critical' ? Math.min(limits, maxRequest) : maxRequest),
        );
        reportSplit(r, this.logger, maxRequest);
        split = r.batches;
      }
      return split;
    };
    const exports = await timer.runAsync('export', () => this.sink.export(req, encoded, batches));
    for (const e of exports) {
      if (!e.ok) this.totals.exportErrors[e.exporter] = (this.totals.exportErrors[e.exporter] ?? 0) + 1;
      else this.totals.exportErrors[e.exporter] ??= 0;
    }
    if (this.sink.errorCounts) {
      for (const [k, v] of Object.entries(this.sink.errorCounts())) this.totals.exportErrors[k] = v;
    }
    let errorsNow = 0;
    for (const v of Object.values(this.totals.exportErrors)) errorsNow += v;
    const exportErrors = errorsNow - this.errorsReported;
    this.errorsReported = errorsNow;
    const requests = { critical: 0, standard: 0, sampled: 0 };
    for (const bt of split ?? []) requests[bt.lane]++;

    const report: CycleReport = {
      cycle,
      profile: this.profileName,
      backend: this.scanner.backend,
      processes: n,
      exported: decision.kept,
      rolledUp: n - decision.kept,
      rollupGroups: groups.length,
      critical: { present: built.criticalPresent, exported: built.criticalExported },
      datapoints: { exported: exportedPoints, processes: processPoints, baseline: built.baselinePoints },
      bytes: { exported: encoded.length, baseline: built.baselineBytes },
      reduction: {
        bytes: built.baselineBytes > 0 ? 1 - encoded.length / built.baselineBytes : 0,
        datapoints: built.baselinePoints > 0 ? 1 - exportedPoints / built.baselinePoints : 0,
      },
      coverageCritical: selfValues.coverageCritical,
      anomalies: { present: scored.present, exported: built.anomaliesExported, promoted: scored.promoted },
      coverageAnomaly,
      cost: { hourlyUsd: hourly(encoded.length), baselineHourlyUsd: hourly(built.baselineBytes) },
      droppedBy: { ...decision.droppedBy, memory: memoryCut },
      paths: {
        critical: { points: pathPoints.critical, requests: requests.critical },
        standard: { points: pathPoints.standard, requests: requests.standard },
        sampled: { points: pathPoints.sampled, requests: requests.sampled },
        heartbeatSkipped: built.heartbeatSkipped,
        sampleRate: sample?.rate ?? 0,
      },
      exportErrors,
      queued: {
        records: health.reduce((a, h) => a + h.queue.records, 0),
        bytes: health.reduce((a, h) => a + h.queue.bytes, 0),
      },
      memory: { tier: memory?.tier ?? 0, tierName: memory?.tierName ?? 'normal', usage: memory?.usage ?? 0 },
      scan: { ...b.counters, ms: timer.last('scan') },
      cycleMs: performance.now() - t0,
      exports,
    };
    if (report.coverageCritical < 1) {
      this.logger.error({ critical: report.critical }, 'critical coverage below 100%: this is a bug');
    }
    if (report.coverageAnomaly < 1) {
      this.logger.error({ anomalies: report.anomalies }, 'anomaly coverage below 100%: this is a bug');
    }
    if (this.state && cycle % this.config.scoring.checkpoint_cycles === 0) this.checkpoint();
    this.lastReportValue = report;
    if (this.keepLastRequest) this.lastRequestValue = req;
    this.lastSelf = selfValues;
    return report;
  }

  /**
   * Score every row against its own baseline: assign state slots, run the
   * scorer (inline or on workers), free the slots of processes that exited.
   * `forced` marks the rows the profile must keep.
   */
  private async score(b: ProcessBatch, cpuCores: Float64Array, sinceUptime: number, cycle: number, nowMs: number) {
    const n = b.count;
    const slot = this.scores.assign(n, b.pid, b.startTicks, cycle, nowMs);
    const flags = new Uint8Array(n);
    if (sinceUptime >= 0) {
      const tck = b.host.clkTck;
      for (let i = 0; i < n; i++) if (b.startTicks[i]! / tck >= sinceUptime) flags[i] = ROW_BORN;
    }
    const input = { count: n, slot, cpu: cpuCores, rss: b.rssBytes, flags };
    let out: Uint8Array;
    try {
      out = await this.scorer.score(this.scores, input, this.params, cycle, nowMs);
    } catch (e) {
      if (this.scorer.workers === 0) throw e;
      // A broken worker pool must not stop the agent: score inline from now on.
      this.logger.warn(
        { err: (e as Error).message, workers: this.scorer.workers },
        'scoring workers failed: scoring inline',
      );
      const broken = this.scorer;
      this.scorer = new InlineScorer();
      void broken.close().catch(() => undefined);
      out = await this.scorer.score(this.scores, input, this.params, cycle, nowMs);
    }
    this.scores.sweep(cycle);
    const forced = new Uint8Array(n);
    const promoted = { cpu: 0, memory: 0, new: 0 };
    let present = 0;
    for (let i = 0; i < n; i++) {
      const o = out[i]!;
      const reason = o & OUT_REASON_MASK;
      if (reason === 0) continue;
      forced[i] = 1;
      present++;
      if ((o & OUT_PROMOTED_NOW) === 0) continue;
      if (reason === REASON_CPU) promoted.cpu++;
      else if (reason === REASON_MEMORY) promoted.memory++;
      else if (reason === REASON_NEW) promoted.new++;
    }
    this.promotedTotals.cpu += promoted.cpu;
    this.promotedTotals.memory += promoted.memory;
    this.promotedTotals.new += promoted.new;
    return { out, forced, present, promoted };
  }

  /** Save state now (also done every scoring.checkpoint_cycles cycles and at shutdown). */
  checkpoint(): void {
    this.state?.save(this.counters, this.rollup, this.now(), this.scores);
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.started) this.checkpoint();
    await this.scorer.close(); // upstream first
    await this.sink.shutdown();
  }
}
