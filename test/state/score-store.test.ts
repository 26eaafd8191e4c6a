/**
 * The binary scoring checkpoint: round trip, and every kind of bad file
 * (corrupt, truncated, wrong version, foreign, stale, another proc root)
 * reported in one log line, moved aside where unusable, and a fresh start.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { RollupMemory } from '../../src/stages/group/rollup.js';
import { CounterMemory } from '../../src/stages/rates/counters.js';
import { crc32, decodeScoreState, encodeScoreState } from '../../src/stages/score/persist.js';
import { ScoreTable } from '../../src/stages/score/table.js';
import { SCORE_FILE, StateStore } from '../../src/state/store.js';
import { fastTmpDir } from '../../src/util/tmp.js';

const tmp = fastTmpDir('nrdot-score-state-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const HOUR = 3_600_000;

function captureLogger() {
  const lines: { level: number; msg: string; reason?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s)) });
  return { logger, lines };
}

function sampleTable(): ScoreTable {
  const t = new ScoreTable(4);
  const pid = Int32Array.from([101, 202, 303, 404, 505]);
  const start = Float64Array.from([1, 2, 3, 4, 5]);
  const slots = t.assign(5, pid, start, 1, 0);
  slots.forEach((s, i) => {
    t.cols.cpuMean[s] = 0.1 * i;
    t.cols.cpuVar[s] = 0.01 * i;
    t.cols.rssMean[s] = 1e6 * i;
    t.cols.rssVar[s] = 1e3 * i;
    t.cols.cpuN[s] = i + 1;
    t.cols.rssN[s] = i + 2;
    t.cols.holdUntil[s] = i === 2 ? 123_456 : 0;
    t.cols.reason[s] = i === 2 ? 2 : 0;
  });
  return t;
}

function entries(t: ScoreTable) {
  return [...t.index.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([pid, s]) => [
      pid,
      t.cols.start[s],
      t.cols.cpuMean[s],
      t.cols.cpuVar[s],
      t.cols.rssMean[s],
      t.cols.rssVar[s],
      t.cols.cpuN[s],
      t.cols.rssN[s],
      t.cols.holdUntil[s],
      t.cols.reason[s],
    ]);
}

describe('scoring checkpoint format', () => {
  it('round-trips every column', () => {
    const t = sampleTable();
    const r = decodeScoreState(encodeScoreState(t, '/proc', 42));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.procRoot).toBe('/proc');
    expect(r.savedAtMs).toBe(42);
    expect(entries(r.table)).toEqual(entries(t));
  });

  it('has a CRC-32 that matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });

  it('refuses flipped bits, truncation, another version and foreign bytes', () => {
    const good = encodeScoreState(sampleTable(), '/proc', 1);
    const flipped = Buffer.from(good);
    flipped[60] = flipped[60]! ^ 0x10;
    expect(decodeScoreState(flipped)).toMatchObject({ ok: false, reason: expect.stringContaining('CRC') });
    expect(decodeScoreState(good.subarray(0, good.length - 7))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('truncated'),
    });
    expect(decodeScoreState(good.subarray(0, 20))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('truncated'),
    });
    const v2 = Buffer.from(good);
    v2.writeUInt32LE(2, 8);
    expect(decodeScoreState(v2)).toMatchObject({ ok: false, reason: expect.stringContaining('version 2') });
    expect(decodeScoreState(Buffer.from('{"kind":"nrdot-state"}'))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('magic'),
    });
    expect(decodeScoreState(new Uint8Array(0))).toMatchObject({ ok: false });
  });
});

describe('StateStore with scoring state', () => {
  const save = (dir: string, table: ScoreTable, nowMs: number, procRoot = '/proc') => {
    const store = new StateStore(dir, procRoot, captureLogger().logger);
    store.prepare();
    expect(store.save(new CounterMemory(), new RollupMemory(0), nowMs, table)).toBe(true);
  };

  it('saves atomically next to the counter state and restores the baselines', () => {
    const dir = path.join(tmp, 'ok');
    save(dir, sampleTable(), 1000);
    expect(fs.readdirSync(dir).sort()).toEqual(['nrdot-score.bin', 'nrdot-state.json']);
    const { logger, lines } = captureLogger();
    const r = new StateStore(dir, '/proc', logger).loadScores(2000, HOUR);
    expect(r.restored).toBe(true);
    expect(entries(r.table)).toEqual(entries(sampleTable()));
    expect(lines).toHaveLength(0);
  });

  const bad: [string, (good: Buffer) => Buffer | string, string][] = [
    ['corrupt', (g) => Buffer.from(g.map((b, i) => (i === 40 ? b ^ 0xff : b))), 'CRC'],
    ['truncated', (g) => g.subarray(0, g.length - 30), 'truncated'],
    [
      'wrong-version',
      (g) => {
        const v = Buffer.from(g);
        v.writeUInt32LE(99, 8);
        return v;
      },
      'version 99',
    ],
    ['foreign', () => 'hello, not a state file\n', 'magic'],
    ['empty', () => Buffer.alloc(0), 'magic'],
  ];
  it.each(bad)('a %s file is moved aside with one log line, and baselines start fresh', (name, mangle, why) => {
    const dir = path.join(tmp, name);
    save(dir, sampleTable(), 1000);
    const file = path.join(dir, SCORE_FILE);
    fs.writeFileSync(file, mangle(fs.readFileSync(file)));
    const { logger, lines } = captureLogger();
    const r = new StateStore(dir, '/proc', logger).loadScores(5000, HOUR);
    expect(r.restored).toBe(false);
    expect(r.table.size).toBe(0);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toBe('state file is unusable: moved aside, starting fresh');
    expect(lines[0]!.reason).toContain(why);
    expect(fs.readdirSync(dir)).toContain(`${SCORE_FILE}.corrupt-5000`);
    expect(fs.existsSync(file)).toBe(false);
  });

  it('drops baselines older than the TTL, and those of another proc root', () => {
    const dir = path.join(tmp, 'stale');
    save(dir, sampleTable(), 1000);
    const a = captureLogger();
    expect(new StateStore(dir, '/proc', a.logger).loadScores(1000 + 2 * HOUR, HOUR).restored).toBe(false);
    expect(a.lines.map((l) => l.msg)).toEqual(['scoring baselines are older than scoring.state_ttl: starting fresh']);
    const b = captureLogger();
    expect(new StateStore(dir, '/other', b.logger).loadScores(2000, HOUR).restored).toBe(false);
    expect(b.lines).toHaveLength(1);
  });

  it('an unwritable state dir: one warning, no persistence, no crash', () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x');
    const { logger, lines } = captureLogger();
    const store = new StateStore(path.join(file, 'state'), '/proc', logger);
    store.prepare();
    expect(store.writable).toBe(false);
    expect(store.save(new CounterMemory(), new RollupMemory(0), 1, sampleTable())).toBe(false);
    expect(store.loadScores(1, HOUR).restored).toBe(false);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    expect(lines[0]!.msg).toContain('running without persistence');
  });
});
