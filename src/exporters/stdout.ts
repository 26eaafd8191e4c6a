/**
 * stdout exporter: a human-readable summary of each request, one line per
 * resource, preceded by one header line per request:
 *
 *   # 2024-11-22T18:26:40.123Z 3 resources, 57 data points
 *   pid 1234 postgres [critical] cpu 12.5% rss 512.0 MiB
 *   _other_ [noise] ×42 cpu 3.1% rss 120.0 MiB
 *   resource nrdot: 21 metrics, 25 data points
 *
 * cpu is the sum of `process.cpu.utilization` points × 100, rss the sum of
 * `process.memory.usage` points; either is left out when absent. A resource
 * is a roll-up when its executable name is `_other_` or it carries
 * `nrdot.rollup`; ×N comes from an integer `nrdot.rollup` attribute or the
 * `nrdot.rollup.count` metric. Resources without a pid (self-telemetry)
 * get the generic `resource` line.
 */

import type { Writable } from 'node:stream';
import { type Logger, silentLogger } from '../core/log.js';
import type { AnyValue, ExportMetricsServiceRequest, Metric, ResourceMetrics } from '../otlp/model.js';
import { ProcessMetric, ResourceAttr, ROLLUP_NAME, SelfMetric, TIERS } from '../telemetry/names.js';
import {
  describeError,
  type Exporter,
  type ExportPayload,
  type ExportResult,
  encodingsFor,
  Lifecycle,
} from './exporter.js';

export interface StdoutExporterOptions {
  /** where the summary goes, default process.stdout */
  stream?: Writable;
  logger?: Logger;
}

function attrMap(rm: ResourceMetrics): Map<string, AnyValue> {
  const m = new Map<string, AnyValue>();
  for (const kv of rm.resource.attributes) m.set(kv.key, kv.value);
  return m;
}

function scalar(v: AnyValue | undefined): string | number | boolean | undefined {
  if (!v) return undefined;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  return v.boolValue;
}

/** Sum of all data point values of the named metric, or undefined when it is absent. */
function metricSum(metrics: Map<string, Metric>, name: string): number | undefined {
  const m = metrics.get(name);
  const points = m?.gauge?.dataPoints ?? m?.sum?.dataPoints;
  if (!points || points.length === 0) return undefined;
  let total = 0;
  for (const p of points) total += p.asDouble ?? Number(p.asInt ?? 0);
  return total;
}

export function formatBytes(n: number): string {
  const mib = n / (1024 * 1024);
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${mib.toFixed(1)} MiB`;
}

function tierLabel(v: AnyValue | undefined): string | undefined {
  const s = scalar(v);
  if (s === undefined) return undefined;
  if (typeof s === 'number') return TIERS[s] ?? String(s);
  return String(s);
}

/** The summary line of one resource. */
export function formatResource(rm: ResourceMetrics): string {
  const attrs = attrMap(rm);
  const metrics = new Map<string, Metric>();
  let points = 0;
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      if (!metrics.has(m.name)) metrics.set(m.name, m);
      points += (m.gauge?.dataPoints.length ?? 0) + (m.sum?.dataPoints.length ?? 0);
    }
  }

  const name = scalar(attrs.get(ResourceAttr.executableName));
  const rollup = attrs.get(ResourceAttr.rollup);
  const pid = scalar(attrs.get(ResourceAttr.pid));
  const isRollup = name === ROLLUP_NAME || rollup !== undefined;

  if (!isRollup && pid === undefined) {
    const label = scalar(attrs.get(ResourceAttr.serviceName)) ?? scalar(attrs.get(ResourceAttr.hostName)) ?? '?';
    return `resource ${label}: ${metrics.size} metrics, ${points} data points`;
  }

  const parts: string[] = [];
  if (isRollup) {
    parts.push(ROLLUP_NAME);
  } else {
    parts.push(`pid ${pid}`, String(name ?? '?'));
  }
  const tier = tierLabel(attrs.get(ResourceAttr.tier));
  if (tier !== undefined) parts.push(`[${tier}]`);
  if (isRollup) {
    const r = scalar(rollup);
    const count = typeof r === 'number' ? r : metricSum(metrics, SelfMetric.rollupCount);
    if (count !== undefined) parts.push(`×${count}`);
  }
  const cpu = metricSum(metrics, ProcessMetric.cpuUtilization);
  if (cpu !== undefined) parts.push(`cpu ${(cpu * 100).toFixed(1)}%`);
  const rss = metricSum(metrics, ProcessMetric.memoryUsage);
  if (rss !== undefined) parts.push(`rss ${formatBytes(rss)}`);
  return parts.join(' ');
}

/** Header plus one line per resource, newline-terminated. */
export function formatRequest(req: ExportMetricsServiceRequest): string {
  let points = 0;
  let latestNs = 0n;
  const lines: string[] = [];
  for (const rm of req.resourceMetrics) {
    lines.push(formatResource(rm));
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        for (const p of m.gauge?.dataPoints ?? m.sum?.dataPoints ?? []) {
          points++;
          if (/^\d+$/.test(p.timeUnixNano)) {
            const t = BigInt(p.timeUnixNano);
            if (t > latestNs) latestNs = t;
          }
        }
      }
    }
  }
  const when = latestNs > 0n ? `${new Date(Number(latestNs / 1_000_000n)).toISOString()} ` : '';
  const header = `# ${when}${req.resourceMetrics.length} resources, ${points} data points`;
  return `${[header, ...lines].join('\n')}\n`;
}

export class StdoutExporter implements Exporter {
  readonly name = 'stdout';
  private readonly stream: Writable;
  private readonly logger: Logger;
  private readonly lifecycle = new Lifecycle('stdout');
  private streamError?: Error;
  private readonly onError = (e: Error): void => {
    this.streamError ??= e;
  };

  constructor(options: StdoutExporterOptions = {}) {
    this.stream = options.stream ?? process.stdout;
    this.logger = options.logger ?? silentLogger;
  }

  async start(): Promise<void> {
    this.lifecycle.assertStartable();
    if (this.lifecycle.started) return;
    // an EPIPE on a closed pipe must not crash the agent: remember it and report it
    this.stream.on('error', this.onError);
    this.lifecycle.markStarted();
  }

  async export(payload: ExportPayload): Promise<ExportResult> {
    this.lifecycle.assertExportable();
    try {
      if (this.streamError) throw this.streamError;
      if (this.stream.destroyed || this.stream.writableEnded) throw new Error('stream is closed');
      const text = formatRequest(encodingsFor(payload).request);
      const stream = this.stream;
      await new Promise<void>((resolve, reject) => {
        stream.write(text, 'utf8', (err) => (err ? reject(err) : resolve()));
      });
      return { ok: true, bytes: Buffer.byteLength(text, 'utf8') };
    } catch (e) {
      const error = describeError(e);
      this.logger.warn({ exporter: this.name, error }, 'stdout export failed');
      return { ok: false, bytes: 0, error };
    }
  }

  shutdown(): Promise<void> {
    return this.lifecycle.shutdown(async () => {
      this.stream.off('error', this.onError);
    });
  }
}
