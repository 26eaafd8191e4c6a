/**
 * Write failures injected through QueueIo: a full disk or an I/O error
 * refuses the record (counted), rolls the partial write back, evicts
 * non-critical data to make room, and the queue keeps working afterwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiskQueue, type ExportQueue, nodeIo, type QueueIo } from '../../../src/exporters/queue/index.js';
import { QUEUE } from '../../helpers/defaults.js';
import { until } from '../../helpers/until.js';
import { captureLogger, diskTmpDir, drain, payload, rmrf, segFiles, tagOf, WARN } from './helpers.js';

const FRAME = 24;
const HEADER = 24;

/** Real I/O, except that the next `failures` writes write half their bytes and then fail with `code`. */
function faultyIo(): { io: QueueIo; fault: { code: string; failures: number; calls: number } } {
  const fault = { code: 'ENOSPC', failures: 0, calls: 0 };
  const io: QueueIo = {
    ...nodeIo,
    writev: async (fd, bufs, pos) => {
      if (fault.failures > 0) {
        fault.failures--;
        fault.calls++;
        const first = bufs[0]!;
        await nodeIo.writev(fd, [first.subarray(0, first.length >> 1)], pos);
        throw Object.assign(new Error(`${fault.code}: injected`), { code: fault.code });
      }
      return nodeIo.writev(fd, bufs, pos);
    },
  };
  return { io, fault };
}

const dirs: string[] = [];
const open: ExportQueue[] = [];
afterEach(async () => {
  for (const q of open.splice(0)) await q.shutdown();
  for (const d of dirs.splice(0)) rmrf(d);
});

async function setup(fsyncIntervalMs = 0) {
  const dir = diskTmpDir();
  dirs.push(dir);
  const { io, fault } = faultyIo();
  const opts = { maxBytes: 1 << 20, segmentBytes: HEADER + 2 * (100 + FRAME), fsyncIntervalMs, io };
  const q = createDiskQueue(dir, opts);
  open.push(q);
  await q.start();
  const reopen = async () => {
    const q2 = createDiskQueue(dir, { ...opts, io: nodeIo });
    open.push(q2);
    await q2.start();
    return q2;
  };
  return { q, fault, reopen, dir };
}

describe.each([0, 1000])('disk queue write faults (fsyncIntervalMs %i)', (fsyncIntervalMs) => {
  it('ENOSPC with only critical data queued: refused as disk_full, rolled back, and accepted again once space returns', async () => {
    const { q, fault, reopen, dir } = await setup(fsyncIntervalMs);
    await q.append('critical', payload('c0', 100));
    fault.failures = 1;
    expect(await q.append('critical', payload('c1', 100))).toEqual({
      accepted: false,
      reason: 'disk_full',
      evicted: [],
    });
    expect(fault.calls).toBe(1); // nothing it may evict, so no retry
    // the half-written frame is gone from the file: one header and one frame remain
    const [seg] = segFiles(dir, 'critical');
    expect(fs.statSync(path.join(dir, 'critical', seg!)).size).toBe(HEADER + 100 + FRAME);
    expect(q.stats()).toMatchObject({ refused: 1, records: 1 });
    expect(q.stats().dropped.disk_full).toEqual({ records: 1, bytes: 100 + FRAME, points: 0 });
    // space is back
    expect((await q.append('critical', payload('c2', 100))).accepted).toBe(true);
    expect((await q.append('critical', payload('c3', 100))).accepted).toBe(true);
    await q.shutdown();
    // the half-written frame was rolled back: nothing corrupt on disk
    const q2 = await reopen();
    expect(q2.stats().dropped.corrupt).toEqual({ records: 0, bytes: 0, points: 0 });
    expect(await drain(q2)).toEqual(['c0', 'c2', 'c3']);
  });

  it('ENOSPC evicts sampled segments, then standard ones, and retries once', async () => {
    const { q, fault, reopen } = await setup(fsyncIntervalMs);
    for (let i = 0; i < 2; i++) await q.append('sampled', payload(`s${i}`, 100));
    for (let i = 0; i < 2; i++) await q.append('standard', payload(`t${i}`, 100));
    fault.failures = 1;
    expect(await q.append('critical', payload('c0', 100))).toEqual({
      accepted: true,
      evicted: [{ lane: 'sampled', records: 2, bytes: 248, points: 0 }],
    });
    expect(q.stats().dropped.disk_full.records).toBe(2);
    fault.failures = 1;
    expect(await q.append('critical', payload('c1', 100))).toEqual({
      accepted: true,
      evicted: [{ lane: 'standard', records: 2, bytes: 248, points: 0 }],
    });
    // nothing left to evict: the retry fails too
    fault.failures = 2;
    expect(await q.append('critical', payload('c2', 100))).toMatchObject({ accepted: false, reason: 'disk_full' });
    expect(q.stats().refused).toBe(1);
    await q.shutdown();
    const q2 = await reopen();
    expect(await drain(q2)).toEqual(['c0', 'c1']);
  });

  it('EIO is refused as io_error without evicting anything, and the queue keeps working', async () => {
    const { q, fault, reopen } = await setup(fsyncIntervalMs);
    await q.append('sampled', payload('s0', 100));
    fault.code = 'EIO';
    fault.failures = 1;
    expect(await q.append('critical', payload('c0', 100))).toEqual({
      accepted: false,
      reason: 'io_error',
      evicted: [],
    });
    expect(fault.calls).toBe(1);
    expect(q.stats().dropped.io_error.records).toBe(1);
    expect((await q.append('critical', payload('c1', 100))).accepted).toBe(true);
    await q.shutdown();
    const q2 = await reopen();
    expect(q2.stats().dropped.corrupt.records).toBe(0);
    expect(await drain(q2)).toEqual(['c1', 's0']);
  });

  it('a failure while creating a segment file leaves no stray file behind', async () => {
    const { q, fault, reopen } = await setup(fsyncIntervalMs);
    // the first append creates the critical segment: its header write fails
    fault.code = 'EIO';
    fault.failures = 1;
    expect((await q.append('critical', payload('c0', 100))).reason).toBe('io_error');
    expect((await q.append('critical', payload('c1', 100))).accepted).toBe(true);
    await q.shutdown();
    const q2 = await reopen();
    expect(q2.stats().dropped.corrupt).toEqual({ records: 0, bytes: 0, points: 0 });
    expect(await drain(q2)).toEqual(['c1']);
  });
});

