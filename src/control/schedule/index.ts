/**
 * Schedules: time windows and cron expressions, each in a time zone, that
 * set the profile or the budget; and which control applies at an instant
 * (manual override > schedule by priority > the control loop).
 *
 *   compileSchedules(config.control.schedules)  ->  Schedule[]
 *   activeSchedule(schedules, nowMs)            ->  { schedule, conflict? } | undefined
 *   resolveControl(schedules, override, nowMs)  ->  manual | schedule | loop
 *   nextChange(schedules, override, nowMs)      ->  { atMs, to } | undefined
 *   new ScheduleClock(schedules, now)           ->  current(), nextChange(), setOverride()
 *   ScheduleSet.fromConfig(list, profiles, file, nowMs)  ->  active(nowMs), resolve(override, nowMs), nextChange(...)
 */
export {
  type ActiveSchedule,
  activeSchedule,
  type ControlChange,
  type ControlSource,
  type ManualOverride,
  nextChange,
  overrideActive,
  resolveControl,
  ScheduleClock,
  sameControl,
} from './active.js';
export { checkSchedules } from './check.js';
export { type Budget, budgetSchema, type ScheduleConfig, scheduleSchema, schedulesSchema } from './config.js';
export { findOverlap, type Overlap, overlapOf } from './overlap.js';
export { type ControlTarget, compileSchedules, isActive, nextEdge, type Schedule } from './schedule.js';
export { type ActiveTarget, ScheduleSet } from './set.js';
export { parseWindow, type TimeWindow } from './window.js';
