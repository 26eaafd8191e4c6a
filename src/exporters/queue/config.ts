/**
 * Queue options checked once. They are complete: the values come from the
 * config's `queue.*` (configs/default.yaml), not from defaults here.
 */
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/log.js';
import type { QueueOptions } from './types.js';

export interface ResolvedQueueOptions {
  maxBytes: number;
  segmentBytes: number;
  fsyncIntervalMs: number;
  logger: Logger;
  now: () => number;
  weigh: (payload: Uint8Array) => number;
}

const weighNothing = () => 0;

function checked(v: number, key: string, allowZero: boolean): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (v === 0 && !allowZero)) {
    throw new NrdotError(
      ErrorCodes.CONFIG_INVALID,
      `export queue: '${key}' must be a ${allowZero ? 'non-negative' : 'positive'} number (got ${v})`,
    );
  }
  return v;
}

export function resolveQueueOptions(o: QueueOptions): ResolvedQueueOptions {
  return {
    maxBytes: checked(o.maxBytes, 'maxBytes', false),
    segmentBytes: checked(o.segmentBytes, 'segmentBytes', false),
    fsyncIntervalMs: checked(o.fsyncIntervalMs, 'fsyncIntervalMs', true),
    logger: o.logger ?? silentLogger,
    now: o.now ?? Date.now,
    weigh: o.weigh ?? weighNothing,
  };
}
