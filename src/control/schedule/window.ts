/**
 * Time windows: `"Mon-Fri 08:00-18:00"`, `"Sat-Sun"`, `"22:00-06:00"`,
 * `"Mon,Wed,Fri 12:00-13:00"`, `"Fri-Mon"`.
 *
 *   window   = [days] [time "-" time]        (at least one of the two)
 *   days     = day-range ("," day-range)*    (Mon..Sun, or the full names; a range may wrap: Fri-Mon)
 *   time     = HH:MM, 00:00 to 24:00
 *
 * Without days: every day. Without times: the whole day (00:00-24:00). An
 * end at or before the start runs past midnight, and the days name the day
 * the window starts (`Fri 22:00-06:00` covers Friday night into Saturday).
 *
 * Semantics in a time zone: the window is active whenever the wall clock
 * there reads a day and a time inside it. On the day clocks spring forward
 * the skipped hour simply never shows (a 01:00-03:00 window lasts one real
 * hour); on the day they fall back the repeated hour shows twice (01:00-03:00
 * lasts three real hours, and a window ending at 02:30 is active again for
 * the second 02:00-02:30).
 */
import { instantsOf, transitionsOn, type WallClock, wallClock, wallDay } from './zone.js';

export interface TimeWindow {
  /** days[0] = Sunday … days[6] = Saturday: the days the window starts on */
  days: boolean[];
  /** minutes since midnight: start in [0, 1440), end in (0, 1440] */
  startMin: number;
  endMin: number;
  /** as written */
  text: string;
}

const DAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FULL_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const SYNTAX = `expected a window like 'Mon-Fri 08:00-18:00', 'Sat-Sun' or '22:00-06:00'`;

export class WindowSyntaxError extends Error {}

function dayIndex(s: string): number {
  const l = s.toLowerCase();
  const i = DAY_NAMES.indexOf(l);
  if (i >= 0) return i;
  const j = FULL_NAMES.indexOf(l);
  if (j >= 0) return j;
  throw new WindowSyntaxError(`unknown day '${s}' (Mon, Tue, Wed, Thu, Fri, Sat, Sun): ${SYNTAX}`);
}

function parseDays(s: string): boolean[] {
  const days = new Array<boolean>(7).fill(false);
  for (const part of s.split(',')) {
    const range = part.trim();
    if (range === '') throw new WindowSyntaxError(`empty day in '${s}': ${SYNTAX}`);
    const [a, b, extra] = range.split('-');
    if (extra !== undefined) throw new WindowSyntaxError(`'${range}' is not a day or a day range: ${SYNTAX}`);
    const from = dayIndex(a!.trim());
    const to = b === undefined ? from : dayIndex(b.trim());
    for (let d = from; ; d = (d + 1) % 7) {
      days[d] = true;
      if (d === to) break;
    }
  }
  return days;
}

function parseTime(s: string, what: string): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(s);
  if (!m) throw new WindowSyntaxError(`${what} '${s}' is not HH:MM: ${SYNTAX}`);
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) {
    throw new WindowSyntaxError(`${what} '${s}' is not a time of day (00:00 to 24:00)`);
  }
  return h * 60 + min;
}

const TIMES = /^(\S+)\s*-\s*(\S+)$/;

/** Parse a window; throws WindowSyntaxError saying what is wrong. */
export function parseWindow(text: string): TimeWindow {
  const t = text.trim();
  if (t === '') throw new WindowSyntaxError(`an empty window: ${SYNTAX}`);
  // the times are the last word when it has a ':' or starts with a digit; the rest are days
  const words = t.split(/\s+/);
  let daysText = t;
  let timesText: string | undefined;
  const last = words.at(-1)!;
  if (last.includes(':') || /^\d/.test(last)) {
    timesText = last;
    daysText = words.slice(0, -1).join(' ');
    // "08:00 - 18:00" written with spaces
    if (words.length >= 3 && words.at(-2) === '-') {
      timesText = `${words.at(-3)}-${last}`;
      daysText = words.slice(0, -3).join(' ');
    }
  }
  const days = daysText === '' ? new Array<boolean>(7).fill(true) : parseDays(daysText.replace(/\s*,\s*/g, ','));
  let startMin = 0;
  let endMin = 1440;
  if (timesText !== undefined) {
    const m = TIMES.exec(timesText);
    if (!m) throw new WindowSyntaxError(`'${timesText}' is not a time range HH:MM-HH:MM: ${SYNTAX}`);
    startMin = parseTime(m[1]!, 'start');
    endMin = parseTime(m[2]!, 'end');
    if (startMin === 1440) throw new WindowSyntaxError(`start '${m[1]}' is 24:00: a window starts before midnight`);
    if (startMin === endMin) {
      throw new WindowSyntaxError(
        `'${timesText}' starts and ends at the same time (for the whole day leave the times out)`,
      );
    }
    if (endMin === 0) endMin = 1440;
  }
  return { days, startMin, endMin, text: t };
}

/** Whether the window is active at the wall clock `w`. */
export function windowActiveAt(win: TimeWindow, w: WallClock): boolean {
  const m = w.minuteOfDay;
  if (win.startMin < win.endMin) return win.days[w.weekday]! && m >= win.startMin && m < win.endMin;
  // past midnight: the evening of a listed day, or the morning after one
  if (win.days[w.weekday]! && m >= win.startMin) return true;
  return win.days[(w.weekday + 6) % 7]! && m < win.endMin;
}

export function windowActive(win: TimeWindow, zone: string, ms: number): boolean {
  return windowActiveAt(win, wallClock(zone, ms));
}

/**
 * Every instant in the wall-clock days `fromDay`..`toDay` (relative to the
 * day of `ms`) at which the window may start or stop: its start and end on
 * each day (both occurrences in a fold, the gap's end in a gap) and the
 * zone's offset changes. Between two of them the window's state is constant.
 */
export function windowCandidates(win: TimeWindow, zone: string, ms: number, fromDay: number, toDay: number): number[] {
  const w = wallClock(zone, ms);
  const out: number[] = [];
  for (let d = fromDay; d <= toDay; d++) {
    const midnight = wallDay(w, d);
    for (const min of [win.startMin, win.endMin]) {
      const r = instantsOf(zone, midnight + min * 60_000);
      out.push(...r.instants);
      if (r.gapEnd !== undefined) out.push(r.gapEnd);
    }
    out.push(...transitionsOn(zone, midnight));
  }
  return out.sort((a, b) => a - b);
}
