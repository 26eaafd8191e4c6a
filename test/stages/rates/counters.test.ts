import { describe, expect, it } from 'vitest';
import { allocBatch, type HostInfo } from '../../../src/sources/batch.js';
import { NCOUNTERS } from '../../../src/stages/rates/counters.js';
import { StageRunner } from '../../helpers/stages.js';

const host = (uptimeSec: number): HostInfo => ({
  hostname: 'h',
  bootTimeSec: 1_700_000_000,
  uptimeSec,
  cpuCount: 2,
  memTotalBytes: 1,
  clkTck: 100,
  pageSize: 4096,
});

/** rows: [pid, startTicks, utimeSec] */
function batch(uptime: number, rows: [number, number, number][]) {
  const b = allocBatch(rows.length, host(uptime));
  rows.forEach(([pid, start, user], i) => {
    b.pid[i] = pid;
    b.startTicks[i] = start;
    b.utimeSec[i] = user;
  });
  b.count = rows.length;
  return b;
}

describe('rates stage', () => {
  it('gives a rate over the tree clock, forgets processes that are gone, and treats a reused pid as new', () => {
    const m = new StageRunner();
    m.step(
      batch(100, [
        [10, 500, 5],
        [11, 600, 1],
      ]),
    );
    // pid 11 exits; pid 10 used 2 s of CPU in 4 s
    let s = m.step(batch(104, [[10, 500, 7]]));
    expect(s.cpuCores[0]).toBeCloseTo(0.5, 12);
    expect(s.deltas[0]).toBeCloseTo(2, 12);
    expect(m.ids.slotOf(11)).toBe(-1);
    expect(s.born[0]).toBe(0);
    // pid 10 reused by a process that started at 105 s (after the scan at 104 s): all its CPU is new
    s = m.step(batch(108, [[10, 10500, 0.5]]));
    expect(s.deltas[0]).toBeCloseTo(0.5, 12);
    expect(s.born[0]).toBe(1);
    expect(s.isNew[0]).toBe(1);
    expect(m.ids.start.data[m.ids.slotOf(10)]).toBe(10500);
  });

  it('never produces a negative delta when a counter goes backwards', () => {
    const m = new StageRunner();
    m.step(batch(100, [[10, 500, 9]]));
    const s = m.step(batch(110, [[10, 500, 3]]));
    expect(s.cpuCores[0]).toBe(0);
    for (let k = 0; k < NCOUNTERS; k++) expect(s.deltas[k]).toBeGreaterThanOrEqual(0);
  });

  it('after a reboot (another boot time) nothing carries over', () => {
    const m = new StageRunner();
    m.step(batch(100, [[10, 500, 5]]));
    const b = batch(50, [[10, 500, 6]]);
    b.host.bootTimeSec += 3600;
    const s = m.step(b);
    // no previous reading counts: lifetime average (6 s over 45 s), no delta
    expect(s.cpuCores[0]).toBeCloseTo(6 / 45, 12);
    expect(s.deltas[0]).toBe(0);
  });

  it('after a reboot no process counts as started since the previous cycle, whatever its start', () => {
    const m = new StageRunner();
    m.step(batch(100, [[10, 500, 5]]));
    const rebooted = (uptime: number, rows: [number, number, number][]) => {
      const b = batch(uptime, rows);
      b.host.bootTimeSec += 3600;
      return b;
    };
    // the new boot's clock is past the old one's last reading: a start at 150 s would look newer than 100 s
    const s = m.step(rebooted(200, [[20, 15000, 1]]));
    expect(s.born[0]).toBe(0);
    expect(s.deltas[0]).toBe(0);
    // from the next cycle on, the new boot's clock counts: pid 21 started at 205 s, after the scan at 200 s
    const s2 = m.step(
      rebooted(210, [
        [20, 15000, 2],
        [21, 20500, 1],
      ]),
    );
    expect([...s2.born]).toEqual([0, 1]);
    expect(s2.deltas[NCOUNTERS]).toBeCloseTo(1, 12);
  });
});
