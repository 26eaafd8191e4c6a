/**
 * `control:` in the config: the cost control loop's settings. Schedules
 * (src/control/schedule) and webhook notifications (src/control/notify) are
 * defined next to their modules; the loop adds its own keys here.
 */
import { z } from 'zod';
import { controlBudgetSchema, loopSchema } from './loop/config.js';
import { notifySchema } from './notify/config.js';
import { schedulesSchema } from './schedule/config.js';

export const controlSchema = z.strictObject({
  schedules: schedulesSchema,
  notify: notifySchema,
  budget: controlBudgetSchema,
  loop: loopSchema,
});

export type ControlConfig = z.infer<typeof controlSchema>;
