/**
 * A small metrics registry for /metrics: counters, gauges and histograms,
 * each with any number of label sets, plus collectors that produce whole
 * families on demand (the agent's per-process metrics in pull mode).
 *
 * Histograms keep exact counts per fixed bucket bound (what Prometheus
 * reads) and an HdrHistogram (hdr-histogram-js, pure JS) for p50/p90/p99.
 * The HdrHistogram keeps integers, so values are recorded multiplied by
 * `scale` (default 1e6: microseconds for a histogram in seconds).
 */
import { buildHistogram, type Histogram as Hdr } from '../util/hdr.js';
import {
  familiesToJson,
  type HistogramFamily,
  type HistogramSample,
  type JsonFamily,
  type Labels,
  type MetricFamily,
  type MetricType,
  promName,
  renderFamilies,
  type ScalarFamily,
  type ScalarSample,
} from './exposition.js';

/** Upper bounds in seconds for latencies and durations: 0.5 ms … 60 s. */
export const DEFAULT_SECONDS_BOUNDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export interface MetricOptions {
  /** `s`/`seconds`, `By`/`bytes`: becomes the Prometheus name suffix */
  unit?: string;
  /**
   * The label names every sample carries. Given, a sample with other labels
   * is refused, and nothing is shown before the first sample. Without it, an
   * untouched metric shows one unlabelled 0.
   */
  labelNames?: readonly string[];
}

export interface HistogramOptions extends MetricOptions {
  /** bucket upper bounds, increasing (default DEFAULT_SECONDS_BOUNDS) */
  bounds?: readonly number[];
  /** values are recorded into the HdrHistogram as round(value * scale) (default 1e6) */
  scale?: number;
  /** HdrHistogram precision, 1-5 significant digits (default 2: quantiles within 1%) */
  significantDigits?: 1 | 2 | 3 | 4 | 5;
}

/** Stable key of a label set, independent of key order. */
function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  keys.sort();
  return JSON.stringify(keys.map((k) => [k, labels[k]]));
}

function copyLabels(labels: Labels | undefined): Labels | undefined {
  return labels && Object.keys(labels).length > 0 ? { ...labels } : undefined;
}

function checkLabels(metric: string, names: readonly string[], labels: Labels | undefined): void {
  const keys = labels ? Object.keys(labels) : [];
  if (keys.length !== names.length || !keys.every((k) => names.includes(k))) {
    throw new Error(`metric ${metric} takes labels [${names.join(', ')}], got [${keys.join(', ')}]`);
  }
}

interface Metric {
  readonly name: string;
  readonly type: MetricType;
  readonly unit: string | undefined;
  family(): MetricFamily;
}

class ScalarMetric implements Metric {
  protected readonly series = new Map<string, { labels: Labels | undefined; value: number }>();

  readonly unit: string | undefined;
  private readonly labelNames: readonly string[] | undefined;

  constructor(
    readonly name: string,
    readonly type: 'counter' | 'gauge',
    readonly help: string,
    opts: MetricOptions,
  ) {
    this.unit = opts.unit;
    this.labelNames = opts.labelNames;
  }

  protected entry(labels: Labels | undefined): { labels: Labels | undefined; value: number } {
    if (this.labelNames) checkLabels(this.name, this.labelNames, labels);
    const key = labelKey(labels);
    let e = this.series.get(key);
    if (!e) {
      e = { labels: copyLabels(labels), value: 0 };
      this.series.set(key, e);
    }
    return e;
  }

  /** current value of one label set (0 when never touched) */
  get(labels?: Labels): number {
    return this.series.get(labelKey(labels))?.value ?? 0;
  }

  family(): ScalarFamily {
    // An unlabelled metric nobody touched yet still shows 0, as client libraries do.
    const samples: ScalarSample[] =
      this.series.size === 0 && !this.labelNames
        ? [{ value: 0 }]
        : [...this.series.values()].map((e) => (e.labels ? { labels: e.labels, value: e.value } : { value: e.value }));
    return { name: this.name, type: this.type, help: this.help, ...(this.unit ? { unit: this.unit } : {}), samples };
  }
}

export class Counter extends ScalarMetric {
  constructor(name: string, help: string, opts: MetricOptions = {}) {
    super(name, 'counter', help, opts);
  }

  inc(by = 1, labels?: Labels): void {
    if (!(by >= 0)) throw new RangeError(`counter ${this.name} can only grow (got ${by})`);
    this.entry(labels).value += by;
  }

  /**
   * Mirror a total counted elsewhere (the engine's cumulative counters). A
   * smaller total than before is taken as a restart of that count.
   */
  setTotal(total: number, labels?: Labels): void {
    this.entry(labels).value = total;
  }
}

export class Gauge extends ScalarMetric {
  constructor(name: string, help: string, opts: MetricOptions = {}) {
    super(name, 'gauge', help, opts);
  }

  set(value: number, labels?: Labels): void {
    this.entry(labels).value = value;
  }

  inc(by = 1, labels?: Labels): void {
    this.entry(labels).value += by;
  }

  /** drop one label set (e.g. a profile that is no longer active) */
  remove(labels?: Labels): void {
    this.series.delete(labelKey(labels));
  }

  /** drop every label set */
  clear(): void {
    this.series.clear();
  }
}

