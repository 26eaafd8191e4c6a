/**
 * The zod form of a duration, apart from schema.ts so that sections defined
 * next to their modules (src/control/config/schema.ts) can use it without an
 * import cycle.
 */
import { z } from 'zod';

/** "10s", "500ms", "2m", "1h" or a number of seconds. */
export const duration = z.union([
  z.number().positive(),
  z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'expected a duration like 10s, 500ms or 2m'),
]);
