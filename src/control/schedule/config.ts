/**
 * `control.schedules:` in the config. Each schedule is a time window or a
 * cron expression with a duration, in a time zone, and sets a profile or a
 * budget; `priority` decides between schedules active at once (higher wins).
 * Syntax is checked here (errors name the key: `control.schedules.0.cron`);
 * what needs the rest of the config (profile names, overlaps) is checked by
 * check.ts.
 */
import { z } from 'zod';
import { durationMs } from '../../config/duration.js';
import { duration } from '../../config/duration-schema.js';
import { CronSyntaxError, parseCron } from './cron.js';
import { parseWindow, WindowSyntaxError } from './window.js';
import { zoneProblem } from './zone.js';

const positive = () =>
  z
    .number()
    .refine((v) => Number.isFinite(v) && v > 0, 'must be more than 0 (a budget of zero or less can never be met)');

/**
 * A budget: what telemetry may cost, on any of three measures (at least
 * one). Shared by schedules and, for the control loop, `control.budget`.
 */
export const budgetSchema = z
  .strictObject({
    usd_per_hour: positive().optional().describe('USD per hour: OTLP bytes x cost.price_per_gb'),
    points_per_minute: positive().optional().describe('exported data points per minute'),
    active_series: positive().optional().describe('exported series (resources x metrics) at once'),
  })
  .refine((b) => b.usd_per_hour !== undefined || b.points_per_minute !== undefined || b.active_series !== undefined, {
    message: 'a budget names at least one of usd_per_hour, points_per_minute, active_series',
  });

export type Budget = z.infer<typeof budgetSchema>;

export const scheduleSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'schedule names are letters, digits, _ . and -')
      .describe('names the schedule in logs, events and errors'),
    window: z.string().optional().describe("a time window: 'Mon-Fri 08:00-18:00', 'Sat-Sun', '22:00-06:00'"),
    cron: z.string().optional().describe("a cron expression ('0 22 * * *'); active for `duration` after each firing"),
    duration: duration.optional().describe('with cron: how long each firing keeps the schedule active'),
    timezone: z.string().default('UTC').describe('IANA time zone of the window or cron (default UTC)'),
    profile: z.string().optional().describe('the profile this schedule sets (or budget)'),
    budget: budgetSchema.optional().describe('the budget this schedule sets (or profile)'),
    priority: z.number().int().default(0).describe('between schedules active at once, the higher priority wins'),
  })
  .superRefine((s, ctx) => {
    const zone = zoneProblem(s.timezone);
    if (zone) ctx.addIssue({ code: 'custom', path: ['timezone'], message: zone });
    if ((s.window === undefined) === (s.cron === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'a schedule has either a window or a cron expression' });
    }
    if ((s.profile === undefined) === (s.budget === undefined)) {
      ctx.addIssue({ code: 'custom', path: [], message: 'a schedule sets either a profile or a budget' });
    }
    if (s.window !== undefined) {
      if (s.duration !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['duration'], message: 'only a cron schedule has a duration' });
      }
      try {
        parseWindow(s.window);
      } catch (e) {
        if (!(e instanceof WindowSyntaxError)) throw e;
        ctx.addIssue({ code: 'custom', path: ['window'], message: e.message });
      }
    }
    if (s.cron !== undefined) {
      if (s.duration === undefined) {
        ctx.addIssue({ code: 'custom', path: ['duration'], message: 'a cron schedule needs a duration (e.g. 8h)' });
      }
      if (!zone) {
        try {
          parseCron(s.cron, s.timezone, s.duration === undefined ? 1 : durationMs(s.duration));
        } catch (e) {
          if (!(e instanceof CronSyntaxError)) throw e;
          ctx.addIssue({ code: 'custom', path: ['cron'], message: e.message });
        }
      }
    }
  });

export type ScheduleConfig = z.infer<typeof scheduleSchema>;

export const schedulesSchema = z
  .array(scheduleSchema)
  .superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((s, i) => {
      const j = seen.get(s.name);
      if (j !== undefined) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `'${s.name}' is also the name of schedule ${j}` });
      }
      seen.set(s.name, i);
    });
  })
  .describe('time windows and cron expressions that set the profile or the budget (src/control/schedule)');