interface HistogramSeries {
  labels: Labels | undefined;
  hdr: Hdr;
  /** non-cumulative count per bound; observations above the last bound are count - sum */
  perBucket: Float64Array;
  count: number;
  sum: number;
  max: number;
}

export class Histogram implements Metric {
  readonly type = 'histogram' as const;
  readonly bounds: readonly number[];
  readonly unit: string | undefined;
  private readonly labelNames: readonly string[] | undefined;
  private readonly scale: number;
  private readonly digits: 1 | 2 | 3 | 4 | 5;
  private readonly series = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    opts: HistogramOptions = {},
  ) {
    this.unit = opts.unit;
    this.bounds = [...(opts.bounds ?? DEFAULT_SECONDS_BOUNDS)];
    for (let i = 1; i < this.bounds.length; i++) {
      if (!(this.bounds[i]! > this.bounds[i - 1]!)) throw new RangeError(`histogram ${name}: bounds must increase`);
    }
    this.labelNames = opts.labelNames;
    this.scale = opts.scale ?? 1e6;
    this.digits = opts.significantDigits ?? 2;
  }

  record(value: number, labels?: Labels): void {
    if (!Number.isFinite(value)) return;
    if (this.labelNames) checkLabels(this.name, this.labelNames, labels);
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      s = {
        labels: copyLabels(labels),
        hdr: buildHistogram({ digits: this.digits }),
        perBucket: new Float64Array(this.bounds.length),
        count: 0,
        sum: 0,
        max: Number.NEGATIVE_INFINITY,
      };
      this.series.set(key, s);
    }
    const i = this.bounds.findIndex((b) => value <= b);
    if (i >= 0) s.perBucket[i]! += 1;
    s.count += 1;
    s.sum += value;
    if (value > s.max) s.max = value;
    s.hdr.recordValue(Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.round(value * this.scale))));
  }

  /** buckets, count, sum and quantiles of one label set, or undefined before its first observation */
  snapshot(labels?: Labels): HistogramSample | undefined {
    const s = this.series.get(labelKey(labels));
    return s ? this.sample(s) : undefined;
  }

  private sample(s: HistogramSeries): HistogramSample {
    const buckets: number[] = [];
    let cum = 0;
    for (const c of s.perBucket) {
      cum += c;
      buckets.push(cum);
    }
    // HdrHistogram answers with the top of a value's bucket; never above the true max.
    const q = (p: number) => Math.min(s.max, s.hdr.getValueAtPercentile(p) / this.scale);
    return {
      ...(s.labels ? { labels: s.labels } : {}),
      buckets,
      count: s.count,
      sum: s.sum,
      p50: q(50),
      p90: q(90),
      p99: q(99),
      max: s.max,
    };
  }

  family(): HistogramFamily {
    return {
      name: this.name,
      type: 'histogram',
      help: this.help,
      ...(this.unit ? { unit: this.unit } : {}),
      bounds: [...this.bounds],
      samples: [...this.series.values()].map((s) => this.sample(s)),
    };
  }
}

export type Collector = () => MetricFamily[];

export class Registry {
  private readonly metrics = new Map<string, Metric>();
  private readonly collectors = new Set<Collector>();
  private readonly refreshers = new Set<() => void>();

  /** Same name and type again returns the metric already registered. */
  counter(name: string, help: string, opts: MetricOptions = {}): Counter {
    return this.register(name, 'counter', () => new Counter(name, help, opts)) as Counter;
  }

  gauge(name: string, help: string, opts: MetricOptions = {}): Gauge {
    return this.register(name, 'gauge', () => new Gauge(name, help, opts)) as Gauge;
  }

  histogram(name: string, help: string, opts: HistogramOptions = {}): Histogram {
    return this.register(name, 'histogram', () => new Histogram(name, help, opts)) as Histogram;
  }

  /** Families produced at every scrape (after the registered metrics); returns a function that removes it. */
  collect(fn: Collector): () => void {
    this.collectors.add(fn);
    return () => {
      this.collectors.delete(fn);
    };
  }

  /** Run `fn` at every scrape before anything is read (to refresh live values); returns a remover. */
  onScrape(fn: () => void): () => void {
    this.refreshers.add(fn);
    return () => {
      this.refreshers.delete(fn);
    };
  }

  private register(name: string, type: MetricType, make: () => Metric): Metric {
    const existing = this.metrics.get(name);
    if (existing) {
      if (existing.type !== type) throw new Error(`metric ${name} is already registered as a ${existing.type}`);
      return existing;
    }
    const m = make();
    const prom = promName(m);
    for (const other of this.metrics.values()) {
      if (promName(other) === prom) throw new Error(`metrics ${other.name} and ${name} both map to ${prom}`);
    }
    this.metrics.set(name, m);
    return m;
  }

  /** Every family: registered metrics in registration order, then each collector's. */
  families(): MetricFamily[] {
    for (const r of this.refreshers) r();
    const out: MetricFamily[] = [...this.metrics.values()].map((m) => m.family());
    for (const c of this.collectors) out.push(...c());
    return out;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    return renderFamilies(this.families());
  }

  toJSON(): { metrics: JsonFamily[] } {
    return familiesToJson(this.families());
  }
}
