/**
 * Damage at every offset class of a segment, the way a bad disk, a torn
 * write or a careless operator leaves it: byte flips in the segment header,
 * in each field of a frame header and in the payload, and truncations inside
 * the header, a frame header, a payload and at a frame boundary, in the
 * first, a middle and the newest segment of a lane. Each case checks that
 * exactly the damaged records are lost, that they are counted (records and,
 * where the bytes still say, points), that one warning names the file, and
 * that the next start neither counts nor reports them again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiskQueue, type ExportQueue } from '../../../src/exporters/queue/index.js';
import { QUEUE } from '../../helpers/defaults.js';
import { captureLogger, diskTmpDir, drain, type LogLine, payload, rmrf, segFiles, WARN } from './helpers.js';

const FRAME = 24;
const HEADER = 24;
const SIZE = 100;
const PER_SEG = 5;
const SEGS = 3;
const N = PER_SEG * SEGS;
const POINTS = 7;
const weigh = () => POINTS;
const ALL = Array.from({ length: N }, (_, i) => `r${i}`);

let base: string;
const dirs: string[] = [];

beforeAll(async () => {
  base = diskTmpDir('nrdot-damage-');
  const q = createDiskQueue(base, {
    ...QUEUE,
    maxBytes: 1 << 30,
    segmentBytes: HEADER + PER_SEG * (SIZE + FRAME),
    fsyncIntervalMs: 1000,
    weigh,
  });
  await q.start();
  for (let i = 0; i < N; i++) expect((await q.append('critical', payload(`r${i}`, SIZE))).accepted).toBe(true);
  await q.shutdown();
  expect(segFiles(base, 'critical')).toHaveLength(SEGS);
});
afterAll(() => {
  rmrf(base);
  for (const d of dirs.splice(0)) rmrf(d);
});

/** A copy of the prepared queue, with segment `seg` changed by `damage`. */
function damaged(seg: number, damage: (file: string) => void): { dir: string; file: string } {
  const dir = diskTmpDir('nrdot-damage-case-');
  dirs.push(dir);
  fs.cpSync(base, dir, { recursive: true });
  const file = path.join(dir, 'critical', segFiles(dir, 'critical')[seg]!);
  damage(file);
  return { dir, file };
}

const flip = (at: number) => (file: string) => {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.alloc(1);
  fs.readSync(fd, b, 0, 1, at);
  b[0] = b[0]! ^ 0xff;
  fs.writeSync(fd, b, 0, 1, at);
  fs.closeSync(fd);
};
const cut = (at: number) => (file: string) => fs.truncateSync(file, at);

async function open(dir: string): Promise<{ q: ExportQueue; lines: LogLine[] }> {
  const { logger, lines } = captureLogger();
  const q = createDiskQueue(dir, { ...QUEUE, maxBytes: 1 << 30, fsyncIntervalMs: 0, logger, weigh });
  await q.start();
  return { q, lines };
}

/**
 * Open the damaged queue twice: the first start counts and reports exactly
 * `lost`; the second finds nothing more and delivers everything else.
 */
async function check(
  dir: string,
  file: string,
  lost: number[],
  opts: { points?: number; warnFile?: string; afterFirst?: () => void } = {},
) {
  const first = await open(dir);
  const st = first.q.stats();
  expect(st.dropped.corrupt.records).toBe(lost.length);
  expect(st.droppedByLane.critical.corrupt.records).toBe(lost.length);
  if (opts.points !== undefined) expect(st.dropped.corrupt.points).toBe(opts.points);
  expect(st.dropped.corrupt.points).toBeLessThanOrEqual(lost.length * POINTS);
  const warns = first.lines.filter((l) => l.level >= WARN);
  expect(warns, JSON.stringify(first.lines)).toHaveLength(1);
  expect(warns[0]!.file).toBe(opts.warnFile ?? file);
  if (lost.length > 0) expect(warns[0]!.records).toBe(lost.length);
  expect(first.lines.some((l) => /creation was interrupted/.test(l.msg))).toBe(false);
  await first.q.shutdown();
  opts.afterFirst?.();

  const second = await open(dir);
  expect(second.q.stats().dropped.corrupt).toEqual({ records: 0, bytes: 0, points: 0 });
  expect(second.lines.filter((l) => l.level >= WARN)).toEqual([]);
  expect(await drain(second.q)).toEqual(ALL.filter((t) => !lost.map((i) => `r${i}`).includes(t)));
  await second.q.shutdown();
}

const frameAt = (k: number) => HEADER + k * (SIZE + FRAME);
const segName = ['the first', 'a middle', 'the newest'];

