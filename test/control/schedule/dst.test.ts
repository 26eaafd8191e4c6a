/**
 * Schedules at their boundaries and across DST, on injected instants (no
 * sleeping, no wall clock). Europe/Berlin in 2026: clocks spring forward on
 * Sunday 29 March at 02:00 CET (01:00Z) to 03:00 CEST, and fall back on
 * Sunday 25 October at 03:00 CEST (01:00Z) to 02:00 CET.
 */
import { describe, expect, it } from 'vitest';
import { compileSchedules, isActive, nextEdge, type Schedule } from '../../../src/control/schedule/index.js';

const Z = (iso: string) => Date.parse(iso);
const MIN = 60_000;

function one(over: Record<string, unknown>): Schedule {
  return compileSchedules([{ name: 's', timezone: 'Europe/Berlin', profile: 'aggressive', priority: 0, ...over }])[0]!;
}

/** The instants (ISO, UTC) at which `s` starts or stops, from `from` until `until`. */
function edges(s: Schedule, from: string, until: string): string[] {
  const out: string[] = [];
  for (let t = Z(from); out.length < 50; ) {
    const e = nextEdge(s, t);
    if (e === undefined || e > Z(until)) break;
    out.push(`${isActive(s, e) ? 'on' : 'off'} ${new Date(e).toISOString().slice(0, 16)}`);
    t = e;
  }
  return out;
}

describe('windows: the wall clock in their zone', () => {
  it('Mon-Fri 08:00-18:00 switches exactly at its boundaries', () => {
    const s = one({ window: 'Mon-Fri 08:00-18:00' });
    // Friday 6 March 2026, CET (UTC+1)
    expect(isActive(s, Z('2026-03-06T06:59:59.999Z'))).toBe(false);
    expect(isActive(s, Z('2026-03-06T07:00:00Z'))).toBe(true);
    expect(isActive(s, Z('2026-03-06T16:59:59Z'))).toBe(true);
    expect(isActive(s, Z('2026-03-06T17:00:00Z'))).toBe(false);
    // the weekend, then Monday
    expect(edges(s, '2026-03-06T12:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
      'off 2026-03-06T17:00',
      'on 2026-03-09T07:00',
      'off 2026-03-09T17:00',
    ]);
  });

  it('Mon-Fri 01:00-03:00 keeps its local times on the weeks of both changes', () => {
    const s = one({ window: 'Mon-Fri 01:00-03:00' });
    // Friday before spring (CET), Monday after (CEST): one hour earlier in UTC
    expect(edges(s, '2026-03-27T00:00:00Z', '2026-03-30T12:00:00Z')).toEqual([
      'off 2026-03-27T02:00',
      'on 2026-03-29T23:00', // Monday 01:00 CEST
      'off 2026-03-30T01:00',
    ]);
    // Friday before autumn (CEST), Monday after (CET)
    expect(edges(s, '2026-10-22T23:30:00Z', '2026-10-26T12:00:00Z')).toEqual([
      'off 2026-10-23T01:00',
      'on 2026-10-26T00:00',
      'off 2026-10-26T02:00',
    ]);
  });

  it('01:00-03:00 on the change days: one real hour in spring, three in autumn', () => {
    const s = one({ window: '01:00-03:00' });
    expect(edges(s, '2026-03-28T22:00:00Z', '2026-03-29T12:00:00Z')).toEqual([
      'on 2026-03-29T00:00', // 01:00 CET
      'off 2026-03-29T01:00', // 03:00 CEST: 02:00-03:00 never shows
    ]);
    expect(edges(s, '2026-10-24T20:00:00Z', '2026-10-25T12:00:00Z')).toEqual([
      'on 2026-10-24T23:00', // 01:00 CEST
      'off 2026-10-25T02:00', // 03:00 CET, after 02:00-03:00 showed twice
    ]);
  });

  it('a window ending inside the repeated hour is active during both 02:00-02:30', () => {
    const s = one({ window: 'Sun 01:00-02:30' });
    expect(edges(s, '2026-10-24T20:00:00Z', '2026-10-25T12:00:00Z')).toEqual([
      'on 2026-10-24T23:00', // 01:00 CEST
      'off 2026-10-25T00:30', // 02:30 CEST
      'on 2026-10-25T01:00', // 02:00 CET: the wall clock reads 02:00 again
      'off 2026-10-25T01:30', // 02:30 CET
    ]);
  });

  it('a window starting inside the skipped hour starts when the gap ends', () => {
    const s = one({ window: 'Sun 02:15-04:00' });
    expect(edges(s, '2026-03-28T22:00:00Z', '2026-03-29T12:00:00Z')).toEqual([
      'on 2026-03-29T01:00', // 03:00 CEST, the first wall time after 02:15
      'off 2026-03-29T02:00', // 04:00 CEST
    ]);
  });

  it('past midnight: Fri 22:00-06:00 covers Friday night into Saturday, not Monday morning', () => {
    const s = one({ window: 'Fri 22:00-06:00', timezone: 'UTC' });
    expect(isActive(s, Z('2026-03-06T23:00:00Z'))).toBe(true); // Friday night
    expect(isActive(s, Z('2026-03-07T05:59:00Z'))).toBe(true); // Saturday morning
    expect(isActive(s, Z('2026-03-07T06:00:00Z'))).toBe(false);
    expect(isActive(s, Z('2026-03-09T03:00:00Z'))).toBe(false); // Monday morning
    expect(isActive(s, Z('2026-03-06T03:00:00Z'))).toBe(false); // Friday morning (Thursday is not listed)
  });

  it('Sat-Sun is whole days; other zones have their own changes (New York, 8 March and 1 November 2026)', () => {
    const s = one({ window: 'Sat-Sun', timezone: 'America/New_York' });
    expect(edges(s, '2026-03-06T12:00:00Z', '2026-03-10T00:00:00Z')).toEqual([
      'on 2026-03-07T05:00', // Saturday 00:00 EST
      'off 2026-03-09T04:00', // Monday 00:00 EDT: the weekend was an hour shorter
    ]);
    expect(edges(s, '2026-10-30T12:00:00Z', '2026-11-03T00:00:00Z')).toEqual([
      'on 2026-10-31T04:00', // Saturday 00:00 EDT
      'off 2026-11-02T05:00', // Monday 00:00 EST
    ]);
  });
});

