/**
 * `control.budget` and `control.loop`: what telemetry may cost, and how the
 * loop steers toward it. Off by default (`budget: null`). Errors name the
 * key (`control.budget.usd_per_hour`); profile names are checked against the
 * config in check.ts.
 */
import { z } from 'zod';
import { duration } from '../../config/duration-schema.js';
import { budgetSchema } from '../schedule/config.js';

export const loopSchema = z
  .strictObject({
    profiles: z
      .array(z.string().min(1))
      .min(1)
      .describe('the ladder the loop steers along, richest first; it settles inside one of them with the knob'),
    emergency_profile: z
      .string()
      .min(1)
      .describe(
        'where a breach jumps when visibility_floor is 0, or when no setting is known to keep the floor (critical processes and anomalies stay)',
      ),
    min_dwell: duration.describe('least time between two changes the loop makes (profile or knob)'),
    max_changes_per_hour: z
      .number()
      .int()
      .positive()
      .describe('profile and knob changes the loop may make in any hour (a breach jump is counted, never held)'),
    hysteresis: z
      .number()
      .min(0)
      .max(0.5)
      .describe('no change while the projected cost is within this share of the budget (0.1 = 90% to 110%)'),
    visibility_floor: z
      .number()
      .min(0)
      .max(1)
      .describe(
        'the loop never makes the export cheaper when visibility (the lower of CPU and memory) would fall below this; a breach goes to the cheapest setting last seen keeping it (and stays, reporting the budget unmet, when already there) instead of emergency_profile; 0 = no floor',
      ),
    min_knob: z
      .number()
      .gt(0)
      .max(1)
      .describe('lowest knob scale: top_n, groups.budget, max_series and the sampling budget times this at most'),
    breach_ratio: z
      .number()
      .gt(1)
      .describe(
        'cost over budget x this (a breach) jumps at once to the cheapest setting allowed: the cheapest keeping visibility_floor, or emergency_profile without a floor',
      ),
    breach_cycles: z
      .number()
      .int()
      .positive()
      .describe('consecutive cycles over budget x breach_ratio before the jump'),
    smoothing: z
      .number()
      .gt(0)
      .max(1)
      .describe('weight of the newest cycle in the projected cost (an exponential moving average)'),
  })
  .superRefine((l, ctx) => {
    const seen = new Set<string>();
    l.profiles.forEach((p, i) => {
      if (seen.has(p)) ctx.addIssue({ code: 'custom', path: ['profiles', i], message: `'${p}' is listed twice` });
      seen.add(p);
    });
  });

export type LoopConfig = z.infer<typeof loopSchema>;

/** `control.budget`: null = the loop is off (schedules may still set a budget). */
export const controlBudgetSchema = budgetSchema
  .nullable()
  .describe(
    'what telemetry may cost: usd_per_hour (OTLP bytes x cost.price_per_gb), points_per_minute, active_series; null = off',
  );
