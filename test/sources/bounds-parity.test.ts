/**
 * Bounded discovery gives the same rows and counters on both backends: every
 * bound at once, a `keep` set, a `detail` set, every file mask and cgroup
 * reads on and off (cgroup files of every shape), over scans of a tree that
 * churns (exits, new processes, reused pids, files replaced by rename), on a
 * tree with broken and vanished processes, and in a child process under
 * `ulimit -n 64` (no kept fds at all).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceHost, generateHost } from '../../src/harness/synth/index.js';
import { Rng } from '../../src/harness/synth/prng.js';
import type { ProcessBatch } from '../../src/sources/batch.js';
import type { ScanBounds } from '../../src/sources/bounds.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';
import {
  expectSameBatch,
  hasNative,
  IO,
  openNative,
  requireNativeAddon,
  STATUS,
  statLine,
  writeProc,
} from './native-helpers.js';
import { MASKS, writeCgroups } from './scan-files-helpers.js';

requireNativeAddon();

let tmp: string;
beforeAll(() => {
  tmp = mkTmp('nrdot-bounds-parity-');
});
afterAll(() => rmTmp(tmp));

const excludedTotal = (b: ProcessBatch) => Object.values(b.counters.excluded!).reduce((a, v) => a + v, 0);

describe.skipIf(!hasNative)('bounded discovery: native and TypeScript backends agree', () => {
  it('every bound at once, with keep, detail, every file mask and cgroup on and off, over eight scans of a churning tree', async () => {
    const root = path.join(tmp, 'churn');
    const truth = await generateHost({ out: root, processes: 1500, seed: 21 });
    writeCgroups(root);
    const ts = new ProcfsReader({ procRoot: root });
    const nat = openNative(root);
    const rng = new Rng(77);
    const rand = () => rng.next();
    const bounds: ScanBounds = {
      excludeNames: ['sleep', 'tmux*', 'kworker/*', 'cat'],
      minCpuPercent: 0.2,
      minRssBytes: 2 * 1024 * 1024,
      minAgeSec: 15,
    };
    const seen = { max_processes: 0, name: 0, cpu: 0, rss: 0, age: 0 };
    try {
      let pids = truth.processes.map((p) => p.pid);
      for (let s = 0; s < 8; s++) {
        const keep = Int32Array.from(pids.filter(() => rand() < 0.05));
        const detail = Int32Array.from(pids.filter(() => rand() < 0.2));
        // the cap on every other scan: new (young) processes have the highest pids
        const opts = {
          bounds: { ...bounds, maxProcesses: s % 2 === 0 ? 400 : 0 },
          keep,
          detail,
          files: MASKS[(s * 3) % 8],
          cgroup: s % 3 !== 2,
        };
        const a = ts.scan(opts);
        const b = await nat.scan(opts);
        expectSameBatch(a, b, `scan ${s + 1}`);
        expect(b.count + excludedTotal(b), `scan ${s + 1}: rows + excluded = listed`).toBe(pids.length);
        const rows = new Set(b.pid.subarray(0, b.count));
        for (const k of keep) expect(rows.has(k), `keep pid ${k}`).toBe(true);
        for (const [k, v] of Object.entries(b.counters.excluded!)) seen[k as keyof typeof seen] += v;
        const adv = await advanceHost({ dir: root, seconds: 10, anomalies: 3, churn: 0.04 });
        writeCgroups(root);
        pids = adv.processes.map((p) => p.pid);
      }
      // every bound was exercised somewhere in the sequence
      for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(0);
    } finally {
      nat.close();
    }
  });

  it('switching bounds on, off and on again keeps the CPU base of both alike', async () => {
    const root = path.join(tmp, 'toggle');
    await generateHost({ out: root, processes: 300, seed: 22 });
    const ts = new ProcfsReader({ procRoot: root });
    const nat = openNative(root);
    try {
      const plan: (ScanBounds | undefined)[] = [{ minCpuPercent: 1 }, undefined, undefined, { minCpuPercent: 1 }, {}];
      for (const [s, bounds] of plan.entries()) {
        expectSameBatch(ts.scan({ bounds }), await nat.scan({ bounds }), `scan ${s + 1}`);
        await advanceHost({ dir: root, seconds: 5, churn: 0.05 });
      }
    } finally {
      nat.close();
    }
  });

  it('broken, vanished and over-the-cap processes: skipped and counted the same way', async () => {
    const root = path.join(tmp, 'broken');
    await generateHost({ out: root, processes: 120, seed: 23 });
    const BASE = 900_000;
    // garbage and truncated stat lines, a pid directory without stat, stat as a directory
    writeProc(root, BASE, { stat: 'garbage' });
    writeProc(root, BASE + 1, { stat: statLine(BASE + 1, 'trunc').subarray(0, 50) });
    writeProc(root, BASE + 2, {});
    fs.mkdirSync(path.join(writeProc(root, BASE + 3, {}), 'stat'));
    // good ones, interleaved in pid order with the broken ones
    for (let i = 4; i < 10; i++) {
      writeProc(root, BASE + i, { stat: statLine(BASE + i, `ok${i}`), status: STATUS, io: IO, cmdline: 'x\0', fds: 1 });
    }
    // Broken processes use none of the cap. 124: the 120 synthetic ones and
    // ok4..ok7 fill it, ok8 and ok9 are over it (ok9 is never read, so not
    // counted under name). 126: everything fits and ok9 is left out by name.
    for (const maxProcesses of [0, 124, 126, 300]) {
      const nat = openNative(root);
      try {
        const bounds = { maxProcesses, excludeNames: ['ok9'] };
        const a = new ProcfsReader({ procRoot: root }).scan({ bounds });
        const b = await nat.scan({ bounds });
        expectSameBatch(a, b, `cap ${maxProcesses}`);
        expect(b.counters.malformed).toBe(3);
        expect(b.counters.vanished).toBe(1);
        const want = maxProcesses === 124 ? 124 : 125;
        expect(b.count, `cap ${maxProcesses}`).toBe(want);
        expect(b.counters.excluded!.max_processes).toBe(maxProcesses === 124 ? 2 : 0);
        expect(b.counters.excluded!.name).toBe(maxProcesses === 124 ? 0 : 1);
      } finally {
        nat.close();
      }
    }
  });
});
