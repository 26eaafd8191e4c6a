/**
 * The zod form of a duration, apart from schema.ts so that sections defined
 * next to their modules (src/control/config/schema.ts) can use it without an
 * import cycle.
 */
import { z } from 'zod';
import { durationMs } from './duration.js';

export const durationString = z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'expected a duration like 10s, 500ms or 2m');

/** "10s", "500ms", "2m", "1h" or a number of seconds; more than 0. */
export const duration = z.union([
  z.number().positive(),
  // a malformed string fails the regex above; only a well-formed zero fails here
  durationString.refine((v) => !/^\d+(\.\d+)?(ms|s|m|h)$/.test(v) || durationMs(v) > 0, 'must be more than 0'),
]);
