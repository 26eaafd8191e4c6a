/**
 * Overlaps between schedules of the same priority: a config error, since
 * nothing would say which one applies. Two schedules overlap when both are
 * active at one instant; if they do, one of them becomes active while the
 * other is (or both at once), so it is enough to test each one's
 * activation starts against the other.
 *
 * Searched from the time the config is loaded over the coming year (every
 * DST change in it), or the first MAX_SAMPLES activations of a schedule
 * that starts more often than that (a cron firing every few minutes). Give
 * the schedules different priorities and nothing needs checking.
 */
import { cronActive, nextFiring } from './cron.js';
import { isActive, type Schedule } from './schedule.js';
import { windowCandidates } from './window.js';

export const OVERLAP_HORIZON_DAYS = 366;
export const MAX_SAMPLES = 400;

/** Instants at which `s` is active, including every instant it becomes active, from `fromMs` on. */
function activeSamples(s: Schedule, fromMs: number): number[] {
  const until = fromMs + OVERLAP_HORIZON_DAYS * 86_400_000;
  const out: number[] = [];
  if (isActive(s, fromMs)) out.push(fromMs);
  if (s.cron) {
    for (let t = fromMs; out.length < MAX_SAMPLES; ) {
      const n = nextFiring(s.cron, t);
      if (n === undefined || n > until) break;
      if (cronActive(s.cron, n)) out.push(n);
      t = n;
    }
    return out;
  }
  for (const t of windowCandidates(s.window!, s.timezone, fromMs, 0, OVERLAP_HORIZON_DAYS)) {
    if (out.length >= MAX_SAMPLES) break;
    if (t > fromMs && t <= until && isActive(s, t)) out.push(t);
  }
  return out;
}

export interface Overlap {
  a: Schedule;
  b: Schedule;
  /** an instant at which both are active */
  atMs: number;
}

/** An instant at which both are active, or undefined. */
export function overlapOf(a: Schedule, b: Schedule, fromMs: number): number | undefined {
  for (const t of activeSamples(a, fromMs)) if (isActive(b, t)) return t;
  for (const t of activeSamples(b, fromMs)) if (isActive(a, t)) return t;
  return undefined;
}

/** The first pair of same-priority schedules that overlap, in list order. */
export function findOverlap(schedules: readonly Schedule[], fromMs: number): Overlap | undefined {
  for (let i = 0; i < schedules.length; i++) {
    for (let j = i + 1; j < schedules.length; j++) {
      const a = schedules[i]!;
      const b = schedules[j]!;
      if (a.priority !== b.priority) continue;
      const at = overlapOf(a, b, fromMs);
      if (at !== undefined) return { a, b, atMs: at };
    }
  }
  return undefined;
}
