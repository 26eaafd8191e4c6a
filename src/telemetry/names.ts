/**
 * Every metric and attribute name nrdot emits, in one place.
 * Process metrics follow the OpenTelemetry semantic conventions and the
 * collector's hostmetrics process scraper so data from both look the same.
 */

export const ProcessMetric = {
  cpuTime: 'process.cpu.time',
  cpuUtilization: 'process.cpu.utilization',
  memoryUsage: 'process.memory.usage',
  memoryVirtual: 'process.memory.virtual',
  memoryUtilization: 'process.memory.utilization',
  diskIo: 'process.disk.io',
  threads: 'process.threads',
  openFds: 'process.open_file_descriptors',
  pagingFaults: 'process.paging.faults',
  contextSwitches: 'process.context_switches',
  uptime: 'process.uptime',
} as const;

export const ResourceAttr = {
  pid: 'process.pid',
  parentPid: 'process.parent_pid',
  executableName: 'process.executable.name',
  executablePath: 'process.executable.path',
  commandLine: 'process.command_line',
  owner: 'process.owner',
  hostName: 'host.name',
  serviceName: 'service.name',
  tier: 'nrdot.tier',
  importance: 'nrdot.importance',
  profile: 'nrdot.profile',
  rollup: 'nrdot.rollup',
  /** reason a process was promoted by anomaly scoring: cpu, memory or new */
  anomaly: 'nrdot.anomaly',
  /**
   * Sampled path: the probability the process was sampled with. Sampled
   * processes are also inside `_other_`, so host totals stay exact; scale a
   * sampled series by 1/rate to estimate the rolled-up population.
   */
  sampleRate: 'nrdot.sample.rate',
} as const;

/** Name used for roll-up aggregates in `process.executable.name`. */
export const ROLLUP_NAME = '_other_';

export const SelfMetric = {
  datapointsReceived: 'nrdot.datapoints.received',
  datapointsExported: 'nrdot.datapoints.exported',
  datapointsDropped: 'nrdot.datapoints.dropped',
  datapointsBaseline: 'nrdot.datapoints.baseline',
  seriesActive: 'nrdot.series.active',
  seriesBaseline: 'nrdot.series.baseline',
  costBytes: 'nrdot.cost.bytes',
  costBaselineBytes: 'nrdot.cost.baseline_bytes',
  costHourly: 'nrdot.cost.hourly',
  reductionRatio: 'nrdot.reduction.ratio',
  coverageCritical: 'nrdot.coverage.critical',
  coverageAnomaly: 'nrdot.coverage.anomaly',
  /** share of the processes' CPU time / resident memory exported by name (not `_other_`), attribute `resource` = cpu | memory */
  coverageVisibility: 'nrdot.coverage.visibility',
  /** cumulative promotions since agent start, attribute `reason` */
  anomaliesPromoted: 'nrdot.anomalies.promoted',
  /** processes held as anomalies this cycle */
  anomaliesActive: 'nrdot.anomalies.active',
  processesSeen: 'nrdot.processes.seen',
  processesExported: 'nrdot.processes.exported',
  processesRolledUp: 'nrdot.processes.rolled_up',
  scanDuration: 'nrdot.scan.duration',
  cycleDuration: 'nrdot.cycle.duration',
  scanVanished: 'nrdot.scan.vanished',
  scanDenied: 'nrdot.scan.denied',
  /** cumulative processes left out by bounded discovery, attribute `reason` */
  scanExcluded: 'nrdot.scan.excluded',
  exportErrors: 'nrdot.export.errors',
  profileActive: 'nrdot.profile.active',
  rollupCount: 'nrdot.rollup.count',
  /** records and bytes waiting in the export queue, attribute `exporter` */
  queueSize: 'nrdot.queue.size',
  queueBytes: 'nrdot.queue.bytes',
  /** age of the oldest queued record */
  queueOldestAge: 'nrdot.queue.oldest_age',
  /** 0 closed, 1 half-open, 2 open; attribute `exporter` */
  breakerState: 'nrdot.breaker.state',
  /** cumulative retries, attribute `exporter` */
  exportRetries: 'nrdot.export.retries',
  /** cumulative data points lost after the profile decision, attributes `exporter`, `reason` */
  exportDropped: 'nrdot.export.dropped',
  /** memory governor tier 0-5 (normal .. refuse_input) */
  memoryTier: 'nrdot.memory.tier',
  memoryUsage: 'nrdot.memory.usage',
  /** per-path data points sent this cycle, attribute `path` */
  pathDatapoints: 'nrdot.path.datapoints',
  /** sampled path rate this cycle */
  samplingRate: 'nrdot.sampling.rate',
  /** discovered services, by `state` (running, installed): on /metrics */
  discoveryServices: 'nrdot.discovery.services',
  /** cumulative services that appeared, disappeared or changed, attribute `change`: on /metrics */
  discoveryChanges: 'nrdot.discovery.changes',
  /** cumulative discovery runs, attribute `result` (ok, failed): on /metrics */
  discoveryRuns: 'nrdot.discovery.runs',
  /** how long the last discovery took: on /metrics */
  discoveryDuration: 'nrdot.discovery.duration',
  /** processes classified at least important because a discovered service runs them: on /metrics */
  discoveryPids: 'nrdot.discovery.pids',
  /** 1 on each discovered service's OTLP resource (service.name, server.port...) */
  discoveryServiceUp: 'nrdot.discovery.service.up',
  /** the service's discovery confidence, 0-1, on its OTLP resource */
  discoveryConfidence: 'nrdot.discovery.confidence',
} as const;

export const TIERS = ['critical', 'important', 'standard', 'noise'] as const;
export type Tier = (typeof TIERS)[number];
export const TIER_CRITICAL = 0;
export const TIER_IMPORTANT = 1;
export const TIER_STANDARD = 2;
export const TIER_NOISE = 3;
