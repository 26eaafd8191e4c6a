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
import { attrText, type ExportMetricsServiceRequest, type ResourceMetrics } from '../otlp/model.js';
import type { MetricFamily, ScalarFamily } from '../server/exposition.js';
import { ResourceAttr } from '../telemetry/names.js';

function isExportedProcess(rm: ResourceMetrics): boolean {
  const a = rm.resource.attributes;
  return (
    attrText(a, ResourceAttr.pid) !== undefined &&
    attrText(a, ResourceAttr.tier) !== undefined &&
    attrText(a, ResourceAttr.rollup) === undefined &&
    attrText(a, ResourceAttr.sampleRate) === undefined
  );
}

export function processFamilies(req: ExportMetricsServiceRequest | undefined): MetricFamily[] {
  if (!req) return [];
  const families = new Map<string, ScalarFamily>();
  for (const rm of req.resourceMetrics) {
    if (!isExportedProcess(rm)) continue;
    const a = rm.resource.attributes;
    const base: Record<string, string> = {
      pid: attrText(a, ResourceAttr.pid)!,
      name: attrText(a, ResourceAttr.executableName) ?? '',
      tier: attrText(a, ResourceAttr.tier)!,
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
          for (const kv of p.attributes ?? []) labels[kv.key] = attrText([kv], kv.key) ?? '';
          f.samples.push({ labels, value: p.asDouble ?? Number(p.asInt) });
        }
      }
    }
  }
  return [...families.values()];
}