describe('disk full accounting per lane', () => {
  it('counts refusals and evictions by their real lane and weight, and names every refused lane in a warning', async () => {
    const dir = diskTmpDir();
    dirs.push(dir);
    const { io, fault } = faultyIo();
    const { logger, lines } = captureLogger();
    // weight: the number after the tag's letter, so each record says what it stands for
    const weigh = (p: Uint8Array) => Number(tagOf(p).slice(1)) + 1;
    const q = createDiskQueue(dir, {
      maxBytes: 1 << 20,
      segmentBytes: HEADER + 2 * (100 + FRAME),
      fsyncIntervalMs: 0,
      io,
      logger,
      weigh,
    });
    open.push(q);
    await q.start();
    for (let i = 0; i < 2; i++) await q.append('sampled', payload(`s${i}`, 100)); // weights 1 + 2
    fault.failures = 2; // the write fails, the sampled segment is evicted, the retry fails too
    expect(await q.append('critical', payload('c9', 100))).toEqual({
      accepted: false,
      reason: 'disk_full',
      evicted: [{ lane: 'sampled', records: 2, bytes: 248, points: 3 }],
    });
    fault.failures = 1; // nothing left to evict: refused at once
    expect(await q.append('standard', payload('t4', 100))).toMatchObject({ accepted: false, reason: 'disk_full' });
    fault.failures = 1;
    expect(await q.append('critical', payload('c6', 100))).toMatchObject({ accepted: false, reason: 'disk_full' });
    const st = q.stats();
    expect(st.droppedByLane.sampled.disk_full).toEqual({ records: 2, bytes: 248, points: 3 });
    expect(st.droppedByLane.critical.disk_full).toEqual({ records: 2, bytes: 248, points: 17 });
    expect(st.droppedByLane.standard.disk_full).toEqual({ records: 1, bytes: 124, points: 5 });
    expect(st.dropped.disk_full).toEqual({ records: 5, bytes: 620, points: 25 });
    // one warning per lane and streak, each naming its lane
    const refusals = lines.filter((l) => l.level >= WARN && /refused/.test(l.msg));
    expect(refusals.map((l) => l.lane)).toEqual(['critical', 'standard']);
    expect(refusals[0]!.msg).toMatch(/refused a critical record/);
    // space returns: each lane says so once, with what it refused
    expect((await q.append('critical', payload('c1', 100))).accepted).toBe(true);
    expect((await q.append('critical', payload('c2', 100))).accepted).toBe(true);
    const again = lines.filter((l) => /accepts \w+ records again/.test(l.msg));
    expect(again).toEqual([expect.objectContaining({ lane: 'critical', refused: 2, points: 17 })]);
  });
});

/** Real I/O that records which paths were fsynced (files by fd, directories by path). */
function countingIo(): { io: QueueIo; synced: string[] } {
  const synced: string[] = [];
  const names = new Map<number, string>();
  const io: QueueIo = {
    ...nodeIo,
    open: async (p, flags) => {
      const fd = await nodeIo.open(p, flags);
      names.set(fd, p);
      return fd;
    },
    fsync: async (fd) => {
      synced.push(names.get(fd) ?? `fd ${fd}`);
      return nodeIo.fsync(fd);
    },
    syncDir: async (dir) => {
      synced.push(`${dir}/`);
      return nodeIo.syncDir(dir);
    },
  };
  return { io, synced };
}

describe('fsync policy', () => {
  it('fsyncIntervalMs 0: each append is fsynced before it resolves; a new segment also fsyncs the lane directory', async () => {
    const dir = diskTmpDir();
    dirs.push(dir);
    const { io, synced } = countingIo();
    const q = createDiskQueue(dir, { ...QUEUE, maxBytes: 1 << 20, fsyncIntervalMs: 0, io });
    open.push(q);
    await q.start();
    synced.length = 0;
    await q.append('standard', payload('a'));
    const seg = path.join(dir, 'standard', '0000000000000000.seg');
    expect(synced).toEqual([seg, `${path.join(dir, 'standard')}/`, seg]);
    await q.append('standard', payload('b'));
    expect(synced.slice(3)).toEqual([seg]);
  });

  it('fsyncIntervalMs > 0: appends resolve without an fsync; a timer fsyncs dirty segments and directories', async () => {
    const dir = diskTmpDir();
    dirs.push(dir);
    const { io, synced } = countingIo();
    const q = createDiskQueue(dir, { ...QUEUE, maxBytes: 1 << 20, fsyncIntervalMs: 20, io });
    open.push(q);
    await q.start();
    await until('the lane directories to be fsynced', () => synced.length > 0); // created at start
    synced.length = 0;
    await q.append('critical', payload('a'));
    expect(synced).toEqual([]);
    const seg = path.join(dir, 'critical', '0000000000000000.seg');
    // the timer fsyncs the segment, then the directory (one after the other)
    const laneDir = `${path.join(dir, 'critical')}/`;
    await until('the periodic fsync', () => synced.includes(seg) && synced.includes(laneDir));
    expect(synced.indexOf(seg)).toBeGreaterThanOrEqual(0);
  });
});
