/**
 * Builders of the OTLP model's metrics and points, shared by the roll-ups
 * (rollup.ts) and the model view of a process row (model.ts).
 */
import { type KeyValue, type Metric, type NumberDataPoint, str, TEMPORALITY_CUMULATIVE } from '../../otlp/model.js';

/** One string attribute. */
export const a = (k: string, v: string): KeyValue[] => [str(k, v)];

/** A double point; a gauge's has no start time (`start` undefined). */
export const dp = (start: string | undefined, time: string, v: number, attributes?: KeyValue[]): NumberDataPoint =>
  start === undefined
    ? { attributes, timeUnixNano: time, asDouble: v }
    : { attributes, startTimeUnixNano: start, timeUnixNano: time, asDouble: v };

/** A cumulative sum. */
export function sum(
  name: string,
  unit: string,
  description: string,
  monotonic: boolean,
  dataPoints: NumberDataPoint[],
): Metric {
  return {
    name,
    unit,
    description,
    sum: { dataPoints, aggregationTemporality: TEMPORALITY_CUMULATIVE, isMonotonic: monotonic },
  };
}

export function gauge(name: string, unit: string, description: string, dataPoints: NumberDataPoint[]): Metric {
  return { name, unit, description, gauge: { dataPoints } };
}
