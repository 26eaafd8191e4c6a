import * as fs from 'node:fs';
import type { ExportMetricsServiceRequest, KeyValue, Metric, ResourceMetrics } from '../../src/otlp/model.js';

export function readRequests(file: string): ExportMetricsServiceRequest[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ExportMetricsServiceRequest);
}

export function attr(rm: ResourceMetrics, key: string): string | number | boolean | undefined {
  const kv = rm.resource.attributes.find((a: KeyValue) => a.key === key);
  if (!kv) return undefined;
  const v = kv.value as Record<string, unknown>;
  if ('stringValue' in v) return v.stringValue as string;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue as number;
  if ('boolValue' in v) return v.boolValue as boolean;
  return undefined;
}

export function metric(rm: ResourceMetrics, name: string): Metric | undefined {
  return rm.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.name === name);
}

/** Value of the (single, or attribute-selected) data point of a metric. */
export function pointValue(
  rm: ResourceMetrics,
  name: string,
  attrKey?: string,
  attrValue?: string,
): number | undefined {
  const m = metric(rm, name);
  if (!m) return undefined;
  const pts = m.sum?.dataPoints ?? m.gauge?.dataPoints ?? [];
  const p = attrKey
    ? pts.find((d) =>
        d.attributes?.some((a) => a.key === attrKey && (a.value as { stringValue?: string }).stringValue === attrValue),
      )
    : pts[0];
  if (!p) return undefined;
  return p.asDouble ?? Number(p.asInt);
}

export const isRollup = (rm: ResourceMetrics) => attr(rm, 'nrdot.rollup') === true;
export const isSelf = (rm: ResourceMetrics) => attr(rm, 'service.name') === 'nrdot';
export const isProcess = (rm: ResourceMetrics) => attr(rm, 'process.pid') !== undefined;
/** A process exported on the sampled path (it is also inside its tier's `_other_` roll-up). */
export const isSampled = (rm: ResourceMetrics) => attr(rm, 'nrdot.sample.rate') !== undefined;
