/**
 * The scoring rules, run through both scorers: the same suite inline and on a
 * piscina pool (FlatBuffers batches, shared table), plus a parity test.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { IdentityTable } from '../../../src/core/identity.js';
import type { ProcessBatch } from '../../../src/sources/batch.js';
import {
  departs,
  InlineScorer,
  OUT_PROMOTED_NOW,
  OUT_REASON_MASK,
  PoolScorer,
  REASON_CPU,
  REASON_MEMORY,
  REASON_NEW,
  ROW_BORN,
  ScoreColumns,
  type ScoreParams,
  type Scorer,
} from '../../../src/stages/score/index.js';

const MIB = 1024 * 1024;
const P: ScoreParams = {
  alpha: 0.3,
  zThreshold: 4,
  minSamples: 3,
  relativeJump: 1.0,
  noiseFraction: 0.05,
  minCpu: 0.25,
  minRss: 2 * MIB,
  newCpu: 1.0,
  newRss: 256 * MIB,
  holdMs: 60_000,
};

interface Row {
  pid: number;
  start?: number;
  cpu?: number;
  rss?: number;
  born?: boolean;
}

/** Feed one cycle of rows; returns the output byte per pid. */
class Harness {
  ids = new IdentityTable(4);
  table = new ScoreColumns(this.ids);
  cycle = 0;
  constructor(
    readonly scorer: Scorer,
    readonly params: ScoreParams = P,
  ) {}
  async step(rows: Row[], nowMs: number): Promise<Map<number, number>> {
    const n = rows.length;
    this.cycle++;
    const pid = Int32Array.from(rows.map((r) => r.pid));
    const start = Float64Array.from(rows.map((r) => r.start ?? 100));
    const { slot } = this.ids.assign({
      count: n,
      pid,
      startTicks: start,
      uid: new Int32Array(n),
      freshRows: new Int32Array(0),
    } as unknown as ProcessBatch);
    const input = {
      count: n,
      slot,
      cpu: Float64Array.from(rows.map((r) => r.cpu ?? 0.01)),
      rss: Float64Array.from(rows.map((r) => r.rss ?? 10 * MIB)),
      flags: Uint8Array.from(rows.map((r) => (r.born ? ROW_BORN : 0))),
    };
    const out = await this.scorer.score(this.table, input, this.params, this.cycle, nowMs);
    this.ids.sweep();
    return new Map(rows.map((r, i) => [r.pid, out[i]!]));
  }
}

const reason = (o: number | undefined) => (o ?? 0) & OUT_REASON_MASK;
const isNew = (o: number | undefined) => ((o ?? 0) & OUT_PROMOTED_NOW) !== 0;

describe('departs (the rule itself)', () => {
  it('needs the absolute floor and a relative jump or a z-score', () => {
    expect(departs(0.003, 0.001, 0, 5, 0.25, P)).toBe(false); // tripled, but idle
    expect(departs(0.6, 0.02, 0, 5, 0.25, P)).toBe(true); // flat baseline, jump
    expect(departs(1.5, 1.0, 0.0004, 5, 0.25, P)).toBe(true); // z = 0.5 / max(0.02, 0.05) = 10
    expect(departs(1.5, 1.0, 0.0004, 2, 0.25, P)).toBe(false); // not enough history for z, not doubled
    expect(departs(1.5, 1.0, 0.04, 5, 0.25, P)).toBe(false); // sd 0.2: z = 2.5
    expect(departs(Number.NaN, 0.02, 0, 5, 0.25, P)).toBe(false);
    expect(departs(-1, 0.02, 0, 5, 0.25, P)).toBe(false);
    expect(departs(0.6, 0.02, 0, 0, 0.25, P)).toBe(false); // no baseline yet
  });
});

const scorers: [string, () => Scorer][] = [
  ['inline', () => new InlineScorer()],
  ['2 workers', () => new PoolScorer(2)],
];

