/**
 * The in-memory shape of an OTLP metrics export request. It is the OTLP/HTTP
 * JSON mapping of `ExportMetricsServiceRequest` (lowerCamelCase field names,
 * 64-bit integers as decimal strings, enums as numbers), so the file sink can
 * `JSON.stringify` it as is and the protobuf encoder converts it once.
 */

export type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean };

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface NumberDataPoint {
  attributes?: KeyValue[];
  /** nanoseconds since the epoch, decimal string */
  startTimeUnixNano?: string;
  timeUnixNano: string;
  asDouble?: number;
  /** decimal string */
  asInt?: string;
}

/** AggregationTemporality enum of metrics.proto */
export const TEMPORALITY_CUMULATIVE = 2;

export interface Metric {
  name: string;
  unit?: string;
  description?: string;
  gauge?: { dataPoints: NumberDataPoint[] };
  sum?: { dataPoints: NumberDataPoint[]; aggregationTemporality: number; isMonotonic: boolean };
}

export interface ScopeMetrics {
  scope: { name: string; version?: string };
  metrics: Metric[];
}

export interface ResourceMetrics {
  resource: { attributes: KeyValue[] };
  scopeMetrics: ScopeMetrics[];
}

export interface ExportMetricsServiceRequest {
  resourceMetrics: ResourceMetrics[];
}

export const str = (key: string, v: string): KeyValue => ({ key, value: { stringValue: v } });
export const int = (key: string, v: number): KeyValue => ({ key, value: { intValue: String(Math.trunc(v)) } });
export const dbl = (key: string, v: number): KeyValue => ({ key, value: { doubleValue: v } });
export const bool = (key: string, v: boolean): KeyValue => ({ key, value: { boolValue: v } });

/** Nanoseconds since the epoch as a decimal string, exact for any ms/sec input. */
export function nanosFromSec(sec: number): string {
  const whole = Math.floor(sec);
  const frac = Math.round((sec - whole) * 1e9);
  return (BigInt(whole) * 1_000_000_000n + BigInt(frac)).toString();
}

export function nanosFromMs(ms: number): string {
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1_000_000n + BigInt(frac)).toString();
}

/** Count data points in a request. */
export function countDataPoints(req: ExportMetricsServiceRequest): number {
  let n = 0;
  for (const rm of req.resourceMetrics)
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics) n += (m.gauge?.dataPoints.length ?? 0) + (m.sum?.dataPoints.length ?? 0);
  return n;
}
