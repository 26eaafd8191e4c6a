/**
 * Splitting an encoded ExportMetricsServiceRequest into per-lane requests
 * under a size limit, without encoding anything twice (a resource over the
 * limit is split further by split-oversize.ts).
 *
 * In protobuf a repeated message field is the concatenation of its elements,
 * each framed as tag + length. An encoded request is therefore a run of
 * `resource_metrics` entries (field 1, wire type 2: tag byte 0x0a), and any
 * subset of those entries, concatenated, is itself a valid request.
 */

import type { Lane, LaneBatch } from '../core/lanes.js';
import { LANE_ORDER } from '../core/lanes.js';
import type { Logger } from '../core/log.js';
import { countPoints, splitResource, varintSize } from './split-oversize.js';

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

export interface SplitResult {
  batches: LaneBatch[];
  /** resources larger than the limit, split into smaller ones (split-oversize.ts) */
  oversize: number;
  /** what could not be made small enough and is not sent */
  refused: { resources: number; points: number };
}

/**
 * Group the resources by lane (in drain order) and pack each lane into
 * requests of at most `limitFor(lane)` bytes. A single resource larger than
 * the limit is split into smaller resources (`oversize` counts them); a data
 * point, or a resource's own attributes, over the limit on its own is
 * refused (`refused`). Callers report both with reportSplit().
 */
export function splitByLane(input: SplitInput, limitFor: (lane: Lane) => number): SplitResult {
  const bounds = resourceBounds(input.protobuf);
  const n = bounds.length - 1;
  if (n !== input.lanes.length || n !== input.points.length) {
    throw new Error(`split: ${n} resources encoded but ${input.lanes.length} lanes given`);
  }
  const batches: LaneBatch[] = [];
  let oversize = 0;
  const refused = { resources: 0, points: 0 };
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
    const add = (part: Uint8Array, pts: number) => {
      if (bytes > 0 && bytes + part.length > limit) flush();
      parts.push(part);
      bytes += part.length;
      points += pts;
    };
    for (let i = 0; i < n; i++) {
      if (input.lanes[i] !== lane) continue;
      const part = input.protobuf.subarray(bounds[i]!, bounds[i + 1]!);
      if (part.length <= limit) {
        add(part, input.points[i]!);
        continue;
      }
      oversize++;
      const s = splitResource(resourceBody(part), limit);
      if (s.refusedWhole) refused.resources++;
      refused.points += s.refusedPoints;
      for (const piece of s.pieces) add(entry(piece), countPoints(piece));
    }
    flush();
  }
  return { batches, oversize, refused };
}

/** The body of one `resource_metrics` entry (after its tag and length). */
function resourceBody(part: Uint8Array): Uint8Array {
  let pos = 1;
  while (part[pos]! >= 0x80) pos++;
  return part.subarray(pos + 1);
}

/** A ResourceMetrics body as a request entry (tag 0x0a, length). */
function entry(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + varintSize(body.length) + body.length);
  out[0] = TAG_RESOURCE_METRICS;
  let pos = 1;
  let v = body.length;
  while (v >= 0x80) {
    out[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  out.set(body, pos);
  return out;
}

/**
 * Counts what splits did with resources over the limit and logs it: a
 * warning at most once a minute, with what happened since the last one.
 */
export class SplitReporter {
  /** since start (for /metrics) */
  readonly totals = { split: 0, refusedResources: 0, refusedPoints: 0 };
  private readonly unreported = { split: 0, refusedResources: 0, refusedPoints: 0 };
  private lastWarnMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly now: () => number = Date.now) {}

  report(r: Pick<SplitResult, 'oversize' | 'refused'>, logger: Logger, maxRequestBytes: number): void {
    if (r.oversize === 0 && r.refused.points === 0 && r.refused.resources === 0) return;
    for (const t of [this.totals, this.unreported]) {
      t.split += r.oversize;
      t.refusedResources += r.refused.resources;
      t.refusedPoints += r.refused.points;
    }
    if (this.now() - this.lastWarnMs < 60_000) return;
    this.lastWarnMs = this.now();
    const u = this.unreported;
    logger.warn(
      { ...u, maxRequestBytes },
      u.refusedPoints + u.refusedResources > 0
        ? 'resources larger than the request size limit: split into smaller ones; data points (or resource attributes) too big on their own were refused, not sent (see max_request_bytes)'
        : 'resources larger than the request size limit: split into smaller ones',
    );
    u.split = 0;
    u.refusedResources = 0;
    u.refusedPoints = 0;
  }
}

/** The agent's reporter: every split of exported data goes through it. */
export const splitReporter = new SplitReporter();

/** splitReporter.report(); callers of splitByLane call this with its result. */
export function reportSplit(
  r: Pick<SplitResult, 'oversize' | 'refused'>,
  logger: Logger,
  maxRequestBytes: number,
): void {
  splitReporter.report(r, logger, maxRequestBytes);
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
