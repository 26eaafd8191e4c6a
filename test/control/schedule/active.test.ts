/**
 * Which control applies: a manual override outranks schedules and expires;
 * among schedules the higher priority wins; with none active, the loop. The
 * ScheduleClock says when the next change happens and to what, on an
 * injected clock.
 */
import { describe, expect, it } from 'vitest';
import {
  activeSchedule,
  type ControlSource,
  compileSchedules,
  nextChange,
  resolveControl,
  ScheduleClock,
  ScheduleSet,
} from '../../../src/control/schedule/index.js';
import { ErrorCodes, NrdotError } from '../../../src/core/errors.js';

const Z = (iso: string) => Date.parse(iso);

const schedules = compileSchedules([
  { name: 'office', window: 'Mon-Fri 08:00-18:00', timezone: 'Europe/Berlin', profile: 'conservative', priority: 0 },
  { name: 'weekend', window: 'Sat-Sun', timezone: 'Europe/Berlin', budget: { usd_per_hour: 0.05 }, priority: 0 },
  { name: 'backup', cron: '0 12 * * *', duration: '1h', timezone: 'Europe/Berlin', profile: 'aggressive', priority: 5 },
]);

function label(c: ControlSource): string {
  if (c.source === 'loop') return 'loop';
  if (c.source === 'manual') return `manual:${c.target.profile ?? JSON.stringify(c.target.budget)}`;
  return `schedule:${c.schedule.name}`;
}

describe('precedence', () => {
  it('schedules by priority, the loop when none is active', () => {
    // Tuesday 3 March 2026, CET
    expect(label(resolveControl(schedules, undefined, Z('2026-03-03T09:00:00Z')))).toBe('schedule:office');
    expect(label(resolveControl(schedules, undefined, Z('2026-03-03T11:30:00Z')))).toBe('schedule:backup'); // 12:30 CET
    expect(label(resolveControl(schedules, undefined, Z('2026-03-03T20:00:00Z')))).toBe('loop');
    const sat = resolveControl(schedules, undefined, Z('2026-03-07T09:00:00Z'));
    expect(sat.source === 'schedule' && sat.target.budget).toEqual({ usd_per_hour: 0.05 });
    expect(activeSchedule(schedules, Z('2026-03-03T20:00:00Z'))).toBeUndefined();
  });

  it('a manual override outranks every schedule until it expires', () => {
    const override = { target: { profile: 'emergency' }, expiresAtMs: Z('2026-03-03T11:45:00Z'), who: 'ops' };
    expect(label(resolveControl(schedules, override, Z('2026-03-03T11:30:00Z')))).toBe('manual:emergency');
    expect(label(resolveControl(schedules, override, Z('2026-03-03T11:44:59.999Z')))).toBe('manual:emergency');
    expect(label(resolveControl(schedules, override, Z('2026-03-03T11:45:00Z')))).toBe('schedule:backup');
    // without an expiry it stays
    expect(label(resolveControl(schedules, { target: { profile: 'emergency' } }, Z('2027-01-01T00:00:00Z')))).toBe(
      'manual:emergency',
    );
  });

  it('two active schedules of the same priority: the first listed wins and the other is named', () => {
    const clash = compileSchedules([
      { name: 'a', window: '08:00-10:00', timezone: 'UTC', profile: 'balanced', priority: 1 },
      { name: 'b', window: '09:00-11:00', timezone: 'UTC', profile: 'aggressive', priority: 1 },
    ]);
    const a = activeSchedule(clash, Z('2026-03-03T09:30:00Z'))!;
    expect(a.schedule.name).toBe('a');
    expect(a.conflict?.name).toBe('b');
    expect(activeSchedule(clash, Z('2026-03-03T10:30:00Z'))).toEqual({ schedule: clash[1] });
  });
});

