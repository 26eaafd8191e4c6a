import { describe, expect, it } from 'vitest';
import { Frame, LANE_NONE, LANE_STANDARD } from '../../../src/core/frame.js';
import { IdentityTable } from '../../../src/core/identity.js';
import { allocBatch, FLAG_DETAIL, type ProcessBatch } from '../../../src/sources/batch.js';
import { HOSTMETRICS_DEFAULT, type MetricSet, PROCESS_METRICS } from '../../../src/stages/build/metrics.js';
import { HeartbeatStage } from '../../../src/stages/heartbeat/index.js';
import { decodeCheckpoint, encodeCheckpoint, restorePart } from '../../../src/state/checkpoint.js';

const every = (1 << PROCESS_METRICS.length) - 1;
const ALL: MetricSet = { base: every, tier: [every, every, every, every], any: every };
const DEFAULT: MetricSet = {
  base: HOSTMETRICS_DEFAULT,
  tier: [HOSTMETRICS_DEFAULT, HOSTMETRICS_DEFAULT, HOSTMETRICS_DEFAULT, HOSTMETRICS_DEFAULT],
  any: HOSTMETRICS_DEFAULT,
};

const host = {
  hostname: 'h',
  bootTimeSec: 0,
  uptimeSec: 1000,
  cpuCount: 2,
  memTotalBytes: 1e9,
  clkTck: 100,
  pageSize: 4096,
};

function oneProcess(): ProcessBatch {
  const b = allocBatch(1, host);
  b.count = 1;
  b.pid[0] = 4242;
  b.startTicks[0] = 1234;
  b.flags[0] = FLAG_DETAIL;
  b.rssBytes[0] = 1000;
  b.fds[0] = 3;
  b.readBytes[0] = 0;
  b.writeBytes[0] = 0;
  b.volCtx[0] = 0;
  b.involCtx[0] = 0;
  return b;
}

/** One cycle of `stage` over `b` with the row on the standard path; true when the row is still sent. */
function sent(ids: IdentityTable, stage: HeartbeatStage, b: ProcessBatch): boolean {
  const f = new Frame(b, false, 1, 0, ids.assign(b));
  f.lane[0] = LANE_STANDARD;
  stage.process(f);
  ids.sweep();
  return f.lane[0] !== LANE_NONE;
}

describe('heartbeat stage', () => {
  it('sends a changed process every cycle and an idle one every K cycles', () => {
    const ids = new IdentityTable();
    const hb = new HeartbeatStage(ids, ALL, 6);
    const b = oneProcess();
    const cycles: number[] = [];
    for (let cycle = 1; cycle <= 13; cycle++) if (sent(ids, hb, b)) cycles.push(cycle);
    expect(cycles).toEqual([1, 7, 13]);
    b.rssBytes[0] = 2000; // a change is sent at once
    expect(sent(ids, hb, b)).toBe(true);
    b.utimeSec[0] = 0.01;
    expect(sent(ids, hb, b)).toBe(true);
    expect(sent(ids, hb, b)).toBe(false);
    // a gauge going down while a counter goes up is a change too
    b.threads[0] = 5;
    expect(sent(ids, hb, b)).toBe(true);
    b.threads[0] = 4;
    b.minFaults[0] = 3;
    expect(sent(ids, hb, b)).toBe(true);
    expect(sent(ids, hb, b)).toBe(false);
    // heartbeat_cycles 1 = every cycle
    const ids1 = new IdentityTable();
    const hb1 = new HeartbeatStage(ids1, ALL, 1);
    expect([sent(ids1, hb1, b), sent(ids1, hb1, b), sent(ids1, hb1, b)]).toEqual([true, true, true]);
  });

  it('a reused pid is a new process: sent at once', () => {
    const ids = new IdentityTable();
    const hb = new HeartbeatStage(ids, ALL, 6);
    const b = oneProcess();
    expect(sent(ids, hb, b)).toBe(true);
    expect(sent(ids, hb, b)).toBe(false);
    b.startTicks[0] = 9999;
    expect(sent(ids, hb, b)).toBe(true);
  });

  it('what was last sent survives a checkpoint, so the next run skips what this one would', () => {
    const ids = new IdentityTable();
    const hb = new HeartbeatStage(ids, ALL, 6);
    const b = oneProcess();
    expect(sent(ids, hb, b)).toBe(true);
    expect(sent(ids, hb, b)).toBe(false);
    const file = encodeCheckpoint(ids, [hb], '/proc', 1);
    // a later run: new table and stage, restored from the checkpoint
    const d = decodeCheckpoint(file);
    if (!d.ok) throw new Error(d.reason);
    const ids2 = new IdentityTable();
    const hb2 = new HeartbeatStage(ids2, ALL, 6);
    const slots = Int32Array.from(d.pid, (pid, i) => ids2.restore(pid, d.start[i]!));
    expect(restorePart(hb2, d, slots)).toBeUndefined();
    const runs: boolean[] = [];
    for (let c = 3; c <= 8; c++) runs.push(sent(ids2, hb2, b));
    // sent at cycle 1, skipped through cycle 6, the heartbeat is due at 7
    expect(runs).toEqual([false, false, false, false, true, false]);
  });

  it('compares only what the metric set exports: a change in a metric that is off is not a change', () => {
    const ids = new IdentityTable();
    const hb = new HeartbeatStage(ids, DEFAULT, 6);
    const b = oneProcess();
    expect(sent(ids, hb, b)).toBe(true);
    b.threads[0] = 9; // process.threads is off in the default set
    b.minFaults[0] = 77; // so is process.paging.faults
    expect(sent(ids, hb, b)).toBe(false);
    b.vsizeBytes[0] = 4096; // process.memory.virtual is on
    expect(sent(ids, hb, b)).toBe(true);
    b.readBytes[0] = 10; // and process.disk.io
    expect(sent(ids, hb, b)).toBe(true);
  });

  it('a row read stat-only compares only what was read', () => {
    const ids = new IdentityTable();
    const hb = new HeartbeatStage(ids, DEFAULT, 6);
    const b = oneProcess();
    expect(sent(ids, hb, b)).toBe(true);
    b.flags[0] = 0;
    b.readBytes[0] = -1;
    b.writeBytes[0] = -1;
    expect(sent(ids, hb, b)).toBe(false);
  });
});
