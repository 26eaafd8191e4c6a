/**
 * Queue options with their defaults, checked once.
 */
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/log.js';
import { DEFAULT_FSYNC_INTERVAL_MS, DEFAULT_MAX_BYTES, DEFAULT_SEGMENT_BYTES, type QueueOptions } from './types.js';

export interface ResolvedQueueOptions {
  maxBytes: number;
  segmentBytes: number;
  fsyncIntervalMs: number;
  logger: Logger;
  now: () => number;
  weigh: (payload: Uint8Array) => number;
}

const weighNothing = () => 0;

function numberOr(v: number | undefined, fallback: number, key: string, allowZero: boolean): number {
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v < 0 || (v === 0 && !allowZero)) {
    throw new NrdotError(
      ErrorCodes.CONFIG_INVALID,
      `export queue: '${key}' must be a ${allowZero ? 'non-negative' : 'positive'} number (got ${v})`,
    );
  }
  return v;
}

export function resolveQueueOptions(o: Partial<QueueOptions>): ResolvedQueueOptions {
  return {
    maxBytes: numberOr(o.maxBytes, DEFAULT_MAX_BYTES, 'maxBytes', false),
    segmentBytes: numberOr(o.segmentBytes, DEFAULT_SEGMENT_BYTES, 'segmentBytes', false),
    fsyncIntervalMs: numberOr(o.fsyncIntervalMs, DEFAULT_FSYNC_INTERVAL_MS, 'fsyncIntervalMs', true),
    logger: o.logger ?? silentLogger,
    now: o.now ?? Date.now,
    weigh: o.weigh ?? weighNothing,
  };
}
