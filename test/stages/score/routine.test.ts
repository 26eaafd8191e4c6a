/**
 * Routine starts: busy starts are `new` anomalies until starting busy is
 * what the executable usually does; then only a start that stands out from
 * the usual ones is. Driven through the score stage over real frames.
 */

import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { Frame } from '../../../src/core/frame.js';
import { IdentityTable } from '../../../src/core/identity.js';
import type { CycleContext } from '../../../src/pipeline/stage.js';
import { allocBatch, FLAG_NEW_IDENTITY } from '../../../src/sources/batch.js';
import { OUT_REASON_MASK, REASON_NEW } from '../../../src/stages/score/score.js';
import { ScoreStage } from '../../../src/stages/score/stage.js';

interface BatchRow {
  pid: number;
  name: string;
  born: boolean;
  rss: number;
}

/** A batch of fresh identities (every row carries its strings). */
function batchOf(rows: BatchRow[]) {
  const b = allocBatch(rows.length, {
    hostname: 'h',
    bootTimeSec: 1_700_000_000,
    uptimeSec: 1000,
    cpuCount: 8,
    memTotalBytes: 64 << 30,
    clkTck: 100,
    pageSize: 4096,
  });
  rows.forEach((r, i) => {
    b.pid[i] = r.pid;
    b.startTicks[i] = 90_000 + r.pid;
    b.rssBytes[i] = r.rss;
    b.flags[i] = FLAG_NEW_IDENTITY;
  });
  b.count = rows.length;
  b.freshRows = Int32Array.from(rows.keys());
  b.freshName = rows.map((r) => r.name);
  b.freshCmdline = rows.map((r) => r.name);
  b.freshExe = rows.map((r) => `/usr/bin/${r.name}`);
  b.freshCgroup = rows.map(() => '');
  return b;
}

const { config } = loadConfig();
const profile = config.profiles.balanced!;
const ctx = { profile, profileName: 'balanced' } as unknown as CycleContext;

/** One cycle of `rows` through a score stage; returns the `new` flags per row. */
async function cycle(stage: ScoreStage, ids: IdentityTable, rows: BatchRow[], n: number, cpu: number[]) {
  const b = batchOf(rows);
  const f = new Frame(b, false, n, n * 10_000, ids.assign(b));
  for (let i = 0; i < f.n; i++) {
    f.cpuCores[i] = cpu[i]!;
    f.born[i] = rows[i]!.born ? 1 : 0;
  }
  await stage.process(f, ctx);
  ids.sweep();
  return [...f.anomaly].map((o) => (o & OUT_REASON_MASK) === REASON_NEW);
}

describe('routine starts', () => {
  it('promotes the first busy starts of an executable, then only the ones that stand out', async () => {
    const ids = new IdentityTable();
    const stage = new ScoreStage(ids, 0, 3_600_000, pino({ level: 'silent' }));
    await stage.start();
    let pid = 1000;
    const after = profile.anomaly.new_routine_after ?? 5;
    // a build host: 40 compilers start per cycle, each using about one core
    const flagged: number[] = [];
    for (let c = 1; c <= 4; c++) {
      const rows = Array.from({ length: 40 }, () => ({ pid: pid++, name: 'cc1plus', born: true, rss: 80 << 20 }));
      const cpu = rows.map((_, i) => 1 + (i % 5) * 0.1);
      const out = await cycle(stage, ids, rows, c, cpu);
      flagged.push(out.filter(Boolean).length);
    }
    // the first `after` starts are new; after that none of the usual ones
    expect(flagged[0]).toBe(after);
    expect(flagged.slice(1)).toEqual([0, 0, 0]);
    // one that stands out (6 cores where starts use about 1.2) is new again, and so is another executable
    const rows = [
      { pid: pid++, name: 'cc1plus', born: true, rss: 80 << 20 },
      { pid: pid++, name: 'cc1plus', born: true, rss: 80 << 20 },
      { pid: pid++, name: 'xmrig', born: true, rss: 80 << 20 },
    ];
    const out = await cycle(stage, ids, rows, 5, [6, 1.1, 3]);
    expect(out).toEqual([true, false, true]);
    await stage.shutdown();
  });

  it('new_routine_after: 0 keeps every busy start new', async () => {
    const ids = new IdentityTable();
    const stage = new ScoreStage(ids, 0, 3_600_000, pino({ level: 'silent' }));
    await stage.start();
    const off = {
      ...ctx,
      profile: { ...profile, anomaly: { ...profile.anomaly, new_routine_after: 0 } },
    } as CycleContext;
    let pid = 5000;
    for (let c = 1; c <= 3; c++) {
      const rows = Array.from({ length: 30 }, () => ({ pid: pid++, name: 'rustc', born: true, rss: 80 << 20 }));
      const b = batchOf(rows);
      const f = new Frame(b, false, c, c * 10_000, ids.assign(b));
      for (let i = 0; i < f.n; i++) {
        f.cpuCores[i] = 1.5;
        f.born[i] = 1;
      }
      await stage.process(f, off);
      ids.sweep();
      expect([...f.anomaly].filter((o) => (o & OUT_REASON_MASK) === REASON_NEW)).toHaveLength(30);
    }
    await stage.shutdown();
  });
});
