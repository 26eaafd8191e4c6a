/**
 * The zod form of a duration, apart from schema.ts so that sections defined
 * next to their modules (src/control/config/schema.ts) can use it without an
 * import cycle.
 */
import { z } from 'zod';
import { durationMs } from './duration.js';

/** What a duration string looks like: a number and a unit. */
export const DURATION_RE = /^\d+(\.\d+)?(ms|s|m|h)$/;

export const durationString = z.string().regex(DURATION_RE, 'expected a duration like 10s, 500ms or 2m');

/** "10s", "500ms", "2m", "1h" or a number of seconds; more than 0. */
export const duration = z.union([
  z.number().positive(),
  // a malformed string fails the regex above; only a well-formed zero fails here
  durationString.refine((v) => !DURATION_RE.test(v) || durationMs(v) > 0, 'must be more than 0'),
]);

/**
 * A duration of at most `max` (e.g. "1h"): for one that arms a timer, whose
 * delay Node turns into 1 ms beyond 2^31 - 1 ms (24.8 days), and for one
 * where more than `max` only hides a mistake.
 */
export function durationAtMost(max: string, base: z.ZodType<string | number> = duration) {
  const maxMs = durationMs(max);
  // a malformed string is reported by `base` (the refinement runs anyway): it passes here; '0' is 0 ms
  const malformed = (v: string | number) => typeof v === 'string' && v !== '0' && !DURATION_RE.test(v);
  return base.refine((v) => malformed(v) || (v === '0' ? 0 : durationMs(v)) <= maxMs, `must be at most ${max}`);
}