describe('cron: fires in its zone, active for its duration', () => {
  it('30 2 * * * fires at 03:00 on the day 02:30 does not exist, once on the day it exists twice', () => {
    const s = one({ cron: '30 2 * * *', duration: '1h' });
    expect(edges(s, '2026-03-27T12:00:00Z', '2026-03-30T12:00:00Z')).toEqual([
      'on 2026-03-28T01:30', // 02:30 CET
      'off 2026-03-28T02:30',
      'on 2026-03-29T01:00', // no 02:30 that day: 03:00 CEST, the end of the gap
      'off 2026-03-29T02:00',
      'on 2026-03-30T00:30', // 02:30 CEST
      'off 2026-03-30T01:30',
    ]);
    expect(edges(s, '2026-10-24T12:00:00Z', '2026-10-26T12:00:00Z')).toEqual([
      'on 2026-10-25T00:30', // the first 02:30 (CEST) ...
      'off 2026-10-25T01:30', // ... and not the second (CET), which starts just as this one ends
      'on 2026-10-26T01:30', // 02:30 CET
      'off 2026-10-26T02:30',
    ]);
  });

  it('an hourly cron skips the missing 02:30 and fires on both 02:30s', () => {
    const s = one({ cron: '30 * * * *', duration: '10m' });
    const starts = (from: string, until: string) =>
      edges(s, from, until)
        .filter((e) => e.startsWith('on'))
        .map((e) => e.slice(3));
    expect(starts('2026-03-28T23:45:00Z', '2026-03-29T02:45:00Z')).toEqual([
      '2026-03-29T00:30', // 01:30 CET
      '2026-03-29T01:30', // 03:30 CEST (02:30 does not exist)
      '2026-03-29T02:30',
    ]);
    expect(starts('2026-10-24T23:45:00Z', '2026-10-25T02:45:00Z')).toEqual([
      '2026-10-25T00:30', // 02:30 CEST
      '2026-10-25T01:30', // 02:30 CET
      '2026-10-25T02:30', // 03:30 CET
    ]);
  });

  it('overlapping firings make one long activation', () => {
    const s = one({ cron: '0 */2 * * *', duration: '3h', timezone: 'UTC' });
    expect(isActive(s, Z('2026-03-06T05:00:00Z'))).toBe(true);
    expect(nextEdge(s, Z('2026-03-06T05:00:00Z'))).toBeUndefined(); // always active from here on
    const short = one({ cron: '0 */2 * * *', duration: '2h', timezone: 'UTC' });
    expect(nextEdge(short, Z('2026-03-06T05:00:00Z'))).toBeUndefined(); // back to back: never off
    const gap = one({ cron: '0 */2 * * *', duration: '90m', timezone: 'UTC' });
    expect(nextEdge(gap, Z('2026-03-06T04:10:00Z'))).toBe(Z('2026-03-06T05:30:00Z'));
    expect(nextEdge(gap, Z('2026-03-06T05:30:00Z'))).toBe(Z('2026-03-06T06:00:00Z'));
  });

  it('is exact to the millisecond at its boundaries', () => {
    const s = one({ cron: '0 8 * * 1-5', duration: '30m', timezone: 'UTC' });
    expect(isActive(s, Z('2026-03-06T08:00:00Z') - 1)).toBe(false);
    expect(isActive(s, Z('2026-03-06T08:00:00Z'))).toBe(true);
    expect(isActive(s, Z('2026-03-06T08:30:00Z') - 1)).toBe(true);
    expect(isActive(s, Z('2026-03-06T08:30:00Z'))).toBe(false);
    expect(isActive(s, Z('2026-03-07T08:10:00Z'))).toBe(false); // Saturday
    expect(Z('2026-03-06T08:30:00Z') - Z('2026-03-06T08:00:00Z')).toBe(30 * MIN);
  });
});