describe.each(scorers)('scoring (%s)', (_name, make) => {
  const scorer = make();
  afterAll(() => scorer.close());
  const t0 = 1_000_000;
  const at = (c: number) => t0 + c * 10_000;

  it('promotes a CPU jump from a flat baseline, and only once', async () => {
    const h = new Harness(scorer);
    for (let c = 0; c < 5; c++) expect(reason((await h.step([{ pid: 10, cpu: 0.02 }], at(c))).get(10))).toBe(0);
    const o = (await h.step([{ pid: 10, cpu: 0.9 }], at(5))).get(10);
    expect(reason(o)).toBe(REASON_CPU);
    expect(isNew(o)).toBe(true);
    const again = (await h.step([{ pid: 10, cpu: 0.9 }], at(6))).get(10);
    expect(reason(again)).toBe(REASON_CPU); // still held
    expect(isNew(again)).toBe(false); // not a second promotion
  });

  it('promotes an RSS balloon as memory', async () => {
    const h = new Harness(scorer);
    for (let c = 0; c < 3; c++) await h.step([{ pid: 11, rss: 100 * MIB }], at(c));
    expect(reason((await h.step([{ pid: 11, rss: 900 * MIB }], at(3))).get(11))).toBe(REASON_MEMORY);
  });

  it('uses the z-score after min_samples for a rise short of a doubling', async () => {
    const noisy = [1.0, 1.02, 0.98, 1.01, 0.99, 1.0];
    const early = new Harness(scorer);
    await early.step([{ pid: 12, cpu: 1.0 }], at(0));
    expect(reason((await early.step([{ pid: 12, cpu: 1.6 }], at(1))).get(12))).toBe(0); // one sample: no z yet

    const h = new Harness(scorer);
    for (let c = 0; c < noisy.length; c++) await h.step([{ pid: 12, cpu: noisy[c] }], at(c));
    expect(reason((await h.step([{ pid: 12, cpu: 1.6 }], at(6))).get(12))).toBe(REASON_CPU);
  });

  it('never promotes idle processes wiggling between 0.1% and 0.3% of a core', async () => {
    const h = new Harness(scorer);
    for (let c = 0; c < 30; c++) {
      const out = await h.step([{ pid: 13, cpu: c % 2 ? 0.003 : 0.001, rss: (c % 2 ? 3 : 2.5) * MIB }], at(c));
      expect(reason(out.get(13))).toBe(0);
    }
  });

  it('ignores NaN and negative samples: no promotion, baseline unchanged', async () => {
    const h = new Harness(scorer);
    for (let c = 0; c < 4; c++) await h.step([{ pid: 14, cpu: 0.05, rss: 50 * MIB }], at(c));
    const s = h.ids.slotOf(14)!;
    const before = [h.table.cpuMean.data[s], h.table.rssMean.data[s], h.table.cpuN.data[s]];
    for (const bad of [Number.NaN, -1, -0.5, Number.POSITIVE_INFINITY]) {
      const out = await h.step([{ pid: 14, cpu: bad, rss: bad }], at(5));
      expect(reason(out.get(14))).toBe(0);
    }
    expect([h.table.cpuMean.data[s], h.table.rssMean.data[s], h.table.cpuN.data[s]]).toEqual(before);
    // and a normal value after them is still normal
    expect(reason((await h.step([{ pid: 14, cpu: 0.05, rss: 50 * MIB }], at(6))).get(14))).toBe(0);
  });

  it('promotes a new process that starts busy, only if it started since the previous scan', async () => {
    const h = new Harness(scorer);
    const out = await h.step(
      [
        { pid: 20, born: true, cpu: 1.8, rss: 50 * MIB },
        { pid: 21, born: true, cpu: 0.2, rss: 900 * MIB },
        { pid: 22, born: true, cpu: 0.2, rss: 20 * MIB },
        { pid: 23, born: false, cpu: 3.0, rss: 2000 * MIB }, // already running when first seen
      ],
      at(0),
    );
    expect([20, 21, 22, 23].map((p) => reason(out.get(p)))).toEqual([REASON_NEW, REASON_NEW, 0, 0]);
    expect(isNew(out.get(20))).toBe(true);
  });

  it('holds a promotion for hold_ms of the injected clock, then releases it', async () => {
    const h = new Harness(scorer);
    for (let c = 0; c < 3; c++) await h.step([{ pid: 30, cpu: 0.01 }], at(c));
    const t = at(3);
    expect(reason((await h.step([{ pid: 30, cpu: 0.8 }], t)).get(30))).toBe(REASON_CPU);
    // the spike is over, but the hold keeps the process promoted until it ends
    expect(reason((await h.step([{ pid: 30, cpu: 0.01 }], t + P.holdMs - 1)).get(30))).toBe(REASON_CPU);
    expect(reason((await h.step([{ pid: 30, cpu: 0.01 }], t + P.holdMs)).get(30))).toBe(0);
    // a departure that continues extends the hold
    const u = t + P.holdMs + 10_000;
    expect(reason((await h.step([{ pid: 30, cpu: 2.0 }], u)).get(30))).toBe(REASON_CPU);
    expect(reason((await h.step([{ pid: 30, cpu: 4.0 }], u + 50_000)).get(30))).toBe(REASON_CPU);
    expect(reason((await h.step([{ pid: 30, cpu: 0.01 }], u + 50_000 + P.holdMs - 1)).get(30))).toBe(REASON_CPU);
  });

  it('gives an exited process slot to the next one, and a reused pid a fresh baseline', async () => {
    const h = new Harness(scorer);
    for (let c = 0; c < 3; c++) await h.step([{ pid: 40, cpu: 0.9 }, { pid: 41 }], at(c));
    const slot40 = h.ids.slotOf(40)!;
    await h.step([{ pid: 41 }], at(3)); // 40 exited
    expect(h.ids.slotOf(40)).toBe(-1);
    expect(h.ids.size).toBe(1);
    await h.step([{ pid: 41 }, { pid: 42, cpu: 0.01 }], at(4));
    expect(h.ids.slotOf(42)).toBe(slot40); // recycled
    expect(h.table.cpuN.data[slot40]).toBe(1); // with an empty baseline
    expect(h.table.cpuMean.data[slot40]).toBeCloseTo(0.01);
    // pid 41 reused by a new process (other start time): not compared with the old one
    const s41 = h.ids.slotOf(41)!;
    await h.step(
      [
        { pid: 41, start: 999, cpu: 0.5, born: false },
        { pid: 42, cpu: 0.01 },
      ],
      at(5),
    );
    expect(h.ids.slotOf(41)).toBe(s41);
    expect(h.table.cpuN.data[s41]).toBe(1);
  });

  it('grows the table past its initial capacity', async () => {
    const h = new Harness(scorer);
    const rows = Array.from({ length: 300 }, (_, i) => ({ pid: 1000 + i, cpu: 0.01 }));
    await h.step(rows, at(0));
    await h.step(rows, at(1));
    const out = await h.step(
      rows.map((r, i) => (i === 299 ? { ...r, cpu: 0.9 } : r)),
      at(2),
    );
    expect(h.ids.capacity).toBeGreaterThanOrEqual(300);
    expect(reason(out.get(1299))).toBe(REASON_CPU);
    expect([...out.values()].filter((o) => reason(o) !== 0)).toHaveLength(1);
  });
});

