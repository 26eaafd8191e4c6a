/**
 * Which control applies at an instant. Precedence, from strongest:
 *
 *   1. a manual override (`nrdot profile set`, the API), until it expires;
 *   2. the active schedule with the highest `priority` (two schedules with
 *      the same priority that overlap are a config error, see overlap.ts; if
 *      one slips through, the one listed first wins and `conflict` names
 *      the other);
 *   3. the control loop (budget, no schedule).
 *
 * Pure functions of the instant, plus `ScheduleClock`, which holds the
 * override and a clock and says when the next change happens.
 */
import { type ControlTarget, isActive, nextEdge, type Schedule } from './schedule.js';

export interface ManualOverride {
  target: ControlTarget;
  /** when it stops applying (ms since the epoch); absent: until cleared */
  expiresAtMs?: number;
  /** who set it and why, for events and the audit log */
  who?: string;
  reason?: string;
}

export type ControlSource =
  | { source: 'manual'; target: ControlTarget; override: ManualOverride }
  | { source: 'schedule'; target: ControlTarget; schedule: Schedule; conflict?: Schedule }
  | { source: 'loop' };

export interface ActiveSchedule {
  schedule: Schedule;
  /** another active schedule of the same priority (a config the overlap check could not see) */
  conflict?: Schedule;
}

/** The schedule in force at `nowMs` (undefined: none active). */
export function activeSchedule(schedules: readonly Schedule[], nowMs: number): ActiveSchedule | undefined {
  let best: Schedule | undefined;
  let conflict: Schedule | undefined;
  for (const s of schedules) {
    if (!isActive(s, nowMs)) continue;
    if (!best || s.priority > best.priority) {
      best = s;
      conflict = undefined;
    } else if (s.priority === best.priority) {
      conflict ??= s;
    }
  }
  return best ? { schedule: best, ...(conflict ? { conflict } : {}) } : undefined;
}

export function overrideActive(o: ManualOverride | undefined, nowMs: number): o is ManualOverride {
  return o !== undefined && (o.expiresAtMs === undefined || nowMs < o.expiresAtMs);
}

/** What controls the profile or budget at `nowMs`. */
export function resolveControl(
  schedules: readonly Schedule[],
  override: ManualOverride | undefined,
  nowMs: number,
): ControlSource {
  if (overrideActive(override, nowMs)) return { source: 'manual', target: override.target, override };
  const a = activeSchedule(schedules, nowMs);
  if (a) return { source: 'schedule', target: a.schedule.target, schedule: a.schedule, conflict: a.conflict };
  return { source: 'loop' };
}

/** Two decisions are the same control (same source, same schedule or override, same target). */
export function sameControl(a: ControlSource, b: ControlSource): boolean {
  if (a.source !== b.source) return false;
  if (a.source === 'loop') return true;
  if (a.source === 'schedule' && b.source === 'schedule') return a.schedule === b.schedule;
  if (a.source === 'manual' && b.source === 'manual') return a.override === b.override;
  return false;
}

export interface ControlChange {
  atMs: number;
  to: ControlSource;
}

/** Edges followed before giving up on finding a change (each edge is one schedule starting or stopping). */
const MAX_EDGES = 512;

/**
 * When what `resolveControl` answers next changes after `nowMs`, and to
 * what; undefined when nothing will change (no edges ahead, within
 * MAX_EDGES schedule starts and stops).
 */
export function nextChange(
  schedules: readonly Schedule[],
  override: ManualOverride | undefined,
  nowMs: number,
): ControlChange | undefined {
  const current = resolveControl(schedules, override, nowMs);
  let t = nowMs;
  for (let k = 0; k < MAX_EDGES; k++) {
    let next = Number.POSITIVE_INFINITY;
    if (override?.expiresAtMs !== undefined && override.expiresAtMs > t) next = override.expiresAtMs;
    for (const s of schedules) {
      const e = nextEdge(s, t);
      if (e !== undefined && e < next) next = e;
    }
    if (next === Number.POSITIVE_INFINITY) return undefined;
    const to = resolveControl(schedules, override, next);
    if (!sameControl(current, to)) return { atMs: next, to };
    t = next;
  }
  return undefined;
}

/**
 * The schedules with a clock and the current manual override: what applies
 * now and when that changes, so the control loop can log "next change at …".
 */
export class ScheduleClock {
  private override: ManualOverride | undefined;

  constructor(
    readonly schedules: readonly Schedule[],
    private readonly now: () => number = Date.now,
  ) {}

  /** Set (or with undefined, clear) the manual override. */
  setOverride(o: ManualOverride | undefined): void {
    this.override = o;
  }

  /** The override while it applies (an expired one reads as none). */
  get manual(): ManualOverride | undefined {
    return overrideActive(this.override, this.now()) ? this.override : undefined;
  }

  current(): ControlSource {
    const t = this.now();
    if (this.override && !overrideActive(this.override, t)) this.override = undefined;
    return resolveControl(this.schedules, this.override, t);
  }

  nextChange(): ControlChange | undefined {
    return nextChange(this.schedules, this.manual, this.now());
  }
}
