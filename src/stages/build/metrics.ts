/**
 * The per-process metrics nrdot can export, in the OpenTelemetry Collector's
 * `hostmetrics` process scraper's names, units and shapes, and which of them
 * are on: configured like the Collector's (`metrics: process.<name>:
 * {enabled}`), defaulting to the scraper's defaults, with an optional richer
 * set per tier (`metrics_per_tier`). A metric that is off is not written, and
 * the files only it needs are not read.
 */
import type { Config } from '../../config/schema.js';
import { TIERS } from '../../telemetry/names.js';

/** What a metric needs read beyond `stat` (for the scanner's per-file mask). */
export type MetricSource = 'stat' | 'status' | 'io' | 'fds' | 'meminfo' | 'rates';

export interface MetricDef {
  name: string;
  /** on in the hostmetrics process scraper by default */
  hostmetricsDefault: boolean;
  /** data points per process when every value is known */
  points: number;
  source: MetricSource;
}

/** In the order they are written in a resource. */
export const PROCESS_METRICS = [
  { name: 'process.cpu.time', hostmetricsDefault: true, points: 3, source: 'stat' },
  { name: 'process.cpu.utilization', hostmetricsDefault: false, points: 3, source: 'rates' },
  { name: 'process.memory.usage', hostmetricsDefault: true, points: 1, source: 'stat' },
  { name: 'process.memory.virtual', hostmetricsDefault: true, points: 1, source: 'stat' },
  { name: 'process.memory.utilization', hostmetricsDefault: false, points: 1, source: 'meminfo' },
  { name: 'process.disk.io', hostmetricsDefault: true, points: 2, source: 'io' },
  { name: 'process.threads', hostmetricsDefault: false, points: 1, source: 'stat' },
  { name: 'process.open_file_descriptors', hostmetricsDefault: false, points: 1, source: 'fds' },
  { name: 'process.paging.faults', hostmetricsDefault: false, points: 2, source: 'stat' },
  { name: 'process.context_switches', hostmetricsDefault: false, points: 2, source: 'status' },
  { name: 'process.uptime', hostmetricsDefault: false, points: 1, source: 'stat' },
] as const satisfies readonly MetricDef[];

export type ProcessMetricName = (typeof PROCESS_METRICS)[number]['name'];

/** Bit of each metric in a mask. */
export const M = Object.fromEntries(PROCESS_METRICS.map((m, i) => [m.name, 1 << i])) as Record<
  ProcessMetricName,
  number
>;

/** Metrics of the Collector's process scraper that nrdot does not collect (refused with a reason). */
export const NOT_COLLECTED: Record<string, string> = {
  'process.disk.operations': 'nrdot does not read syscr/syscw yet',
  'process.signals_pending': 'nrdot does not read pending signals yet',
  'process.handles': 'Windows only',
};

/** The hostmetrics scraper's default set: what users export today. */
export const HOSTMETRICS_DEFAULT = PROCESS_METRICS.reduce((m, d, i) => (d.hostmetricsDefault ? m | (1 << i) : m), 0);

/** Data points of a full set `mask` (every value known). */
export function maskPoints(mask: number): number {
  let n = 0;
  for (let i = 0; i < PROCESS_METRICS.length; i++) if (mask & (1 << i)) n += PROCESS_METRICS[i]!.points;
  return n;
}

/** The enabled metrics: the base set, and per tier the base set plus that tier's extras. */
export interface MetricSet {
  base: number;
  /** per tier index */
  tier: readonly number[];
  /** every metric some tier exports */
  any: number;
}

export function metricSet(cfg: Pick<Config, 'metrics' | 'metrics_per_tier'>): MetricSet {
  let base = 0;
  for (const [i, d] of PROCESS_METRICS.entries()) {
    const set = cfg.metrics[d.name as ProcessMetricName];
    if (set ? set.enabled : d.hostmetricsDefault) base |= 1 << i;
  }
  const tier = TIERS.map((t) => {
    let m = base;
    const extra = cfg.metrics_per_tier[t];
    if (extra) {
      for (const [name, v] of Object.entries(extra)) {
        const bit = M[name as ProcessMetricName];
        if (bit !== undefined && v) m = v.enabled ? m | bit : m & ~bit;
      }
    }
    return m;
  });
  return { base, tier, any: tier.reduce((a, m) => a | m, base) };
}

/** The metrics of a row of tier `t` under a profile (`tier_metrics: false`: the base set only). */
export function tierMask(set: MetricSet, t: number, profile: { tier_metrics?: boolean }): number {
  return profile.tier_metrics === false ? set.base : set.tier[t]!;
}

/** The Collector's descriptions, so nrdot's series look the same downstream. */
export const DESCRIPTIONS = {
  cpuTime: 'Total CPU seconds broken down by different states.',
  cpuUtilization:
    'Percentage of total CPU time used by the process since last scrape, expressed as a value between 0 and 1. On the first scrape, no data point is emitted for this metric.',
  memoryUsage: 'The amount of physical memory in use.',
  memoryVirtual: 'Virtual memory size.',
  memoryUtilization: 'Percentage of total physical memory that is used by the process.',
  diskIo: 'Disk bytes transferred.',
  threads: 'Process threads count.',
  openFds: 'Number of file descriptors in use by the process.',
  pagingFaults: 'Number of page faults the process has made.',
  contextSwitches: 'Number of times the process has been context switched.',
  uptime: 'The time the process has been running.',
} as const;
