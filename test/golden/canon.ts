/**
 * Canonical form of what nrdot exported, for golden comparisons: one line per
 * resource (attributes sorted, scopes and metrics in order, every data point's
 * attributes and value), time stamps left out, nrdot's own telemetry left out
 * (its values are timings), lines sorted (row order is not part of the
 * contract). Two runs that export the same data give the same lines.
 */
import { createHash } from 'node:crypto';
import type { AnyValue, ExportMetricsServiceRequest, KeyValue, Metric } from '../../src/otlp/model.js';

function val(v: AnyValue): string {
  return JSON.stringify(v);
}

function attrs(kvs: readonly KeyValue[] | undefined, drop?: ReadonlySet<string>): string {
  if (!kvs || kvs.length === 0) return '';
  return kvs
    .filter((kv) => !drop?.has(kv.key))
    .map((kv) => `${kv.key}=${val(kv.value)}`)
    .sort()
    .join(',');
}

function metricLine(m: Metric): string {
  const head = `${m.name}|${m.unit ?? ''}|${m.description ?? ''}`;
  const num = m.sum ?? m.gauge;
  if (num) {
    const kind = m.sum ? `sum:${m.sum.aggregationTemporality}:${m.sum.isMonotonic ? 'mono' : 'nonmono'}` : 'gauge';
    const pts = num.dataPoints.map(
      (p) => `{${attrs(p.attributes)}}${p.asInt !== undefined ? `i${p.asInt}` : `d${JSON.stringify(p.asDouble)}`}`,
    );
    return `${head}|${kind}|${pts.join(';')}`;
  }
  // other types pass through: keep everything but time stamps
  return `${head}|${JSON.stringify(m, (k, v) => (k === 'timeUnixNano' || k === 'startTimeUnixNano' ? undefined : v))}`;
}

/** True for nrdot's own telemetry resource (service.name = nrdot). */
export function isSelfResource(rm: ExportMetricsServiceRequest['resourceMetrics'][number]): boolean {
  return rm.resource.attributes.some(
    (a) => a.key === 'service.name' && (a.value as { stringValue?: string }).stringValue === 'nrdot',
  );
}

/**
 * `dropResourceAttrs`: resource attributes left out (a synthetic host's
 * `process.owner` comes from this machine's /etc/passwd, which is not part of
 * the host).
 */
export function canonLines(req: ExportMetricsServiceRequest, dropResourceAttrs?: readonly string[]): string[] {
  const lines: string[] = [];
  const drop = dropResourceAttrs ? new Set(dropResourceAttrs) : undefined;
  for (const rm of req.resourceMetrics) {
    if (isSelfResource(rm)) continue;
    const parts = [`R{${attrs(rm.resource.attributes, drop)}}`];
    for (const sm of rm.scopeMetrics) {
      parts.push(`S{${sm.scope?.name ?? ''}@${sm.scope?.version ?? ''}}`);
      for (const m of sm.metrics) parts.push(metricLine(m));
    }
    lines.push(parts.join(' '));
  }
  return lines.sort();
}

export function digest(lines: readonly string[]): string {
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 32);
}
