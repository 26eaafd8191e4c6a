/**
 * The schedules of one config, as the control loop asks them: which one is
 * active now (flattened to what it sets), what controls the profile or the
 * budget given a manual override (precedence: resolveControl), and when
 * that next changes.
 */
import {
  activeSchedule,
  type ControlChange,
  type ControlSource,
  type ManualOverride,
  nextChange,
  resolveControl,
} from './active.js';
import { checkSchedules } from './check.js';
import type { Budget, ScheduleConfig } from './config.js';
import { compileSchedules, type Schedule } from './schedule.js';

export interface ActiveTarget {
  /** the schedule's name */
  name: string;
  /** what it sets: a profile or a budget */
  profile?: string;
  budget?: Budget;
  priority: number;
  /** another active schedule of the same priority (only when the overlap check was skipped) */
  conflict?: string;
}

export class ScheduleSet {
  constructor(readonly schedules: readonly Schedule[]) {}

  /**
   * From `control.schedules`, checked as `config validate` does (unknown
   * profiles, overlaps: NrdotError naming `file` and the key, exit 2).
   */
  static fromConfig(
    list: readonly ScheduleConfig[],
    profiles: readonly string[],
    file: string,
    nowMs: number,
  ): ScheduleSet {
    return new ScheduleSet(checkSchedules(list, profiles, file, nowMs));
  }

  /** From entries the config schema has validated, without the cross-entry checks (tests, simulate). */
  static compile(list: readonly ScheduleConfig[], nowMs?: number): ScheduleSet {
    return new ScheduleSet(compileSchedules(list, nowMs));
  }

  get size(): number {
    return this.schedules.length;
  }

  /** The schedule in force at `nowMs`, or undefined when none is. */
  active(nowMs: number): ActiveTarget | undefined {
    const a = activeSchedule(this.schedules, nowMs);
    if (!a) return undefined;
    const s = a.schedule;
    return {
      name: s.name,
      priority: s.priority,
      ...(s.target.profile !== undefined ? { profile: s.target.profile } : { budget: s.target.budget }),
      ...(a.conflict ? { conflict: a.conflict.name } : {}),
    };
  }

  /** Precedence at `nowMs`: the override while it applies, else the active schedule, else the loop. */
  resolve(override: ManualOverride | undefined, nowMs: number): ControlSource {
    return resolveControl(this.schedules, override, nowMs);
  }

  /** When what resolve() answers next changes, and to what (undefined: never, as far as it looks). */
  nextChange(override: ManualOverride | undefined, nowMs: number): ControlChange | undefined {
    return nextChange(this.schedules, override, nowMs);
  }
}
