/**
 * Cron schedules through croner (no hand-written parser): 5 fields (minute
 * hour day-of-month month day-of-week), 6 with seconds first, nicknames
 * (@daily, @weekly …), L, W and #. Day-of-month and day-of-week combine
 * with OR, as in Vixie cron.
 *
 * A cron schedule is active for `duration` of real (elapsed) time after
 * each time it fires. Across DST, croner's rule: a job at a single fixed time
 * (`30 2 * * *`) that falls in a gap fires at the first wall-clock time after
 * the gap (03:00 where 02:00-03:00 is skipped), and a fixed time that occurs
 * twice fires once, at its first occurrence; jobs with a wildcard or step in
 * their seconds, minutes or hours (`30 * * * *`) skip times in a gap and fire
 * on both occurrences of a repeated time, as an interval would.
 */
import { Cron } from 'croner';

export class CronSyntaxError extends Error {}

export interface CronSchedule {
  cron: Cron;
  durationMs: number;
  text: string;
}

/** Parse `text` in `zone`; throws CronSyntaxError saying what is wrong (or that it never fires). */
export function parseCron(text: string, zone: string, durationMs: number, fromMs = Date.now()): CronSchedule {
  let cron: Cron;
  try {
    cron = new Cron(text, { timezone: zone, paused: true, mode: 'auto' });
  } catch (e) {
    throw new CronSyntaxError(
      `invalid cron expression '${text}': ${(e as Error).message.replace(/^CronPattern: /, '')}`,
    );
  }
  let next: Date | null;
  try {
    next = cron.nextRun(new Date(fromMs));
  } catch (e) {
    throw new CronSyntaxError(`cron expression '${text}': ${(e as Error).message}`);
  }
  if (next === null) throw new CronSyntaxError(`cron expression '${text}' never fires`);
  return { cron, durationMs, text };
}

/** The first firing strictly after `ms`, or undefined. */
export function nextFiring(c: CronSchedule, ms: number): number | undefined {
  return c.cron.nextRun(new Date(ms))?.getTime();
}

/** The last firing at or before `ms`, or undefined. */
export function lastFiring(c: CronSchedule, ms: number): number | undefined {
  // previousRuns is strict: just after `ms` includes a firing at `ms`
  return c.cron.previousRuns(1, new Date(ms + 1))[0]?.getTime();
}

export function cronActive(c: CronSchedule, ms: number): boolean {
  const last = lastFiring(c, ms);
  return last !== undefined && ms < last + c.durationMs;
}

/**
 * An activation chained from overlapping firings that lasts longer than this
 * from now counts as always on (no edge ahead).
 */
export const MAX_CHAIN_MS = 35 * 86_400_000;

/**
 * The next instant after `ms` at which the schedule starts or stops being
 * active; undefined when it never changes again, or stays active for more
 * than MAX_CHAIN_MS through overlapping firings.
 */
export function cronNextEdge(c: CronSchedule, ms: number): number | undefined {
  let last = lastFiring(c, ms);
  if (last === undefined || ms >= last + c.durationMs) return nextFiring(c, ms);
  // active: jump to the last firing before the current end, until none extends it
  let end = last + c.durationMs;
  while (end - ms <= MAX_CHAIN_MS) {
    const l = lastFiring(c, end);
    if (l === undefined || l <= last) return end;
    last = l;
    end = l + c.durationMs;
  }
  return undefined;
}