describe('inline and workers give identical results', () => {
  it('on 20 cycles of 5000 random rows with churn, NaNs and jumps', async () => {
    const pool = new PoolScorer(2);
    try {
      const a = new Harness(new InlineScorer());
      const b = new Harness(pool);
      let seed = 42;
      const rnd = () => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return seed / 0x7fffffff;
      };
      let pids = Array.from({ length: 5000 }, (_, i) => i + 1);
      let next = 6000;
      for (let c = 0; c < 20; c++) {
        pids = pids.filter(() => rnd() > 0.01);
        while (pids.length < 5000) pids.push(next++);
        const rows: Row[] = pids.map((pid) => {
          const x = rnd();
          return {
            pid,
            born: pid >= 6000 && rnd() < 0.5,
            cpu: x < 0.01 ? Number.NaN : x < 0.02 ? 0.5 + rnd() * 2 : (pid % 7) * 0.01 + rnd() * 0.002,
            rss: x > 0.99 ? -1 : x > 0.98 ? 2000 * MIB * rnd() : ((pid % 13) + 1) * MIB * (1 + rnd() * 0.01),
          };
        });
        const oa = await a.step(rows, c * 10_000);
        const ob = await b.step(rows, c * 10_000);
        expect([...ob.entries()]).toEqual([...oa.entries()]);
      }
      for (const k of ['cpuMean', 'cpuVar', 'rssMean', 'rssVar', 'holdUntil'] as const) {
        expect(Array.from(b.table[k].data)).toEqual(Array.from(a.table[k].data));
      }
    } finally {
      await pool.close();
    }
  });
});
