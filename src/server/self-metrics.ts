/**
 * The per-cycle self-telemetry (`SelfValues`) on /metrics, under the same
 * names as the OTLP self-telemetry (src/telemetry/self.ts), sanitised for
 * Prometheus (`nrdot.cost.bytes` → `nrdot_cost_bytes`). Scan and cycle
 * durations become histograms here, so /metrics shows their distribution
 * over the agent's life.
 */
import { splitReporter } from '../otlp/split.js';
import { SelfMetric } from '../telemetry/names.js';
import { EXCLUDE_REASONS, EXPORT_DROP_REASONS, type SelfValues } from '../telemetry/self.js';
import type { MetricFamily } from './exposition.js';
import type { Counter, Gauge, Histogram, Registry } from './registry.js';

type ScalarKey = {
  [K in keyof SelfValues]: SelfValues[K] extends number ? K : never;
}[keyof SelfValues];

/** Unlabelled gauges: value key, name, help, unit. */
const GAUGES: [ScalarKey, string, string, string?][] = [
  ['processesSeen', SelfMetric.processesSeen, 'Processes seen in the last cycle.'],
  ['processesExported', SelfMetric.processesExported, 'Processes exported at full resolution in the last cycle.'],
  ['processesRolledUp', SelfMetric.processesRolledUp, 'Processes rolled up into aggregates in the last cycle.'],
  ['datapointsExported', SelfMetric.datapointsExported, 'Data points exported in the last cycle.'],
  ['datapointsExported', SelfMetric.seriesActive, 'Series exported in the last cycle.'],
  ['costBytes', SelfMetric.costBytes, 'Encoded OTLP bytes exported in the last cycle.', 'By'],
  ['costHourly', SelfMetric.costHourly, 'Estimated export cost per hour in USD at the current rate.'],
  ['coverageCritical', SelfMetric.coverageCritical, 'Critical processes exported / present, 0 to 1.'],
  ['coverageAnomaly', SelfMetric.coverageAnomaly, 'Anomalous processes exported / present, 0 to 1.'],
  ['anomaliesActive', SelfMetric.anomaliesActive, 'Processes held as anomalies in the last cycle.'],
  ['memoryTier', SelfMetric.memoryTier, 'Memory governor tier, 0 (normal) to 5 (refusing input).'],
  ['memoryUsage', SelfMetric.memoryUsage, 'Agent memory as a fraction of memory.limit_mib (0 without a limit).'],
  ['samplingRate', SelfMetric.samplingRate, 'Sampling rate of the sampled path in the last cycle.'],
];

export class SelfMetrics {
  private readonly gauges: [ScalarKey, Gauge][];
  private readonly dropped: Gauge;
  /** per baseline (hostmetrics, same_set) */
  private readonly baselinePoints: Gauge;
  private readonly baselineBytes: Gauge;
  private readonly reduction: Gauge;
  private readonly profileActive: Gauge;
  private readonly pathPoints: Gauge;
  private readonly visibility: Gauge;
  private readonly promoted: Counter;
  private readonly vanished: Counter;
  private readonly denied: Counter;
  private readonly excluded: Counter;
  private readonly exportErrors: Counter;
  private readonly queueSize: Gauge;
  private readonly queueBytes: Gauge;
  private readonly queueOldestAge: Gauge;
  private readonly breaker: Gauge;
  private readonly retries: Counter;
  private readonly exportDropped: Counter;
  readonly scanDuration: Histogram;
  readonly cycleDuration: Histogram;

  constructor(registry: Registry) {
    this.gauges = GAUGES.map(([key, name, help, unit]) => [key, registry.gauge(name, help, unit ? { unit } : {})]);
    const labelled = (name: string, help: string, labelNames: string[], unit?: string) =>
      registry.gauge(name, help, { labelNames, ...(unit ? { unit } : {}) });
    const counter = (name: string, help: string, labelNames?: string[]) =>
      registry.counter(name, help, labelNames ? { labelNames } : {});
    this.dropped = labelled(SelfMetric.datapointsDropped, 'Data points left out in the last cycle, by reason.', [
      'reason',
    ]);
    const bl = ['baseline'];
    this.baselinePoints = labelled(
      SelfMetric.datapointsBaseline,
      'Data points exporting every process would cost: with the hostmetrics default metrics, or with the same metrics as nrdot.',
      bl,
    );
    this.baselineBytes = labelled(
      SelfMetric.costBaselineBytes,
      'Encoded OTLP bytes exporting every process would cost, per baseline.',
      bl,
      'By',
    );
    this.reduction = labelled(SelfMetric.reductionRatio, 'Data points saved against each baseline, 0 to 1.', bl);
    this.profileActive = labelled(SelfMetric.profileActive, 'The active cost profile (1 for the active one).', [
      'profile',
    ]);
    this.visibility = labelled(
      SelfMetric.coverageVisibility,
      "Share of the processes' CPU time (resource=cpu) and resident memory (resource=memory) exported by name, not in _other_, 0 to 1.",
      ['resource'],
    );
    this.pathPoints = labelled(SelfMetric.pathDatapoints, 'Data points sent per path in the last cycle.', ['path']);
    this.promoted = counter(SelfMetric.anomaliesPromoted, 'Anomaly promotions since the agent started.', ['reason']);
    this.vanished = counter(SelfMetric.scanVanished, 'Processes that vanished while being read.');
    this.denied = counter(SelfMetric.scanDenied, 'Process files the agent was not allowed to read.');
    this.excluded = counter(SelfMetric.scanExcluded, 'Processes left out by bounded discovery (scan:), by reason.');
    this.exportErrors = counter(SelfMetric.exportErrors, 'Failed exports since the agent started.', ['exporter']);
    const ex = ['exporter'];
    this.queueSize = labelled(SelfMetric.queueSize, 'Records waiting in the export queue.', ex);
    this.queueBytes = labelled(SelfMetric.queueBytes, 'Bytes waiting in the export queue.', ex, 'By');
    this.queueOldestAge = labelled(SelfMetric.queueOldestAge, 'Age of the oldest queued record.', ex, 's');
    this.breaker = labelled(SelfMetric.breakerState, 'Circuit breaker: 0 closed, 1 half-open, 2 open.', ex);
    this.retries = counter(SelfMetric.exportRetries, 'Export retries since the agent started.', ex);
    this.exportDropped = counter(SelfMetric.exportDropped, 'Data points lost after the profile decision.', [
      'exporter',
      'reason',
    ]);
    this.scanDuration = registry.histogram(SelfMetric.scanDuration, 'Time to scan the process table.', { unit: 's' });
    this.cycleDuration = registry.histogram(SelfMetric.cycleDuration, 'Time of one full cycle.', { unit: 's' });
  }

