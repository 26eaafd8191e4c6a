/**
 * The same behaviour from the disk queue and the memory queue.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createDiskQueue,
  createMemoryQueue,
  type ExportQueue,
  type QueueOptions,
} from '../../../src/exporters/queue/index.js';
import { QUEUE } from '../../helpers/defaults.js';
import { diskTmpDir, drain, payload, rmrf, tagOf, takeAll } from './helpers.js';

const FRAME = 24;
const kinds: [string, (o: QueueOptions) => ExportQueue][] = [
  ['disk', (o) => createDiskQueue(diskTmpDir(), o)],
  ['memory', (o) => createMemoryQueue(o)],
];

describe.each(kinds)('%s queue', (kind, make) => {
  const open: ExportQueue[] = [];
  const dirs: string[] = [];
  async function queue(o: Partial<QueueOptions> = {}): Promise<ExportQueue> {
    const q = make({ ...QUEUE, maxBytes: 1 << 30, fsyncIntervalMs: 1000, ...o });
    open.push(q);
    await q.start();
    return q;
  }
  afterEach(async () => {
    for (const q of open.splice(0)) await q.shutdown();
    for (const d of dirs.splice(0)) rmrf(d);
  });

  it('says whether it is persistent', async () => {
    expect((await queue()).persistent).toBe(kind === 'disk');
  });

  it('hands out every critical record before any standard, before any sampled, oldest first in a lane', async () => {
    const q = await queue();
    for (const [lane, tag] of [
      ['standard', 't0'],
      ['sampled', 's0'],
      ['critical', 'c0'],
      ['standard', 't1'],
      ['critical', 'c1'],
      ['sampled', 's1'],
    ] as const) {
      expect((await q.append(lane, payload(tag))).accepted).toBe(true);
    }
    const got = await takeAll(q);
    expect(got.map((r) => tagOf(r.payload))).toEqual(['c0', 'c1', 't0', 't1', 's0', 's1']);
    expect(got.map((r) => r.lane)).toEqual(['critical', 'critical', 'standard', 'standard', 'sampled', 'sampled']);
    expect(await q.take()).toBeUndefined();
    expect(q.stats().lanes.critical.inFlight).toBe(2);
    for (const r of got) await q.ack(r);
    expect(q.stats()).toMatchObject({ records: 0, bytes: 0, oldestAgeMs: 0 });
  });

  it('accepts acks out of order and puts a released record back in its place', async () => {
    const q = await queue();
    for (let i = 0; i < 5; i++) await q.append('standard', payload(`r${i}`));
    const [r0, r1, r2] = [(await q.take())!, (await q.take())!, (await q.take())!];
    await q.ack(r2);
    await q.ack(r0);
    q.release(r1);
    expect(q.stats().lanes.standard).toMatchObject({ records: 3, inFlight: 0 });
    expect(await drain(q)).toEqual(['r1', 'r3', 'r4']);
    // an acked record is never handed out again, and acking twice is harmless
    await q.ack(r2);
    expect(await q.take()).toBeUndefined();
    expect(q.stats().records).toBe(0);
  });

  it('reports records, bytes and the age of the oldest record from the injected clock', async () => {
    let now = 1_000_000;
    const q = await queue({ now: () => now });
    await q.append('critical', payload('a', 100));
    now += 5_000;
    await q.append('sampled', payload('b', 50));
    now += 2_000;
    const s = q.stats();
    expect(s.records).toBe(2);
    expect(s.bytes).toBe(100 + 50 + 2 * FRAME);
    expect(s.oldestAgeMs).toBe(7_000);
    expect(s.lanes.critical).toEqual({ records: 1, bytes: 124, oldestAgeMs: 7_000, inFlight: 0 });
    expect(s.lanes.sampled).toEqual({ records: 1, bytes: 74, oldestAgeMs: 2_000, inFlight: 0 });
    expect(s.diskBytes > 0).toBe(kind === 'disk');
    const r = (await q.take())!;
    expect(r.enqueuedAtMs).toBe(1_000_000);
    await q.ack(r);
    expect(q.stats().oldestAgeMs).toBe(2_000);
  });

  it('waitForData resolves at once when records wait, on an append, on release, on abort and after the time', async () => {
    const q = await queue();
    await q.waitForData(0);
    const pending = q.waitForData(60_000);
    let woke = false;
    void pending.then(() => {
      woke = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(woke).toBe(false);
    await q.append('sampled', payload('x'));
    await pending;
    await q.waitForData(60_000); // a record is available
    const r = (await q.take())!;
    const onRelease = q.waitForData(60_000);
    q.release(r);
    await onRelease;
    await q.ack((await q.take())!);
    const ac = new AbortController();
    const aborted = q.waitForData(60_000, ac.signal);
    ac.abort();
    await aborted;
  });

  describe('byte cap', () => {
    // 100-byte payloads: 124-byte frames; two records per segment; room for six
    const P = 100;
    const opts = { maxBytes: 6 * (P + FRAME), segmentBytes: 24 + 2 * (P + FRAME) };

    it('evicts the oldest sampled segments, then standard ones, never critical, and refuses when only critical is left', async () => {
      const q = await queue(opts);
      for (let i = 0; i < 4; i++) expect((await q.append('sampled', payload(`s${i}`, P))).accepted).toBe(true);
      for (let i = 0; i < 2; i++) expect((await q.append('standard', payload(`t${i}`, P))).accepted).toBe(true);
      expect(q.stats().bytes).toBe(opts.maxBytes);

      expect(await q.append('critical', payload('c0', P))).toEqual({
        accepted: true,
        evicted: [{ lane: 'sampled', records: 2, bytes: 248, points: 0 }],
      });
      expect((await q.append('critical', payload('c1', P))).evicted).toEqual([]);
      expect((await q.append('critical', payload('c2', P))).evicted).toEqual([
        { lane: 'sampled', records: 2, bytes: 248, points: 0 },
      ]);
      await q.append('critical', payload('c3', P));
      expect((await q.append('critical', payload('c4', P))).evicted).toEqual([
        { lane: 'standard', records: 2, bytes: 248, points: 0 },
      ]);
      expect((await q.append('critical', payload('c5', P))).accepted).toBe(true);
      expect(await q.append('critical', payload('c6', P))).toEqual({ accepted: false, reason: 'cap', evicted: [] });

      const s = q.stats();
      expect(s.refused).toBe(1);
      expect(s.dropped.cap).toEqual({ records: 7, bytes: 7 * 124, points: 0 });
      expect(s.lanes.sampled.records + s.lanes.standard.records).toBe(0);
      expect(s.bytes).toBeLessThanOrEqual(opts.maxBytes);
      expect(await drain(q)).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5']);
    });

    it('a standard record evicts sampled data; a sampled record never evicts standard data', async () => {
      const q = await queue(opts);
      for (let i = 0; i < 6; i++) await q.append('standard', payload(`t${i}`, P));
      expect(await q.append('sampled', payload('s0', P))).toMatchObject({ accepted: false, reason: 'cap' });
      expect(await q.append('standard', payload('t6', P))).toMatchObject({
        accepted: true,
        evicted: [{ lane: 'standard', records: 2 }],
      });
      expect(await drain(q)).toEqual(['t2', 't3', 't4', 't5', 't6']);
    });

    it('refuses a single record bigger than the cap', async () => {
      const q = await queue(opts);
      const out = await q.append('critical', payload('huge', opts.maxBytes));
      expect(out).toEqual({ accepted: false, reason: 'cap', evicted: [] });
      expect(q.stats()).toMatchObject({ refused: 1, records: 0 });
      expect(q.stats().dropped.cap.records).toBe(1);
      expect((await q.append('critical', payload('ok', P))).accepted).toBe(true);
    });

    it('records in flight in an evicted segment can still be acked or released', async () => {
      const q = await queue(opts);
      for (let i = 0; i < 6; i++) await q.append('sampled', payload(`s${i}`, P));
      const a = (await q.take())!;
      const b = (await q.take())!;
      expect(q.stats().lanes.sampled.inFlight).toBe(2);
      // evicts the segment holding s0 and s1: both in flight, so nothing is dropped yet
      expect((await q.append('critical', payload('c0', P))).evicted).toEqual([]);
      expect(q.stats().lanes.sampled).toMatchObject({ records: 4, inFlight: 0 });
      await q.ack(a); // delivered after all: not a drop
      q.release(b); // could not be sent and its data is gone: a drop
      q.release(b);
      expect(q.stats().dropped.cap).toEqual({ records: 1, bytes: 124, points: 0 });
      expect(await drain(q)).toEqual(['c0', 's2', 's3', 's4', 's5']);
    });
  });

  it('shutdown is safe twice; afterwards append rejects and take gives nothing', async () => {
    const q = await queue();
    await q.append('critical', payload('a'));
    await q.shutdown();
    await q.shutdown();
    await expect(q.append('critical', payload('b'))).rejects.toThrow(/shut down/);
    expect(await q.take()).toBeUndefined();
  });

  it('appends already queued when shutdown() is called are written, not lost', async () => {
    const q = await queue();
    const pending = [q.append('critical', payload('a')), q.append('critical', payload('b'))];
    const stopped = q.shutdown();
    expect((await Promise.all(pending)).map((o) => o.accepted)).toEqual([true, true]);
    await stopped;
  });

  it('must be started before use; start is idempotent', async () => {
    const q = make({ ...QUEUE, maxBytes: 1 << 20 });
    open.push(q);
    await expect(q.append('critical', payload('a'))).rejects.toThrow(/start/);
    await Promise.all([q.start(), q.start()]);
    await q.start();
    expect((await q.append('critical', payload('a'))).accepted).toBe(true);
  });
});
