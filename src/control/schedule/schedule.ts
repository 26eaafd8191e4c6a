/**
 * A schedule ready to ask: its window or cron parsed once, and the two
 * questions every other part asks of one: is it active at an instant, and
 * when does that next change.
 */
import { durationMs } from '../../config/duration.js';
import type { Budget, ScheduleConfig } from './config.js';
import { type CronSchedule, cronActive, cronNextEdge, parseCron } from './cron.js';
import { parseWindow, type TimeWindow, windowActive, windowCandidates } from './window.js';

export type { Budget } from './config.js';

/** What a schedule (or a manual override) sets: a profile or a budget. */
export type ControlTarget = { profile: string; budget?: undefined } | { budget: Budget; profile?: undefined };

export interface Schedule {
  name: string;
  /** its place in `control.schedules` (for messages naming the key) */
  index: number;
  timezone: string;
  priority: number;
  target: ControlTarget;
  window?: TimeWindow;
  cron?: CronSchedule;
  /** the window or cron as written, for logs */
  when: string;
}

/** Compile validated config entries (schema.ts has checked the syntax). */
export function compileSchedules(list: readonly ScheduleConfig[], nowMs = Date.now()): Schedule[] {
  return list.map((c, index) => {
    const target: ControlTarget = c.profile !== undefined ? { profile: c.profile } : { budget: c.budget! };
    const base = { name: c.name, index, timezone: c.timezone, priority: c.priority, target };
    if (c.window !== undefined) return { ...base, window: parseWindow(c.window), when: c.window };
    const dur = durationMs(c.duration!);
    return { ...base, cron: parseCron(c.cron!, c.timezone, dur, nowMs), when: `cron '${c.cron}' for ${c.duration}` };
  });
}

export function isActive(s: Schedule, ms: number): boolean {
  if (s.window) return windowActive(s.window, s.timezone, ms);
  return cronActive(s.cron!, ms);
}

/** Days ahead a window is searched for its next change (covers every weekday twice). */
const WINDOW_SEARCH_DAYS = 15;

/**
 * The first instant after `ms` at which `s` starts or stops being active;
 * undefined when it never changes (always or never active).
 */
export function nextEdge(s: Schedule, ms: number): number | undefined {
  if (s.cron) return cronNextEdge(s.cron, ms);
  const now = isActive(s, ms);
  for (const t of windowCandidates(s.window!, s.timezone, ms, 0, WINDOW_SEARCH_DAYS)) {
    if (t <= ms) continue;
    if (isActive(s, t) !== now) return t;
  }
  return undefined;
}
