/**
 * Pull mode (`server.process_metrics: true`): the processes the last cycle
 * exported at full resolution, as Prometheus families on /metrics, the way
 * process-exporter serves them. Roll-ups, sampled processes and nrdot's own
 * telemetry are left out (the self-telemetry is on /metrics already).
 *
 * Labels: `pid`, `name` (executable name), `tier`, plus each point's own
 * attributes (`state`, `direction`, `type`). Monotonic sums are counters;
 * everything else is a gauge.
 */
import type { ExportMetricsServiceRequest, KeyValue, ResourceMetrics } from '../metrics/otlp.js';
import type { MetricFamily, ScalarFamily } from '../server/exposition.js';
import { ResourceAttr } from '../telemetry/names.js';

function attrString(attrs: readonly KeyValue[] | undefined, key: string): string | undefined {
  const v = attrs?.find((a) => a.key === key)?.value as Record<string, unknown> | undefined;
  if (!v) return undefined;
  const x = v.stringValue ?? v.intValue ?? v.doubleValue ?? v.boolValue;
  return x === undefined ? undefined : String(x);
}

function isExportedProcess(rm: ResourceMetrics): boolean {
  const a = rm.resource.attributes;
  return (
    attrString(a, ResourceAttr.pid) !== undefined &&
    attrString(a, ResourceAttr.tier) !== undefined &&
    attrString(a, ResourceAttr.rollup) === undefined &&
    attrString(a, ResourceAttr.sampleRate) === undefined
  );
}

export function processFamilies(req: ExportMetricsServiceRequest | undefined): MetricFamily[] {
  if (!req) return [];
  const families = new Map<string, ScalarFamily>();
  for (const rm of req.resourceMetrics) {
    if (!isExportedProcess(rm)) continue;
    const a = rm.resource.attributes;
    const base: Record<string, string> = {
      pid: attrString(a, ResourceAttr.pid)!,
      name: attrString(a, ResourceAttr.executableName) ?? '',
      tier: attrString(a, ResourceAttr.tier)!,
    };
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) {
        const points = m.sum?.dataPoints ?? m.gauge?.dataPoints;
        if (!points) continue;
        const type = m.sum?.isMonotonic ? 'counter' : 'gauge';
        let f = families.get(m.name);
        if (!f) {
          f = { name: m.name, help: `${m.name} of each exported process (pull mode).`, type, samples: [] };
          if (m.unit) f.unit = m.unit;
          families.set(m.name, f);
        }
        for (const p of points) {
          const labels: Record<string, string> = { ...base };
          for (const kv of p.attributes ?? []) labels[kv.key] = attrString([kv], kv.key) ?? '';
          f.samples.push({ labels, value: p.asDouble ?? Number(p.asInt) });
        }
      }
    }
  }
  return [...families.values()];
}
