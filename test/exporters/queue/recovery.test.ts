/**
 * The disk queue across restarts: a new queue object on the same directory
 * delivers every record that was accepted and not acked, and bad files on
 * disk are truncated or moved aside, counted and logged, never a crash.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/core/log.js';
import { createDiskQueue, type ExportQueue, type Lane, type QueueOptions } from '../../../src/exporters/queue/index.js';
import { QUEUE } from '../../helpers/defaults.js';
import {
  captureLogger,
  diskTmpDir,
  drain,
  intact,
  type LogLine,
  payload,
  rmrf,
  segFiles,
  tagOf,
  takeAll,
  WARN,
} from './helpers.js';

const FRAME = 24;
const HEADER = 24;
const dirs: string[] = [];
const open: ExportQueue[] = [];

function tmp(): string {
  const d = diskTmpDir();
  dirs.push(d);
  return d;
}

async function openQueue(dir: string, o: Partial<QueueOptions> & { logger?: Logger } = {}): Promise<ExportQueue> {
  const q = createDiskQueue(dir, { ...QUEUE, maxBytes: 1 << 30, fsyncIntervalMs: 0, ...o });
  open.push(q);
  await q.start();
  return q;
}

async function fill(q: ExportQueue, lane: Lane, prefix: string, n: number, size = 64): Promise<void> {
  for (let i = 0; i < n; i++) expect((await q.append(lane, payload(`${prefix}${i}`, size))).accepted).toBe(true);
}

const warnings = (lines: LogLine[]) => lines.filter((l) => l.level >= WARN);

afterEach(async () => {
  for (const q of open.splice(0)) await q.shutdown();
  for (const d of dirs.splice(0)) rmrf(d);
});

describe('disk queue restart', () => {
  it('a new queue on the same directory delivers every un-acked record, in drain order', async () => {
    const dir = tmp();
    const q = await openQueue(dir, { segmentBytes: 400 });
    await fill(q, 'sampled', 's', 6);
    await fill(q, 'standard', 't', 6);
    await fill(q, 'critical', 'c', 6);
    const taken = await takeAll(q);
    // ack out of order: c0, c1, c3, t4; c2 released; the rest stays in flight
    for (const r of taken) {
      const t = tagOf(r.payload);
      if (['c0', 'c1', 'c3', 't4'].includes(t)) await q.ack(r);
      if (t === 'c2') q.release(r);
    }
    await q.shutdown();

    const q2 = await openQueue(dir, { segmentBytes: 400 });
    expect(q2.stats().records).toBeGreaterThanOrEqual(14);
    const got = await drain(q2);
    const unacked = taken.map((r) => tagOf(r.payload)).filter((t) => !['c0', 'c1', 'c3', 't4'].includes(t));
    for (const t of unacked) expect(got).toContain(t);
    // the contiguous acked prefix is not delivered again
    expect(got).not.toContain('c0');
    expect(got).not.toContain('c1');
    // drain order holds after a restart
    const lanes = got.map((t) => t[0]);
    expect(lanes).toEqual([...lanes].sort((a, b) => 'cts'.indexOf(a!) - 'cts'.indexOf(b!)));
    expect(got.filter((t) => t.startsWith('s'))).toEqual(['s0', 's1', 's2', 's3', 's4', 's5']);
  });

  it('without a shutdown (a crash), every appended and un-acked record comes back intact', async () => {
    const dir = tmp();
    const q = await openQueue(dir, { segmentBytes: 1000 });
    await fill(q, 'critical', 'c', 10, 300);
    for (let i = 0; i < 3; i++) await q.ack((await q.take())!);
    // the queue object is abandoned: no shutdown, no position save
    const q2 = await openQueue(dir, { segmentBytes: 1000 });
    const recs = await takeAll(q2);
    expect(recs.every((r) => intact(r.payload))).toBe(true);
    const tags = recs.map((r) => tagOf(r.payload));
    for (let i = 3; i < 10; i++) expect(tags).toContain(`c${i}`);
    expect(q2.stats().dropped.corrupt.records).toBe(0);
  });

  it('acks are saved in the position file soon after they happen, without a shutdown', async () => {
    const dir = tmp();
    const q = await openQueue(dir);
    await fill(q, 'critical', 'c', 5);
    for (let i = 0; i < 3; i++) await q.ack((await q.take())!);
    const pos = path.join(dir, 'critical', 'pos.json');
    const next = () => (fs.existsSync(pos) ? JSON.parse(fs.readFileSync(pos, 'utf8')).next : undefined);
    for (let i = 0; i < 500 && next() !== 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(JSON.parse(fs.readFileSync(pos, 'utf8')).next).toBe(3);
    // a crash now delivers only what was not acked
    const q2 = await openQueue(dir);
    expect(await drain(q2)).toEqual(['c3', 'c4']);
  });

  it('sequence numbers keep growing after every record was acked and its segment deleted', async () => {
    const dir = tmp();
    const q = await openQueue(dir);
    await fill(q, 'standard', 't', 5);
    await drain(q);
    await q.shutdown();
    const q2 = await openQueue(dir);
    expect(segFiles(dir, 'standard')).toEqual([]);
    await q2.append('standard', payload('new'));
    const r = (await q2.take())!;
    expect(r.seq).toBe(5);
    q2.release(r);
    const q3 = await openQueue(dir);
    expect(await drain(q3)).toEqual(['new']);
  });

  it('deletes a segment file once every record in it is acked, in any order', async () => {
    const dir = tmp();
    // two 64-byte records per segment
    const q = await openQueue(dir, { segmentBytes: HEADER + 2 * (64 + FRAME) });
    await fill(q, 'standard', 't', 6);
    expect(segFiles(dir, 'standard')).toHaveLength(3);
    const [a, b, c, d] = [(await q.take())!, (await q.take())!, (await q.take())!, (await q.take())!];
    await q.ack(c);
    await q.ack(d); // second segment fully acked first
    expect(segFiles(dir, 'standard')).toEqual(['0000000000000000.seg', '0000000000000004.seg']);
    const before = q.stats().diskBytes;
    await q.ack(a);
    await q.ack(b);
    expect(segFiles(dir, 'standard')).toEqual(['0000000000000004.seg']);
    expect(q.stats().diskBytes).toBe(before - (HEADER + 2 * (64 + FRAME)));
    await drain(q);
    // the open segment stays until it rotates or the next start
    expect(segFiles(dir, 'standard')).toHaveLength(1);
    await q.shutdown();
    const pos = JSON.parse(fs.readFileSync(path.join(dir, 'standard', 'pos.json'), 'utf8'));
    expect(pos).toMatchObject({ format: 1, lane: 'standard', next: 6, end: 6 });
    const q2 = await openQueue(dir);
    expect(segFiles(dir, 'standard')).toEqual([]);
    expect(q2.stats()).toMatchObject({ records: 0, diskBytes: 0 });
  });
});

describe('disk queue recovery from damaged files', () => {
  async function prepared(n: number, segmentBytes = 1 << 20): Promise<{ dir: string; files: string[] }> {
    const dir = tmp();
    const q = await openQueue(dir, { segmentBytes });
    await fill(q, 'critical', 'r', n, 100);
    await q.shutdown();
    return { dir, files: segFiles(dir, 'critical').map((f) => path.join(dir, 'critical', f)) };
  }

  it('truncates a torn tail at the last good record, counts and logs it once, and the next start is clean', async () => {
    const { dir, files } = await prepared(5);
    const file = files[0]!;
    const size = fs.statSync(file).size;
    fs.truncateSync(file, size - 30); // the last frame loses its end
    const { logger, lines } = captureLogger();
    const q = await openQueue(dir, { logger });
    expect(q.stats().dropped.corrupt.records).toBe(1);
    expect(q.stats().records).toBe(4);
    const w = warnings(lines);
    expect(w).toHaveLength(1);
    expect(w[0]!.file).toBe(file);
    expect(fs.statSync(file).size).toBe(size - (100 + FRAME));
    await q.shutdown();

    const second = captureLogger();
    const q2 = await openQueue(dir, { logger: second.logger });
    expect(q2.stats().dropped.corrupt).toEqual({ records: 0, bytes: 0, points: 0 });
    expect(warnings(second.lines)).toEqual([]);
    expect(await drain(q2)).toEqual(['r0', 'r1', 'r2', 'r3']);
  });

  it('a tail shorter than a frame header is truncated too', async () => {
    const { dir, files } = await prepared(3);
    fs.appendFileSync(files[0]!, Buffer.from([1, 2, 3, 4, 5]));
    const q = await openQueue(dir);
    expect(q.stats().dropped.corrupt.records).toBe(1);
    expect(await drain(q)).toEqual(['r0', 'r1', 'r2']);
  });

  it('a corrupt frame in the middle loses only that record: recovery resynchronises on the next intact frame', async () => {
    // five 100-byte records per segment, two segments
    const { dir, files } = await prepared(10, HEADER + 5 * (100 + FRAME));
    expect(files).toHaveLength(2);
    const fd = fs.openSync(files[0]!, 'r+');
    const at = HEADER + 2 * (100 + FRAME) + FRAME + 50; // a payload byte of the third record
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    fs.writeSync(fd, b, 0, 1, at);
    fs.closeSync(fd);
    const { logger, lines } = captureLogger();
    const q = await openQueue(dir, { logger });
    expect(q.stats().dropped.corrupt).toEqual({ records: 1, bytes: 100 + FRAME, points: 0 });
    expect(warnings(lines).map((l) => l.file)).toEqual([files[0]]);
    expect(warnings(lines)[0]).toMatchObject({ records: 1, seqs: '2', kept: 4 });
    await q.shutdown();
    // the damaged region is marked: the next start neither counts nor reports it again
    const second = captureLogger();
    const q2 = await openQueue(dir, { logger: second.logger });
    expect(q2.stats().dropped.corrupt.records).toBe(0);
    expect(warnings(second.lines)).toEqual([]);
    expect(await drain(q2)).toEqual(['r0', 'r1', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
  });

  it('a length field that runs past the end is a corrupt tail', async () => {
    const { dir, files } = await prepared(4);
    const fd = fs.openSync(files[0]!, 'r+');
    const len = Buffer.alloc(4);
    len.writeUInt32LE(0x7000_0000);
    fs.writeSync(fd, len, 0, 4, HEADER + 3 * (100 + FRAME));
    fs.closeSync(fd);
    const q = await openQueue(dir);
    expect(q.stats().dropped.corrupt.records).toBe(1);
    expect(await drain(q)).toEqual(['r0', 'r1', 'r2']);
  });

  it('a damaged segment header over intact records is rewritten: no record lost', async () => {
    const { dir, files } = await prepared(10, HEADER + 5 * (100 + FRAME));
    const fd = fs.openSync(files[0]!, 'r+');
    fs.writeSync(fd, Buffer.from('GARBAGE!'), 0, 8, 0);
    fs.closeSync(fd);
    const { logger, lines } = captureLogger();
    const q = await openQueue(dir, { logger });
    expect(q.stats().dropped.corrupt).toEqual({ records: 0, bytes: 0, points: 0 });
    expect(warnings(lines).map((l) => [l.file, l.msg])).toEqual([
      [files[0], 'queue segment header damaged; rewritten from its records (no record lost)'],
    ]);
    expect(fs.readFileSync(files[0]!).subarray(0, 8).toString('latin1')).toBe('NRDQSEG\n');
    expect(await drain(q)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
  });

  it('moves a file that is not a segment of ours aside as .bad and ignores files it does not know', async () => {
    const { dir, files } = await prepared(10, HEADER + 5 * (100 + FRAME));
    const foreign = path.join(dir, 'critical', '0000000000000020.seg');
    fs.writeFileSync(foreign, Buffer.alloc(300, 0x5a));
    fs.writeFileSync(path.join(dir, 'critical', 'notes.txt'), 'hello');
    fs.writeFileSync(path.join(dir, 'critical', '12.seg'), 'not ours either');
    fs.mkdirSync(path.join(dir, 'junk'));
    const { logger, lines } = captureLogger();
    const q = await openQueue(dir, { logger });
    expect(fs.existsSync(`${foreign}.bad`)).toBe(true);
    expect(fs.existsSync(foreign)).toBe(false);
    expect(q.stats().dropped.corrupt.bytes).toBe(300);
    expect(warnings(lines).some((l) => l.file === foreign && /moved aside/.test(l.msg))).toBe(true);
    expect(await drain(q)).toEqual(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7', 'r8', 'r9']);
    expect(files).toHaveLength(2);
    expect(fs.readFileSync(path.join(dir, 'critical', 'notes.txt'), 'utf8')).toBe('hello');
    expect(fs.existsSync(path.join(dir, 'critical', '12.seg'))).toBe(true);
    await q.shutdown();
    const q2 = await openQueue(dir);
    expect(q2.stats().dropped.corrupt.bytes).toBe(0);
  });

  it('removes a segment whose creation was cut short (part of a header, no records)', async () => {
    const dir = tmp();
    const q = await openQueue(dir);
    await fill(q, 'standard', 't', 2);
    await q.shutdown();
    const [first] = segFiles(dir, 'standard');
    const head = fs.readFileSync(path.join(dir, 'standard', first!)).subarray(0, 10);
    const torn = path.join(dir, 'standard', '0000000000000099.seg');
    fs.writeFileSync(torn, head);
    const q2 = await openQueue(dir);
    expect(fs.existsSync(torn)).toBe(false);
    expect(q2.stats().dropped.corrupt).toEqual({ records: 0, bytes: 0, points: 0 });
    expect(await drain(q2)).toEqual(['t0', 't1']);
  });

  it('a corrupt position file is logged and the lane is delivered again from its oldest segment', async () => {
    const dir = tmp();
    const q = await openQueue(dir);
    await fill(q, 'standard', 't', 6);
    for (let i = 0; i < 4; i++) await q.ack((await q.take())!);
    await q.shutdown();
    const pos = path.join(dir, 'standard', 'pos.json');
    expect(JSON.parse(fs.readFileSync(pos, 'utf8')).next).toBe(4);
    fs.writeFileSync(pos, '{"format":1,"lane":"stan');
    const { logger, lines } = captureLogger();
    const q2 = await openQueue(dir, { logger });
    expect(warnings(lines).map((l) => l.file)).toEqual([pos]);
    expect(await drain(q2)).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
  });

  it('take() checks the CRC: a record damaged on disk after start is dropped as corrupt and the next one served', async () => {
    const { dir, files } = await prepared(3);
    const q = await openQueue(dir);
    const fd = fs.openSync(files[0]!, 'r+');
    fs.writeSync(fd, Buffer.from([0xee]), 0, 1, HEADER + FRAME + 10);
    fs.closeSync(fd);
    expect(await drain(q)).toEqual(['r1', 'r2']);
    expect(q.stats().dropped.corrupt).toEqual({ records: 1, bytes: 100 + FRAME, points: 0 });
  });
});