  /**
   * Live figures that change between cycles (queues drain, breakers move,
   * memory changes): called at every scrape.
   */
  live(
    exporters: readonly {
      exporter: string;
      queue: { records: number; bytes: number; oldestAgeMs: number };
      breaker: number;
      retries: number;
      dropped: Record<string, number>;
    }[],
    memory: { tier: number; usage: number } | undefined,
  ): void {
    for (const e of exporters) {
      const l = { exporter: e.exporter };
      this.queueSize.set(e.queue.records, l);
      this.queueBytes.set(e.queue.bytes, l);
      this.queueOldestAge.set(e.queue.oldestAgeMs / 1000, l);
      this.breaker.set(e.breaker, l);
      this.retries.setTotal(e.retries, l);
      for (const r of EXPORT_DROP_REASONS) this.exportDropped.setTotal(e.dropped[r] ?? 0, { ...l, reason: r });
    }
    if (memory) {
      for (const [key, gauge] of this.gauges) {
        if (key === 'memoryTier') gauge.set(memory.tier);
        else if (key === 'memoryUsage') gauge.set(memory.usage);
      }
    }
  }

  /** Call once per cycle with that cycle's values and the profile it ran. */
  update(v: SelfValues, profile: string): void {
    for (const [key, gauge] of this.gauges) gauge.set(v[key]);
    this.dropped.set(v.droppedThreshold, { reason: 'threshold' });
    this.dropped.set(v.droppedTopN, { reason: 'top_n' });
    this.dropped.set(v.droppedMaxSeries, { reason: 'max_series' });
    this.dropped.set(v.droppedMemory, { reason: 'memory' });
    this.baselinePoints.set(v.datapointsBaseline, { baseline: 'hostmetrics' });
    this.baselinePoints.set(v.datapointsBaselineSameSet, { baseline: 'same_set' });
    this.baselineBytes.set(v.costBaselineBytes, { baseline: 'hostmetrics' });
    this.baselineBytes.set(v.costBaselineBytesSameSet, { baseline: 'same_set' });
    this.reduction.set(v.reductionRatio, { baseline: 'hostmetrics' });
    this.reduction.set(v.reductionRatioSameSet, { baseline: 'same_set' });
    this.profileActive.clear();
    this.profileActive.set(1, { profile });
    this.visibility.set(v.visibility.cpu, { resource: 'cpu' });
    this.visibility.set(v.visibility.memory, { resource: 'memory' });
    for (const p of ['critical', 'standard', 'sampled'] as const) this.pathPoints.set(v.pathPoints[p], { path: p });
    for (const r of ['cpu', 'memory', 'new'] as const) this.promoted.setTotal(v.anomaliesPromoted[r], { reason: r });
    this.vanished.setTotal(v.scanVanished);
    this.denied.setTotal(v.scanDenied);
    for (const r of EXCLUDE_REASONS) this.excluded.setTotal(v.scanExcluded[r], { reason: r });
    for (const [exporter, n] of Object.entries(v.exportErrors)) this.exportErrors.setTotal(n, { exporter });
    for (const e of v.exporters) {
      const l = { exporter: e.exporter };
      this.queueSize.set(e.queueRecords, l);
      this.queueBytes.set(e.queueBytes, l);
      this.queueOldestAge.set(e.queueOldestAgeSec, l);
      this.breaker.set(e.breaker, l);
      this.retries.setTotal(e.retries, l);
      for (const r of EXPORT_DROP_REASONS) this.exportDropped.setTotal(e.dropped[r] ?? 0, { ...l, reason: r });
    }
    this.scanDuration.record(v.scanSeconds);
    this.cycleDuration.record(v.cycleSeconds);
  }
}

/** /metrics families for what request splitting did with resources over max_request_bytes (src/otlp/split.ts). */
export function oversizeFamilies(): MetricFamily[] {
  const t = splitReporter.totals;
  return [
    {
      name: 'nrdot.export.oversize.resources',
      help: 'Resources larger than max_request_bytes: split into smaller ones, or refused (their own attributes too big).',
      type: 'counter',
      samples: [
        { labels: { outcome: 'split' }, value: t.split },
        { labels: { outcome: 'refused' }, value: t.refusedResources },
      ],
    },
    {
      name: 'nrdot.export.oversize.refused.datapoints',
      help: 'Data points not sent because, alone, they were larger than max_request_bytes.',
      type: 'counter',
      samples: [{ value: t.refusedPoints }],
    },
  ];
}
