/**
 * Time zones through Intl (Node ships full ICU): the UTC offset of a zone at
 * an instant, the wall clock there, and the instants a wall-clock time
 * stands for on a given date (none in a DST gap, two in a DST fold).
 */

const DAY_MS = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

function format(zone: string): Intl.DateTimeFormat {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      era: 'short',
    });
    formats.set(zone, f);
  }
  return f;
}

/** Why `zone` is not a time zone Intl knows, or undefined when it is. */
export function zoneProblem(zone: string): string | undefined {
  try {
    format(zone);
    return undefined;
  } catch {
    return `unknown time zone '${zone}' (an IANA name such as Europe/Berlin, America/New_York or UTC)`;
  }
}

/** Offset of `zone` from UTC at instant `ms`, in ms (wall = ms + offset). Whole seconds. */
export function offsetMs(zone: string, ms: number): number {
  const t = Math.floor(ms / 1000) * 1000;
  const p: Record<string, string> = {};
  for (const part of format(zone).formatToParts(new Date(t))) p[part.type] = part.value;
  let year = Number(p.year);
  if (p.era === 'BC' || p.era === 'B') year = 1 - year;
  const wall = Date.UTC(year, Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return wall - t;
}

export interface WallClock {
  /** the wall clock as a UTC-based count of ms (for calendar arithmetic only) */
  wallMs: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
  /** minutes since local midnight, with the seconds as a fraction */
  minuteOfDay: number;
  /** local calendar date */
  year: number;
  month: number;
  day: number;
}

export function wallClock(zone: string, ms: number): WallClock {
  const wallMs = ms + offsetMs(zone, ms);
  const dayNo = Math.floor(wallMs / DAY_MS);
  const d = new Date(dayNo * DAY_MS);
  return {
    wallMs,
    weekday: (((dayNo + 4) % 7) + 7) % 7, // 1970-01-01 was a Thursday
    minuteOfDay: (wallMs - dayNo * DAY_MS) / 60_000,
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
  };
}

/** The local midnight (as a wall-clock ms count) of the day `days` after the day of `w`. */
export function wallDay(w: WallClock, days: number): number {
  return (Math.floor(w.wallMs / DAY_MS) + days) * DAY_MS;
}

/**
 * The instant at which the offset of `zone` changes between `lo` (old
 * offset) and `hi` (new offset), to the second.
 */
function transitionBetween(zone: string, lo: number, hi: number): number {
  const before = offsetMs(zone, lo);
  let a = Math.floor(lo / 1000);
  let b = Math.ceil(hi / 1000);
  while (b - a > 1) {
    const m = Math.floor((a + b) / 2);
    if (offsetMs(zone, m * 1000) === before) a = m;
    else b = m;
  }
  return b * 1000;
}

/**
 * The instants at which the wall clock of `zone` reads `wallMs` (a
 * wall-clock ms count, e.g. a local midnight plus minutes): one, two (a
 * fold: the earlier first), or none in a gap; for a gap `gapEnd` is the
 * instant the gap ends (the first wall-clock time after it).
 */
export function instantsOf(zone: string, wallMs: number): { instants: number[]; gapEnd?: number } {
  const o1 = offsetMs(zone, wallMs - DAY_MS);
  const o2 = offsetMs(zone, wallMs + DAY_MS);
  const out: number[] = [];
  for (const o of o1 === o2 ? [o1] : [o1, o2]) {
    const t = wallMs - o;
    if (offsetMs(zone, t) === o && !out.includes(t)) out.push(t);
  }
  out.sort((a, b) => a - b);
  if (out.length > 0 || o1 === o2) return { instants: out };
  // a gap: the wall clock jumps over wallMs
  const a = wallMs - Math.max(o1, o2);
  const b = wallMs - Math.min(o1, o2);
  return { instants: [], gapEnd: transitionBetween(zone, a, b) };
}

/**
 * Offset changes of `zone` during the wall-clock day starting at
 * `dayWallMs` (a local midnight), as instants (at most one in practice).
 */
export function transitionsOn(zone: string, dayWallMs: number): number[] {
  const lo = dayWallMs - offsetMs(zone, dayWallMs - DAY_MS / 2) - DAY_MS / 4;
  const hi = lo + DAY_MS + DAY_MS / 2;
  if (offsetMs(zone, lo) === offsetMs(zone, hi)) return [];
  return [transitionBetween(zone, lo, hi)];
}
