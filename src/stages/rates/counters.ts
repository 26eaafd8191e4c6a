/**
 * The cumulative counters kept per process (the rates stage's columns and
 * the roll-ups' sums), in one order.
 */
import type { ProcessBatch } from '../../sources/batch.js';

export const COUNTERS = [
  'user',
  'system',
  'wait',
  'readBytes',
  'writeBytes',
  'minFaults',
  'majFaults',
  'volCtx',
  'involCtx',
] as const;
export const NCOUNTERS = COUNTERS.length;

/** Read row i's counters into `out` (-1 where unknown). */
export function rowCounters(b: ProcessBatch, i: number, out: Float64Array): Float64Array {
  out[0] = b.utimeSec[i]!;
  out[1] = b.stimeSec[i]!;
  out[2] = b.iowaitSec[i]!;
  out[3] = b.readBytes[i]!;
  out[4] = b.writeBytes[i]!;
  out[5] = b.minFaults[i]!;
  out[6] = b.majFaults[i]!;
  out[7] = b.volCtx[i]!;
  out[8] = b.involCtx[i]!;
  return out;
}
