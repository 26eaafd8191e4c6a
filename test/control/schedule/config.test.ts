/**
 * `control.schedules` in a config file: a good one loads (and compiles);
 * every kind of bad one is refused with exit 2 and a message naming the file
 * and the key: unknown profile, invalid cron, a cron that never fires,
 * invalid time zone, bad window syntax, overlapping schedules of the same
 * priority, a budget of zero or a negative one, a schedule with both or
 * neither of window/cron or profile/budget, duplicate names. `nrdot config
 * validate` says the same.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../../src/config/load.js';
import { compileSchedules } from '../../../src/control/schedule/index.js';
import { EXIT_USAGE, NrdotError } from '../../../src/core/errors.js';
import { fastTmpDir } from '../../../src/util/tmp.js';
import { nrdot } from '../../helpers/cli.js';

const FILE = '/etc/nrdot/test.yaml';
const tmp = fastTmpDir('nrdot-schedule-config-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function load(yaml: string) {
  return loadConfigBytes(Buffer.from(yaml), FILE);
}

function refused(yaml: string): string {
  try {
    load(yaml);
  } catch (e) {
    expect(e).toBeInstanceOf(NrdotError);
    expect((e as NrdotError).exitCode).toBe(EXIT_USAGE);
    const m = (e as NrdotError).message;
    expect(m.startsWith(`${FILE}: `)).toBe(true);
    return m;
  }
  throw new Error(`accepted:\n${yaml}`);
}

const schedules = (...items: string[]) => `control:\n  schedules:\n${items.map((i) => `    - ${i}`).join('\n')}\n`;

describe('good schedules', () => {
  it('load and compile; defaults: UTC, priority 0; nothing by default', () => {
    const { config } = load(
      schedules(
        '{ name: office, window: "Mon-Fri 08:00-18:00", timezone: Europe/Berlin, profile: conservative }',
        '{ name: weekend, window: "Sat-Sun", budget: { usd_per_hour: 0.05, active_series: 500 } }',
        '{ name: backups, cron: "30 2 * * *", duration: 1h, timezone: Europe/Berlin, profile: aggressive, priority: 10 }',
        // the same hours as office, but a higher priority: no overlap error
        '{ name: release, window: "Mon-Fri 08:00-18:00", timezone: Europe/Berlin, profile: balanced, priority: 3 }',
      ),
    );
    const s = config.control.schedules;
    expect(s.map((x) => [x.name, x.timezone, x.priority])).toEqual([
      ['office', 'Europe/Berlin', 0],
      ['weekend', 'UTC', 0],
      ['backups', 'Europe/Berlin', 10],
      ['release', 'Europe/Berlin', 3],
    ]);
    expect(compileSchedules(s).map((x) => x.when)).toEqual([
      'Mon-Fri 08:00-18:00',
      'Sat-Sun',
      "cron '30 2 * * *' for 1h",
      'Mon-Fri 08:00-18:00',
    ]);
    const c = load('').config.control;
    expect({ schedules: c.schedules, notify: c.notify, budget: c.budget }).toEqual({
      schedules: [],
      notify: [],
      budget: null,
    });
  });

  it('windows that only touch do not overlap', () => {
    load(
      schedules(
        '{ name: day, window: "08:00-20:00", profile: conservative }',
        '{ name: night, window: "20:00-08:00", profile: aggressive }',
      ),
    );
  });
});

describe('bad schedules: exit 2 naming the key', () => {
  it('an unknown profile', () => {
    expect(refused(schedules('{ name: x, window: "Sat-Sun", profile: cheapest }'))).toMatch(
      /'control\.schedules\.0\.profile': unknown profile 'cheapest' in schedule 'x' \(known: .*balanced/,
    );
  });

  it('an invalid cron expression, and one that never fires', () => {
    expect(refused(schedules('{ name: x, cron: "61 * * * *", duration: 1h, profile: balanced }'))).toMatch(
      /'control\.schedules\.0\.cron': invalid cron expression '61 \* \* \* \*': .*minute/,
    );
    expect(refused(schedules('{ name: x, cron: "0 0 * *", duration: 1h, profile: balanced }'))).toMatch(
      /'control\.schedules\.0\.cron': invalid cron expression '0 0 \* \*'/,
    );
    expect(refused(schedules('{ name: x, cron: "0 0 31 2 *", duration: 1h, profile: balanced }'))).toMatch(
      /'control\.schedules\.0\.cron': cron expression '0 0 31 2 \*' never fires/,
    );
  });

  it('an invalid time zone', () => {
    expect(refused(schedules('{ name: x, window: "Sat-Sun", timezone: Mars/Olympus, profile: balanced }'))).toMatch(
      /'control\.schedules\.0\.timezone': unknown time zone 'Mars\/Olympus'/,
    );
  });

  it('bad window syntax', () => {
    const bad: [string, RegExp][] = [
      ['Mon-Fry 08:00-18:00', /unknown day 'Fry'/],
      ['Mon-Fri 8-18', /'8-18' is not a time range HH:MM-HH:MM|is not HH:MM/],
      ['Mon-Fri 08:00-25:00', /end '25:00' is not a time of day/],
      ['Mon-Fri 08:60-18:00', /start '08:60' is not a time of day/],
      ['08:00-08:00', /starts and ends at the same time/],
      ['', /an empty window/],
      ['Mon Wed 08:00-09:00', /unknown day 'Mon Wed'/],
    ];
    for (const [w, re] of bad) {
      const m = refused(schedules(`{ name: x, window: "${w}", profile: balanced }`));
      expect(m, w).toMatch(/'control\.schedules\.0\.window': /);
      expect(m, w).toMatch(re);
    }
  });

  it('overlapping schedules with the same priority, naming both', () => {
    const m = refused(
      schedules(
        '{ name: office, window: "Mon-Fri 08:00-18:00", timezone: Europe/Berlin, profile: conservative }',
        '{ name: weekend, window: "Sat-Sun", timezone: Europe/Berlin, profile: aggressive }',
        '{ name: lunch, cron: "0 12 * * 1-5", duration: 1h, timezone: Europe/Berlin, profile: balanced }',
      ),
    );
    expect(m).toMatch(
      /'control\.schedules': schedules 'office' \(control\.schedules\.0\) and 'lunch' \(control\.schedules\.2\) overlap with the same priority 0 \(both active at \d{4}-\d\d-\d\d 12:00 Europe\/Berlin\): give the one that should win a higher 'priority'/,
    );
    // in different zones: 08:00-18:00 New York and 20:00-23:00 Berlin meet at 14:00-17:00 New York
    expect(
      refused(
        schedules(
          '{ name: ny, window: "08:00-18:00", timezone: America/New_York, profile: conservative }',
          '{ name: berlin, window: "20:00-23:00", timezone: Europe/Berlin, profile: aggressive }',
        ),
      ),
    ).toMatch(/'ny' .* and 'berlin' .* overlap/);
  });

  it('a budget of zero, a negative one, an empty one', () => {
    for (const b of ['usd_per_hour: 0', 'points_per_minute: -5', 'active_series: 0']) {
      const key = b.split(':')[0];
      expect(refused(schedules(`{ name: x, window: "Sat-Sun", budget: { ${b} } }`))).toMatch(
        new RegExp(`'control\\.schedules\\.0\\.budget\\.${key}': must be more than 0`),
      );
    }
    expect(refused(schedules('{ name: x, window: "Sat-Sun", budget: {} }'))).toMatch(
      /'control\.schedules\.0\.budget': a budget names at least one of usd_per_hour/,
    );
  });

  it('both or neither of window and cron, profile and budget; a cron without a duration; duplicate names', () => {
    expect(
      refused(schedules('{ name: x, window: "Sat", cron: "0 * * * *", duration: 1h, profile: balanced }')),
    ).toMatch(/'control\.schedules\.0': a schedule has either a window or a cron expression/);
    expect(refused(schedules('{ name: x, window: "Sat" }'))).toMatch(/a schedule sets either a profile or a budget/);
    expect(refused(schedules('{ name: x, cron: "0 * * * *", profile: balanced }'))).toMatch(
      /'control\.schedules\.0\.duration': a cron schedule needs a duration/,
    );
    expect(refused(schedules('{ name: x, window: "Sat", duration: 1h, profile: balanced }'))).toMatch(
      /'control\.schedules\.0\.duration': only a cron schedule has a duration/,
    );
    expect(
      refused(
        schedules('{ name: x, window: "Sat", profile: balanced }', '{ name: x, window: "Sun", profile: aggressive }'),
      ),
    ).toMatch(/'control\.schedules\.1\.name': 'x' is also the name of schedule 0/);
    expect(refused(schedules('{ name: x, window: "Sat", profile: balanced, when: now }'))).toMatch(
      /unknown key 'control\.schedules\.0\.when'/,
    );
  });

  it('nrdot config validate (the built CLI) exits 2 naming the file and the key', async () => {
    const cases: [string, string, RegExp][] = [
      [
        'cron',
        '{ name: x, cron: "not a cron", duration: 1h, profile: balanced }',
        /'control\.schedules\.0\.cron': invalid cron expression 'not a cron'/,
      ],
      [
        'profile',
        '{ name: x, window: "Sat-Sun", profile: cheapest }',
        /'control\.schedules\.0\.profile': unknown profile 'cheapest'/,
      ],
      [
        'zone',
        '{ name: x, window: "Sat-Sun", timezone: Europe/Berlinn, profile: balanced }',
        /'control\.schedules\.0\.timezone': unknown time zone 'Europe\/Berlinn'/,
      ],
      [
        'budget',
        '{ name: x, window: "Sat-Sun", budget: { usd_per_hour: -1 } }',
        /'control\.schedules\.0\.budget\.usd_per_hour': must be more than 0/,
      ],
      [
        'overlap',
        '{ name: a, window: "Mon-Fri 08:00-18:00", profile: balanced }\n    - { name: b, window: "Fri 17:00-20:00", profile: aggressive }',
        /'control\.schedules': schedules 'a' \(control\.schedules\.0\) and 'b' \(control\.schedules\.1\) overlap with the same priority 0/,
      ],
    ];
    const results = await Promise.all(
      cases.map(([name, item]) => {
        const file = path.join(tmp, `${name}.yaml`);
        fs.writeFileSync(file, schedules(item));
        return nrdot(['config', 'validate', file]).then((r) => ({ file, r }));
      }),
    );
    results.forEach(({ file, r }, i) => {
      const [name, , re] = cases[i]!;
      expect(r.code, name).toBe(2);
      expect(r.stderr, name).toContain(`${file}: `);
      expect(r.stderr, name).toMatch(re);
    });
    // and the same file made good passes
    const good = path.join(tmp, 'good.yaml');
    fs.writeFileSync(
      good,
      schedules(
        '{ name: a, window: "Mon-Fri 08:00-18:00", profile: balanced }',
        '{ name: b, window: "Fri 17:00-20:00", profile: aggressive, priority: 1 }',
      ),
    );
    const ok = await nrdot(['config', 'validate', good]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });
});
