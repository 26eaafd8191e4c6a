import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MemoryGovernor, type TierChange } from '../../src/control/index.js';
import { GOVERNOR } from '../helpers/defaults.js';
import { until } from '../helpers/until.js';

const MIB = 1024 * 1024;
const LIMIT_MIB = 200;

function setup(o: { limitMib?: number; hysteresis?: number } = {}) {
  let rss = 0;
  let t = 1_000_000;
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  const changes: TierChange[] = [];
  const gov = new MemoryGovernor({
    ...GOVERNOR,
    limitMib: o.limitMib ?? LIMIT_MIB,
    hysteresis: o.hysteresis ?? GOVERNOR.hysteresis,
    readMemoryBytes: () => rss,
    now: () => t,
    logger: pino({ level: 'debug' }, stream),
    onChange: (e) => changes.push(e),
  });
  return {
    gov,
    lines,
    changes,
    /** set the reading to `fraction` of the limit and check */
    at(fraction: number): string {
      rss = Math.round(fraction * LIMIT_MIB * MIB);
      gov.check();
      return gov.tierName;
    },
    tick(ms: number) {
      t += ms;
    },
  };
}

describe('MemoryGovernor', () => {
  it('engages the tiers in order as readings rise 50→65→75→85→95→105%, with one event and log each', () => {
    const s = setup();
    expect([0.5, 0.65, 0.75, 0.85, 0.95, 1.05].map((u) => s.at(u))).toEqual([
      'normal',
      'drop_noise',
      'drop_standard',
      'sample_important',
      'critical_only',
      'refuse_input',
    ]);
    expect(s.gov.policy).toMatchObject({ criticalOnly: true, refuseInput: true });
    expect(s.changes.map((c) => c.to)).toEqual([
      'drop_noise',
      'drop_standard',
      'sample_important',
      'critical_only',
      'refuse_input',
    ]);
    expect(s.changes[0]).toMatchObject({ from: 'normal', to: 'drop_noise', usage: 0.65, rssBytes: 0.65 * 200 * MIB });
    const logged = s.lines.filter((l) => l.from !== undefined);
    expect(logged.map((l) => [l.level, l.from, l.to])).toEqual([
      [40, 'normal', 'drop_noise'],
      [40, 'drop_noise', 'drop_standard'],
      [40, 'drop_standard', 'sample_important'],
      [40, 'sample_important', 'critical_only'],
      [40, 'critical_only', 'refuse_input'],
    ]);
    expect(logged[0]!.usage).toBe(0.65);
  });

  it('holds the tier at 58% after 61% and drops back at 54%, logging the drop at info once', () => {
    const s = setup();
    expect(s.at(0.61)).toBe('drop_noise');
    expect(s.at(0.58)).toBe('drop_noise');
    expect(s.at(0.58)).toBe('drop_noise');
    expect(s.at(0.54)).toBe('normal');
    expect(s.at(0.54)).toBe('normal');
    const logged = s.lines.filter((l) => l.from !== undefined).map((l) => [l.level, l.to]);
    expect(logged).toEqual([
      [40, 'drop_noise'],
      [30, 'normal'],
    ]);
    expect(s.gov.stats().changes).toBe(2);
  });

  it('steps from 50% to critical_only at 95% one tier per reading, with an event for each', () => {
    const s = setup();
    s.at(0.5);
    expect([0.95, 0.95, 0.95, 0.95, 0.95].map((u) => s.at(u))).toEqual([
      'drop_noise',
      'drop_standard',
      'sample_important',
      'critical_only',
      'refuse_input',
    ]);
    expect(s.changes.map((c) => `${c.from}>${c.to}`)).toEqual([
      'normal>drop_noise',
      'drop_noise>drop_standard',
      'drop_standard>sample_important',
      'sample_important>critical_only',
      'critical_only>refuse_input',
    ]);
    expect(s.gov.policy.dropTiers.has('critical')).toBe(false);
  });

  it('reports usage, bytes and time spent in each tier from the injected clock', () => {
    const s = setup();
    s.at(0.5);
    s.tick(3000);
    s.at(0.75);
    s.tick(500);
    s.at(0.5);
    s.tick(250);
    const st = s.gov.stats();
    expect(st).toMatchObject({ tier: 0, tierName: 'normal', usage: 0.5, limitBytes: 200 * MIB, changes: 2 });
    expect(st.rssBytes).toBe(100 * MIB);
    expect(st.timeInTierMs).toEqual({
      normal: 3250,
      drop_noise: 500,
      drop_standard: 0,
      sample_important: 0,
      critical_only: 0,
      refuse_input: 0,
    });
  });

  it('limitMib 0 disables it: always normal, memory never read', () => {
    let reads = 0;
    const gov = new MemoryGovernor({
      ...GOVERNOR,
      limitMib: 0,
      readMemoryBytes: () => {
        reads++;
        return 1e12;
      },
    });
    gov.start();
    expect(gov.check()).toBe(0);
    expect(gov.tierName).toBe('normal');
    expect(gov.policy.dropTiers.size).toBe(0);
    expect(reads).toBe(0);
    gov.shutdown();
  });

  it('start() checks at once and on its interval; shutdown() stops it and is safe twice', async () => {
    let rss = 10 * MIB;
    let reads = 0;
    const changes: TierChange[] = [];
    const gov = new MemoryGovernor({
      ...GOVERNOR,
      limitMib: 100,
      intervalMs: 5,
      readMemoryBytes: () => {
        reads++;
        return rss;
      },
      onChange: (e) => changes.push(e),
    });
    gov.start();
    gov.start();
    expect(reads).toBe(1);
    // 92%: critical_only is where the steps stop (at 95% they go on to refuse_input, and a
    // wait for critical_only had to catch it in passing)
    rss = 92 * MIB;
    await until('the critical_only tier', () => gov.tierName === 'critical_only', {
      context: () => `tier ${gov.tierName} after ${reads} reads`,
    });
    expect(changes.map((c) => c.to)).toEqual(['drop_noise', 'drop_standard', 'sample_important', 'critical_only']);
    gov.shutdown();
    gov.shutdown();
    const before = reads;
    await new Promise((r) => setTimeout(r, 50));
    expect(reads).toBe(before);
  });

  it('a failing reader on the timer keeps the tier and logs once until it works again', async () => {
    let fail = false;
    const lines: Array<Record<string, unknown>> = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        lines.push(JSON.parse(String(chunk)));
        cb();
      },
    });
    let reads = 0;
    const gov = new MemoryGovernor({
      ...GOVERNOR,
      limitMib: 100,
      intervalMs: 2,
      logger: pino({ level: 'info' }, stream),
      readMemoryBytes: () => {
        reads++;
        if (fail) throw new Error('EMFILE');
        return 75 * MIB;
      },
    });
    gov.start();
    gov.check();
    expect(gov.tierName).toBe('drop_standard');
    fail = true;
    const from = reads;
    await until('five more reads', () => reads >= from + 5);
    fail = false;
    await until('the works-again line', () => lines.some((l) => /works again/.test(String(l.msg))));
    gov.shutdown();
    expect(gov.tierName).toBe('drop_standard');
    expect(lines.filter((l) => /reading memory failed/.test(String(l.msg)))).toHaveLength(1);
  });

  it('reserve: headroom counts the last reading and every reservation; resize and release (idempotent) give it back', () => {
    const s = setup();
    s.at(0.5); // 100 MiB of 200
    expect(s.gov.headroom(0.6)).toBe(20 * MIB);
    const a = s.gov.reserve(8 * MIB);
    const b = s.gov.reserve(4 * MIB);
    expect(s.gov.reservedBytes).toBe(12 * MIB);
    expect(s.gov.headroom(0.6)).toBe(8 * MIB);
    b.resize(10 * MIB);
    expect(s.gov.headroom(0.6)).toBe(2 * MIB);
    a.release();
    a.release();
    a.resize(50 * MIB); // released: no effect
    expect(a.bytes).toBe(0);
    expect(s.gov.reservedBytes).toBe(10 * MIB);
    b.release();
    expect(s.gov.reservedBytes).toBe(0);
    expect(s.gov.stats()).toMatchObject({ reservedBytes: 0, readings: 1 });
    // negative and NaN sizes reserve nothing
    s.gov.reserve(-5);
    s.gov.reserve(Number.NaN);
    expect(s.gov.reservedBytes).toBe(0);
    expect(new MemoryGovernor({ ...GOVERNOR, limitMib: 0 }).headroom(0.9)).toBe(Number.POSITIVE_INFINITY);
  });

  it('asks for relief (a GC) on readings at or above 60%, at most once per reliefIntervalMs of the injected clock', () => {
    let rss = 0;
    let t = 0;
    let reliefs = 0;
    const gov = new MemoryGovernor({
      ...GOVERNOR,
      limitMib: 100,
      readMemoryBytes: () => rss,
      now: () => t,
      relieve: () => {
        reliefs++;
      },
      reliefIntervalMs: 500,
    });
    rss = 59 * MIB;
    gov.check();
    expect(reliefs).toBe(0);
    rss = 61 * MIB;
    gov.check();
    gov.check();
    t += 499;
    gov.check();
    expect(reliefs).toBe(1);
    t += 1;
    gov.check();
    expect(reliefs).toBe(2);
    expect(gov.stats().reliefs).toBe(2);
  });

  it('measure() keeps the last tier when the reader throws; check() throws it', () => {
    let fail = false;
    const gov = new MemoryGovernor({
      ...GOVERNOR,
      limitMib: 100,
      readMemoryBytes: () => {
        if (fail) throw new Error('EMFILE');
        return 65 * MIB;
      },
    });
    expect(gov.measure()).toBe(1);
    fail = true;
    expect(gov.measure()).toBe(1);
    expect(() => gov.check()).toThrow(/EMFILE/);
  });

  it('validates options with a RangeError naming the option', () => {
    expect(() => new MemoryGovernor({ ...GOVERNOR, limitMib: -1 })).toThrow(/'limitMib'/);
    expect(() => new MemoryGovernor({ ...GOVERNOR, limitMib: Number.NaN })).toThrow(/'limitMib'/);
    expect(() => new MemoryGovernor({ ...GOVERNOR, limitMib: 100, intervalMs: 0 })).toThrow(/'intervalMs'/);
    expect(() => new MemoryGovernor({ ...GOVERNOR, limitMib: 100, hysteresis: -0.1 })).toThrow(/'hysteresis'/);
    expect(() => new MemoryGovernor({ ...GOVERNOR, limitMib: 100, hysteresis: 0.6 })).toThrow(/'hysteresis'/);
    expect(() => new MemoryGovernor({ ...GOVERNOR, limitMib: 100, hysteresis: 0.6 })).toThrow(RangeError);
  });
});
