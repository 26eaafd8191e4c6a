/**
 * Process tree (CSR children index) and per-tier top-N, checked against the
 * obvious slow versions (a scan of every row, a full sort) on seeded random
 * inputs, and the tree against a synthetic host's ground truth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost, type SynthTruth } from '../../../src/harness/synth/index.js';
import { Rng } from '../../../src/harness/synth/prng.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { childrenIndex, topNByTier } from '../../../src/stages/profile/topn.js';
import { mkTmp, rmTmp } from '../../helpers/synth.js';

/** Children of each row by looking at every row: O(count^2), obviously right. */
function naiveChildren(ppid: Int32Array, pid: Int32Array, count: number): number[][] {
  const out: number[][] = Array.from({ length: count }, () => []);
  for (let c = 0; c < count; c++) {
    let parent = -1;
    for (let q = 0; q < count && parent < 0; q++) if (pid[q] === ppid[c]) parent = q;
    if (parent >= 0 && parent !== c) out[parent]!.push(c);
  }
  return out;
}

/** Top n per tier by a full sort of every row. */
function sortedTopN(values: Float64Array, tiers: Uint8Array, count: number, n: number, tierCount: number): number[][] {
  const key = (v: number) => (Number.isNaN(v) ? Number.NEGATIVE_INFINITY : v);
  const rows = Array.from({ length: count }, (_, r) => r).sort(
    (a, b) => key(values[b]!) - key(values[a]!) || a - b || 0,
  );
  return Array.from({ length: tierCount }, (_, t) => rows.filter((r) => tiers[r] === t).slice(0, Math.max(0, n)));
}

function groups(ix: ReturnType<typeof childrenIndex>, count: number): number[][] {
  return Array.from({ length: count }, (_, r) => Array.from(ix.children.subarray(ix.offsets[r]!, ix.offsets[r + 1]!)));
}

describe('childrenIndex', () => {
  it('matches a scan of every row on random forests (missing parents, self parents, duplicate pids)', () => {
    const rng = new Rng(42);
    for (let round = 0; round < 30; round++) {
      const count = rng.int(0, 120);
      const pid = new Int32Array(count);
      const ppid = new Int32Array(count);
      for (let r = 0; r < count; r++) {
        pid[r] = rng.chance(0.05) && r > 0 ? pid[rng.int(0, r - 1)]! : rng.int(1, 300);
        ppid[r] = rng.chance(0.1)
          ? pid[r]!
          : rng.chance(0.2)
            ? rng.int(0, 400)
            : (pid[rng.int(0, Math.max(0, r - 1))] ?? 0);
      }
      const ix = childrenIndex(ppid, pid, count);
      expect(ix.offsets.length).toBe(count + 1);
      expect(groups(ix, count), `round ${round}`).toEqual(naiveChildren(ppid, pid, count));
      for (let r = 0; r < count; r++) {
        const p = ix.parentRow[r]!;
        if (p >= 0) expect(groups(ix, count)[p]).toContain(r);
      }
    }
  });

  it('only the first `count` rows take part', () => {
    const pid = Int32Array.from([1, 2, 3, 4]);
    const ppid = Int32Array.from([0, 1, 1, 1]);
    const ix = childrenIndex(ppid, pid, 3);
    expect(Array.from(ix.offsets)).toEqual([0, 2, 2, 2]);
    expect(Array.from(ix.children)).toEqual([1, 2]);
  });

  describe('on a scanned synthetic host', () => {
    let tmp: string;
    let truth: SynthTruth;
    beforeAll(async () => {
      tmp = mkTmp('nrdot-topn-');
      truth = await generateHost({ out: `${tmp}/host`, processes: 800, seed: 12 });
    });
    afterAll(() => rmTmp(tmp));

    it('every process has exactly the children the generator gave it', () => {
      const b = new ProcfsReader({ procRoot: `${tmp}/host` }).scan();
      const ix = childrenIndex(b.ppid, b.pid, b.count);
      const want = new Map<number, number[]>();
      for (const p of truth.processes) {
        want.set(p.pid, want.get(p.pid) ?? []);
        if (p.ppid !== 0) want.set(p.ppid, [...(want.get(p.ppid) ?? []), p.pid]);
      }
      for (let r = 0; r < b.count; r++) {
        const kids = Array.from(ix.children.subarray(ix.offsets[r]!, ix.offsets[r + 1]!), (c) => b.pid[c]!);
        expect(
          kids.sort((x, y) => x - y),
          `children of pid ${b.pid[r]}`,
        ).toEqual(want.get(b.pid[r]!)!.sort((x, y) => x - y));
      }
      // pid 1 and kthreadd are the roots
      const roots = Array.from(ix.parentRow.subarray(0, b.count))
        .map((p, r) => (p < 0 ? b.pid[r] : -1))
        .filter((p) => p >= 0);
      expect(roots.sort((x, y) => x - y)).toEqual([1, 2]);
    });
  });
});

describe('topNByTier', () => {
  it('equals a full sort on random inputs, with many ties and NaN', () => {
    const rng = new Rng(7);
    for (let round = 0; round < 200; round++) {
      const count = rng.int(0, 400);
      const tierCount = rng.int(1, 5);
      const values = new Float64Array(count);
      const tiers = new Uint8Array(count);
      const ties = rng.chance(0.5);
      for (let r = 0; r < count; r++) {
        values[r] = rng.chance(0.02) ? Number.NaN : ties ? rng.int(0, 10) : rng.range(-5, 1e6);
        tiers[r] = rng.int(0, tierCount); // tierCount itself: ignored
      }
      const n = rng.int(0, 60);
      const got = topNByTier(values, tiers, count, n, tierCount).map((a) => Array.from(a));
      expect(got, `round ${round}: count ${count}, n ${n}`).toEqual(sortedTopN(values, tiers, count, n, tierCount));
    }
  });

  it('one tier, n larger than the batch: every row, best first', () => {
    const values = Float64Array.from([3, 9, 9, 1, -Infinity, Number.NaN]);
    const got = topNByTier(values, new Uint8Array(6), 6, 100, 1);
    expect(Array.from(got[0]!)).toEqual([1, 2, 0, 3, 4, 5]);
    expect(topNByTier(values, new Uint8Array(6), 6, 0, 2).map((a) => a.length)).toEqual([0, 0]);
  });
});
