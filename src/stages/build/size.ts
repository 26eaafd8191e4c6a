/**
 * Encoded sizes of process rows without encoding their metrics: a row's
 * ResourceMetrics entry is its resource (attributes: strings and pids, which
 * vary, so it is written to be measured) and its scope metrics, whose size
 * depends only on the metric set and which optional values are known, as
 * every value is fixed-width. That size is measured once per (mask, known
 * values) and remembered. The baselines size every process this way
 * (src/stages/baseline): the same bytes `writeProcess` would write,
 * at a fraction of the cost.
 */
import * as w from '../../otlp/encode/pb-buf.js';
import type { ProcessBatch } from '../../sources/batch.js';
import { type CpuState, KNOWN_SPAN, knownValues, type RowStrings, writeMetrics, writeResource } from './writer.js';

/** Size of the `resource` message of row i (tag and length prefix included), without nrdot's attributes. */
export function resourceSize(b: ProcessBatch, i: number, id: RowStrings): number {
  w.reset();
  writeResource(b, i, id);
  return w.pos;
}

/** scope-metrics sizes by (mask, known values) */
const metricsSizes = new Map<number, number>();

/** Size of the `scope_metrics` message of row i with the metrics of `mask` (tag and length prefix included). */
export function metricsSize(b: ProcessBatch, i: number, cpuState: CpuState, mask: number): number {
  const key = mask * KNOWN_SPAN + knownValues(b, i, cpuState);
  let n = metricsSizes.get(key);
  if (n === undefined) {
    w.reset();
    writeMetrics(b, i, cpuState, mask);
    n = w.pos;
    metricsSizes.set(key, n);
  }
  return n;
}

/** Size of a ResourceMetrics entry (its tag and length prefix included) of the two messages' sizes. */
export function entrySize(resource: number, metrics: number): number {
  const len = resource + metrics;
  return 1 + w.varintSize(len) + len;
}