describe('ScheduleClock: what applies now and when that changes', () => {
  it('walks through a day with an override, on an injected clock', () => {
    let now = Z('2026-03-03T06:00:00Z'); // Tuesday 07:00 CET
    const clock = new ScheduleClock(schedules, () => now);
    const step = () => {
      const next = clock.nextChange();
      expect(next, `a change after ${new Date(now).toISOString()}`).toBeDefined();
      now = next!.atMs;
      return `${new Date(now).toISOString().slice(11, 16)} ${label(clock.current())}`;
    };
    expect(label(clock.current())).toBe('loop');
    expect(step()).toBe('07:00 schedule:office');
    expect(step()).toBe('11:00 schedule:backup');
    expect(step()).toBe('12:00 schedule:office');
    // an operator pins a profile for 30 minutes
    clock.setOverride({ target: { profile: 'emergency' }, expiresAtMs: now + 30 * 60_000, reason: 'incident' });
    expect(label(clock.current())).toBe('manual:emergency');
    expect(clock.manual?.reason).toBe('incident');
    expect(step()).toBe('12:30 schedule:office'); // the override expired
    expect(clock.manual).toBeUndefined();
    expect(step()).toBe('17:00 loop');
    expect(step()).toBe('07:00 schedule:office'); // Wednesday
  });

  it('a change that leaves the winner unchanged is not a change', () => {
    const nested = compileSchedules([
      { name: 'day', window: '06:00-22:00', timezone: 'UTC', profile: 'conservative', priority: 9 },
      { name: 'noon', window: '11:00-13:00', timezone: 'UTC', profile: 'aggressive', priority: 1 },
    ]);
    // 'noon' starts and stops inside 'day', which outranks it
    expect(nextChange(nested, undefined, Z('2026-03-03T07:00:00Z'))).toEqual({
      atMs: Z('2026-03-03T22:00:00Z'),
      to: { source: 'loop' },
    });
  });

  it('nothing ahead: no change', () => {
    const always = compileSchedules([
      { name: 'x', window: 'Mon-Sun', timezone: 'UTC', profile: 'balanced', priority: 0 },
    ]);
    expect(nextChange(always, undefined, Z('2026-03-03T07:00:00Z'))).toBeUndefined();
    expect(nextChange([], undefined, Z('2026-03-03T07:00:00Z'))).toBeUndefined();
    expect(
      nextChange(
        [],
        { target: { profile: 'balanced' }, expiresAtMs: Z('2026-03-03T08:00:00Z') },
        Z('2026-03-03T07:00:00Z'),
      ),
    ).toEqual({
      atMs: Z('2026-03-03T08:00:00Z'),
      to: { source: 'loop' },
    });
  });
});

describe('ScheduleSet: what the control loop calls', () => {
  const set = ScheduleSet.compile([
    { name: 'night', window: '22:00-06:00', timezone: 'Europe/Berlin', profile: 'aggressive', priority: 0 },
    { name: 'weekend', window: 'Sat-Sun', timezone: 'Europe/Berlin', budget: { usd_per_hour: 0.05 }, priority: 1 },
  ]);

  it('active() names the winning schedule and what it sets', () => {
    expect(set.size).toBe(2);
    expect(set.active(Z('2026-03-03T22:00:00Z'))).toEqual({ name: 'night', priority: 0, profile: 'aggressive' }); // Tue 23:00 CET
    expect(set.active(Z('2026-03-07T22:00:00Z'))).toEqual({
      name: 'weekend',
      priority: 1,
      budget: { usd_per_hour: 0.05 },
    });
    expect(set.active(Z('2026-03-03T12:00:00Z'))).toBeUndefined();
  });

  it('an override set before the spring change expires on its absolute instant; the night window still ends at 06:00 CEST', () => {
    // Saturday 28 March 2026 23:30 CET; the override lasts 2 real hours, across the skipped 02:00-03:00
    const t0 = Z('2026-03-28T22:30:00Z');
    const override = { target: { profile: 'emergency' }, expiresAtMs: t0 + 2 * 3_600_000 };
    expect(set.resolve(override, t0).source).toBe('manual');
    expect(set.nextChange(override, t0)).toMatchObject({ atMs: Z('2026-03-29T00:30:00Z'), to: { source: 'schedule' } });
    const after = set.resolve(override, Z('2026-03-29T00:30:00Z'));
    expect(after.source === 'schedule' && after.schedule.name).toBe('weekend'); // Sunday 01:30 CET: weekend outranks night
    // Sunday 23:00 CEST: the weekend ends at midnight, then night (from 22:00) until 06:00 CEST = 04:00Z
    const midnight = set.nextChange(undefined, Z('2026-03-29T21:00:00Z'));
    expect(midnight?.atMs).toBe(Z('2026-03-29T22:00:00Z'));
    expect(midnight?.to.source === 'schedule' && midnight.to.schedule.name).toBe('night');
    expect(set.nextChange(undefined, midnight!.atMs)).toEqual({
      atMs: Z('2026-03-30T04:00:00Z'),
      to: { source: 'loop' },
    });
  });

  it('fromConfig() refuses what config validate refuses, naming the key', () => {
    const list = [{ name: 'x', window: 'Sat-Sun', timezone: 'UTC', profile: 'nope', priority: 0 }];
    try {
      ScheduleSet.fromConfig(list, ['balanced'], 'f.yaml', Z('2026-03-03T00:00:00Z'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NrdotError);
      expect((e as NrdotError).code).toBe(ErrorCodes.UNKNOWN_PROFILE);
      expect((e as NrdotError).message).toMatch(/^f\.yaml: 'control\.schedules\.0\.profile': unknown profile 'nope'/);
    }
    expect(ScheduleSet.fromConfig([], ['balanced'], 'f.yaml', 0).size).toBe(0);
  });
});