describe.each([0, 1, 2])('damage in %s segment of three', (seg) => {
  const first = seg * PER_SEG;

  it.each([
    ['magic', 0],
    ['format version', 8],
    ['lane code', 12],
    ['first seq', 16],
  ])('a flipped byte in the segment header (%s) is repaired: nothing lost', async (_what, at) => {
    const { dir, file } = damaged(seg, flip(at));
    const pristine = fs.readFileSync(path.join(base, 'critical', path.basename(file))).subarray(0, HEADER);
    await check(dir, file, [], {
      afterFirst: () => expect(fs.readFileSync(file).subarray(0, HEADER)).toEqual(pristine),
    });
  });

  const fields: [string, number][] = [
    ['length, low byte', 0],
    ['length, high byte', 3],
    ['CRC', 4],
    ['seq, low byte', 8],
    ['seq, high byte', 15],
    ['enqueue time', 16],
    ['payload, first byte (the record header)', FRAME],
    ['payload, middle', FRAME + SIZE / 2],
    ['payload, last byte', FRAME + SIZE - 1],
  ];
  describe.each([0, 2, 4])(`record %i of ${PER_SEG} in ${segName[seg]} segment`, (k) => {
    it.each(fields)('a flipped byte in the frame (%s) loses that record only', async (_what, at) => {
      const { dir, file } = damaged(seg, flip(frameAt(k) + at));
      // the damaged record's points are counted when its length still frames it
      await check(dir, file, [first + k]);
    });

    it('a truncation inside its frame header loses it and the rest of the segment, counted', async () => {
      const { dir, file } = damaged(seg, cut(frameAt(k) + 10));
      await check(dir, file, range(first + k, first + PER_SEG));
    });

    it('a truncation inside its payload loses it and the rest of the segment, counted', async () => {
      const { dir, file } = damaged(seg, cut(frameAt(k) + FRAME + SIZE / 2));
      await check(dir, file, range(first + k, first + PER_SEG), { points: 0 });
    });
  });

  it.each([
    ['an empty file', 0],
    ['inside the header', 10],
  ])('a segment cut to %s loses its records, counted and warned about (not "creation interrupted")', async (_w, at) => {
    const { dir, file } = damaged(seg, cut(at));
    await check(dir, file, range(first, first + PER_SEG));
    expect(fs.existsSync(file)).toBe(false);
  });
});

describe('truncation at a frame boundary of the newest segment', () => {
  it.each([0, 2, 4])('cut after %i records: the lane end saved in pos.json counts the missing ones', async (k) => {
    const { dir } = damaged(2, cut(frameAt(k)));
    await check(dir, '', range(2 * PER_SEG + k, N), { warnFile: path.join(dir, 'critical', 'pos.json') });
  });
});

describe('a flipped payload byte in the damaged record', () => {
  it('counts the record and the points its header still shows', async () => {
    const { dir, file } = damaged(1, flip(frameAt(2) + FRAME + SIZE / 2));
    await check(dir, file, [7], { points: POINTS });
  });
});

describe('records already delivered are not counted as lost', () => {
  it('damage below the saved position is repaired silently in the count', async () => {
    const dir = diskTmpDir('nrdot-damage-case-');
    dirs.push(dir);
    fs.cpSync(base, dir, { recursive: true });
    const q = await open(dir);
    for (let i = 0; i < 3; i++) await q.q.ack((await q.q.take())!);
    await q.q.shutdown();
    const file = path.join(dir, 'critical', segFiles(dir, 'critical')[0]!);
    flip(frameAt(1) + FRAME + 5)(file); // r1, delivered
    flip(frameAt(3) + FRAME + 5)(file); // r3, not delivered
    const first = await open(dir);
    expect(first.q.stats().dropped.corrupt.records).toBe(1);
    expect(await drain(first.q)).toEqual(ALL.slice(4));
    await first.q.shutdown();
  });
});

describe('the position file against the segments', () => {
  function withPosition(text: string): string {
    const dir = diskTmpDir('nrdot-damage-case-');
    dirs.push(dir);
    fs.cpSync(base, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'critical', 'pos.json'), text);
    return dir;
  }

  it('a position past the last record on disk is not trusted: everything is delivered again, with a warning', async () => {
    // the format before `end` and `crc`: nothing to check it against but the segments
    const dir = withPosition('{"format":1,"lane":"critical","next":900}\n');
    const { q, lines } = await open(dir);
    const w = lines.filter((l) => l.level >= WARN);
    expect(w.map((l) => l.msg)).toEqual([expect.stringMatching(/points past the last record on disk/)]);
    expect(w[0]).toMatchObject({ file: path.join(dir, 'critical', 'pos.json'), next: 900, lastRecordOnDisk: N - 1 });
    expect(await drain(q)).toEqual(ALL);
    await q.shutdown();
  });

  it('a changed digit fails the checksum: the lane is delivered again from its oldest segment', async () => {
    const good = fs.readFileSync(path.join(base, 'critical', 'pos.json'), 'utf8');
    const j = JSON.parse(good) as { next: number; end: number };
    expect(j).toMatchObject({ next: 0, end: N });
    const dir = withPosition(good.replace('"next":0', '"next":9'));
    const { q, lines } = await open(dir);
    expect(lines.filter((l) => l.level >= WARN).map((l) => l.msg)).toEqual([
      expect.stringMatching(/position file is corrupt/),
    ]);
    expect(await drain(q)).toEqual(ALL);
    await q.shutdown();
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
