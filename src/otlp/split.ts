/**
 * Splitting an encoded ExportMetricsServiceRequest into per-lane requests
 * under a size limit, without encoding anything twice.
 *
 * In protobuf a repeated message field is the concatenation of its elements,
 * each framed as tag + length. An encoded request is therefore a run of
 * `resource_metrics` entries (field 1, wire type 2: tag byte 0x0a), and any
 * subset of those entries, concatenated, is itself a valid request.
 */

import type { Lane, LaneBatch } from '../core/lanes.js';
import { LANE_ORDER } from '../core/lanes.js';

const TAG_RESOURCE_METRICS = 0x0a;

/**
 * Byte offsets of each top-level `resource_metrics` entry: entry i is
 * `buf.subarray(bounds[i], bounds[i + 1])`. Throws when the buffer holds
 * anything else at the top level.
 */
export function resourceBounds(buf: Uint8Array): number[] {
  const bounds = [0];
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] !== TAG_RESOURCE_METRICS) {
      throw new Error(`unexpected protobuf tag 0x${buf[pos]!.toString(16)} at byte ${pos}`);
    }
    pos++;
    let len = 0;
    let shift = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated length varint');
      const b = buf[pos++]!;
      len += (b & 0x7f) * shift;
      if (b < 0x80) break;
      shift *= 128;
    }
    pos += len;
    if (pos > buf.length) throw new Error('resource entry runs past the end of the buffer');
    bounds.push(pos);
  }
  return bounds;
}

export interface SplitInput {
  /** the whole request, encoded */
  protobuf: Uint8Array;
  /** lane of each resource, in request order */
  lanes: readonly Lane[];
  /** data points of each resource, in request order */
  points: readonly number[];
}

/**
 * Group the resources by lane (in drain order) and pack each lane into
 * requests of at most `limitFor(lane)` bytes. A single resource larger than
 * the limit travels alone (`oversize` counts them).
 */
export function splitByLane(
  input: SplitInput,
  limitFor: (lane: Lane) => number,
): { batches: LaneBatch[]; oversize: number } {
  const bounds = resourceBounds(input.protobuf);
  const n = bounds.length - 1;
  if (n !== input.lanes.length || n !== input.points.length) {
    throw new Error(`split: ${n} resources encoded but ${input.lanes.length} lanes given`);
  }
  const batches: LaneBatch[] = [];
  let oversize = 0;
  for (const lane of LANE_ORDER) {
    const limit = limitFor(lane);
    let parts: Uint8Array[] = [];
    let bytes = 0;
    let points = 0;
    const flush = () => {
      if (parts.length === 0) return;
      batches.push({ lane, protobuf: concat(parts, bytes), points, resources: parts.length });
      parts = [];
      bytes = 0;
      points = 0;
    };
    for (let i = 0; i < n; i++) {
      if (input.lanes[i] !== lane) continue;
      const part = input.protobuf.subarray(bounds[i]!, bounds[i + 1]!);
      if (bytes > 0 && bytes + part.length > limit) flush();
      if (part.length > limit) oversize++;
      parts.push(part);
      bytes += part.length;
      points += input.points[i]!;
    }
    flush();
  }
  return { batches, oversize };
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
