/**
 * The checks of `control.schedules` that need more than one entry: every
 * profile a schedule sets exists, and no two schedules of the same priority
 * overlap. Errors name the file and the key and exit 2.
 */
import { unknownProfile } from '../../config/unknown-profile.js';
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import type { ScheduleConfig } from './config.js';
import { findOverlap } from './overlap.js';
import { compileSchedules, type Schedule } from './schedule.js';

function at(ms: number, zone: string): string {
  const local = new Intl.DateTimeFormat('sv-SE', {
    timeZone: zone,
    dateStyle: 'short',
    timeStyle: 'short',
  }).format(new Date(ms));
  return `${local} ${zone}`;
}

/**
 * Check and compile the schedules. `profiles`: the names the config defines;
 * `nowMs`: where the overlap search starts (config load time).
 */
export function checkSchedules(
  list: readonly ScheduleConfig[],
  profiles: readonly string[],
  file: string,
  nowMs: number,
): Schedule[] {
  list.forEach((s, i) => {
    if (s.profile !== undefined && !profiles.includes(s.profile)) {
      throw unknownProfile(
        s.profile,
        profiles,
        `${file}: 'control.schedules.${i}.profile'`,
        ` in schedule '${s.name}'`,
      );
    }
  });
  const schedules = compileSchedules(list, nowMs);
  const o = findOverlap(schedules, nowMs);
  if (o) {
    throw new NrdotError(
      ErrorCodes.CONFIG_INVALID,
      `${file}: 'control.schedules': schedules '${o.a.name}' (control.schedules.${o.a.index}) and '${o.b.name}' ` +
        `(control.schedules.${o.b.index}) overlap with the same priority ${o.a.priority} ` +
        `(both active at ${at(o.atMs, o.a.timezone)}): give the one that should win a higher 'priority'`,
    );
  }
  return schedules;
}