describe('America/New_York: spring forward 8 March 2026 (02:00 EST -> 03:00 EDT, 07:00Z), fall back 1 November (02:00 EDT -> 01:00 EST, 06:00Z)', () => {
  const ny = (over: Record<string, unknown>) => one({ timezone: 'America/New_York', ...over });

  it('a window over the change: one real hour in spring, three in autumn', () => {
    const s = ny({ window: 'Sun 01:00-03:00' });
    expect(edges(s, '2026-03-08T00:00:00Z', '2026-03-08T12:00:00Z')).toEqual([
      'on 2026-03-08T06:00', // 01:00 EST
      'off 2026-03-08T07:00', // 03:00 EDT
    ]);
    expect(edges(s, '2026-11-01T00:00:00Z', '2026-11-01T12:00:00Z')).toEqual([
      'on 2026-11-01T05:00', // 01:00 EDT
      'off 2026-11-01T08:00', // 03:00 EST, after 01:00-02:00 showed twice
    ]);
  });

  it('a window inside the repeated hour is active twice; one inside the skipped hour starts at the gap end', () => {
    expect(edges(ny({ window: 'Sun 01:10-01:50' }), '2026-11-01T00:00:00Z', '2026-11-01T12:00:00Z')).toEqual([
      'on 2026-11-01T05:10', // 01:10 EDT
      'off 2026-11-01T05:50',
      'on 2026-11-01T06:10', // 01:10 EST
      'off 2026-11-01T06:50',
    ]);
    // 02:10-02:50 does not exist on 8 March: the gap ends at 03:00 EDT, after the window's end: never active
    const gap = ny({ window: 'Sun 02:10-02:50' });
    expect(edges(gap, '2026-03-08T00:00:00Z', '2026-03-08T12:00:00Z')).toEqual([]);
    expect(isActive(gap, Z('2026-03-08T07:00:00Z'))).toBe(false);
  });

  it('cron at a fixed local time: at the gap end in spring, once in the repeated hour in autumn', () => {
    expect(edges(ny({ cron: '30 2 * * *', duration: '15m' }), '2026-03-07T00:00:00Z', '2026-03-09T12:00:00Z')).toEqual([
      'on 2026-03-07T07:30', // 02:30 EST
      'off 2026-03-07T07:45',
      'on 2026-03-08T07:00', // 03:00 EDT: no 02:30 that day
      'off 2026-03-08T07:15',
      'on 2026-03-09T06:30', // 02:30 EDT
      'off 2026-03-09T06:45',
    ]);
    expect(edges(ny({ cron: '30 1 * * *', duration: '15m' }), '2026-11-01T00:00:00Z', '2026-11-02T12:00:00Z')).toEqual([
      'on 2026-11-01T05:30', // the first 01:30 (EDT) only
      'off 2026-11-01T05:45',
      'on 2026-11-02T06:30', // 01:30 EST
      'off 2026-11-02T06:45',
    ]);
  });

  it('Mon-Fri 08:00-18:00 keeps 08:00 local across the change: 13:00Z before, 12:00Z after', () => {
    const s = ny({ window: 'Mon-Fri 08:00-18:00' });
    expect(isActive(s, Z('2026-03-06T12:59:00Z'))).toBe(false); // Friday 07:59 EST
    expect(isActive(s, Z('2026-03-06T13:00:00Z'))).toBe(true);
    expect(isActive(s, Z('2026-03-09T11:59:00Z'))).toBe(false); // Monday 07:59 EDT
    expect(isActive(s, Z('2026-03-09T12:00:00Z'))).toBe(true);
    expect(isActive(s, Z('2026-03-09T21:59:00Z'))).toBe(true); // 17:59 EDT
    expect(isActive(s, Z('2026-03-09T22:00:00Z'))).toBe(false);
  });
});
