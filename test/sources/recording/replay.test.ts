/**
 * Replay parity: a recording of a changing synthetic host, replayed with the
 * scan options a live scanner was given on the same trees, returns the
 * batches that live scanner returned: rows, values, flags, fresh strings,
 * host and counters (every detail list, file mask, cgroup setting and bound
 * in turn), on the TypeScript reader and on the native addon. Then --loop.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceHost, generateHost } from '../../../src/harness/synth/index.js';
import { FLAG_NEW_IDENTITY, type ProcessBatch } from '../../../src/sources/batch.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { Recorder, RecordingEnded, ReplayScanner } from '../../../src/sources/recording/index.js';
import type { ProcessScanner, ScanOptions } from '../../../src/sources/scanner.js';
import { mkTmp, rmTmp } from '../../helpers/synth.js';
import { expectSameBatch, hasNative, openNative } from '../native-helpers.js';

let tmp: string;
beforeAll(() => {
  tmp = mkTmp('nrdot-replay-');
});
afterAll(() => rmTmp(tmp));

/** Every third pid of a batch: the "exported last cycle" list of a detail scan. */
const some = (b: ProcessBatch, every = 3) => Array.from(b.pid.subarray(0, b.count)).filter((_, i) => i % every === 0);

/** The options of scan k, given the live batch before it (each kind of reduction in turn). */
function optionsFor(k: number, prev: ProcessBatch | undefined): ScanOptions {
  const detail = prev ? some(prev) : [];
  switch (k) {
    case 0:
      return {};
    case 1:
      return { detail, files: { status: false, io: true, fds: false } };
    case 2:
      return { detail: [], cgroup: false };
    case 3:
      return { detail, bounds: { maxProcesses: 120, minRssBytes: 2 * 1024 * 1024 }, keep: detail.slice(0, 10) };
    case 4:
      return { bounds: { excludeNames: ['kworker/*', 'bash', 'sshd'], minCpuPercent: 0.5 }, keep: detail.slice(0, 5) };
    case 5:
      return { detail, files: { status: true, io: false, fds: true }, bounds: { minAgeSec: 30 } };
    case 6:
      // CPU rates since the previous bounded scan
      return { detail, bounds: { minCpuPercent: 0.5 } };
    default:
      return { detail, files: { status: false, io: false, fds: false } };
  }
}

const STEPS = 8;

async function parity(name: string, open: (root: string) => ProcessScanner): Promise<void> {
  const root = path.join(tmp, `${name}-host`);
  await generateHost({ out: root, processes: 400, seed: 17, cgroupUnreadable: 0.05 });
  const rec = new Recorder({ out: path.join(tmp, `${name}-rec`), scanner: open(root), intervalMs: 10_000 });
  const live = open(root);
  const opts: ScanOptions[] = [];
  const batches: ProcessBatch[] = [];
  for (let k = 0; k < STEPS; k++) {
    await rec.scanOnce();
    const o = optionsFor(k, batches.at(-1));
    opts.push(o);
    batches.push(await live.scan(o));
    // churn (exits, new processes, reused pids) and anomalies between scans
    await advanceHost({ dir: root, seconds: 10, churn: 0.05, anomalies: k % 2 });
  }
  rec.close();
  rec.scanner.close();
  live.close();

  const replay = ReplayScanner.open(path.join(tmp, `${name}-rec`));
  try {
    expect(replay.scans).toBe(STEPS);
    for (let k = 0; k < STEPS; k++) {
      const b = replay.scan(opts[k]);
      expectSameBatch(batches[k]!, b, `${name} scan ${k}`);
      expect(b.scannedAtMs).toBeGreaterThan(0);
      expect(b.freshOwner).toHaveLength(b.freshRows.length);
    }
    // the reductions did something: bounded scans left processes out, masked ones blanked values
    expect(batches[3]!.counters.excluded!.max_processes).toBeGreaterThan(0);
    expect(batches[4]!.counters.excluded!.name + batches[4]!.counters.excluded!.cpu).toBeGreaterThan(0);
    expect(batches[0]!.counters.cgroupUnreadable).toBeGreaterThan(0);
    expect(replay.ended).toBe(true);
    expect(() => replay.scan()).toThrow(RecordingEnded);
  } finally {
    replay.close();
  }
}

describe('replay returns what the live scanner returned with the same options', () => {
  it('TypeScript reader', async () => {
    await parity('ts', (root) => new ProcfsReader({ procRoot: root }));
  }, 60_000);

  it.skipIf(!hasNative)(
    'native addon',
    async () => {
      await parity('native', (root) => openNative(root));
    },
    60_000,
  );
});

describe('--loop', () => {
  it('starts again at the end with every clock moved forward, as new identities', async () => {
    const root = path.join(tmp, 'loop-host');
    await generateHost({ out: root, processes: 50, seed: 3 });
    const scanner = new ProcfsReader({ procRoot: root });
    const rec = new Recorder({ out: path.join(tmp, 'loop-rec'), scanner, intervalMs: 10_000 });
    for (let k = 0; k < 3; k++) {
      await rec.scanOnce();
      await advanceHost({ dir: root, seconds: 10, churn: 0 });
    }
    rec.close();
    const replay = ReplayScanner.open(path.join(tmp, 'loop-rec'), { loop: true, hostName: 'replayed' });
    const seen = Array.from({ length: 7 }, () => replay.scan({ detail: [] }));
    replay.close();
    expect(replay.ended).toBe(false);
    for (let k = 1; k < seen.length; k++) {
      expect(seen[k]!.host.uptimeSec).toBeGreaterThan(seen[k - 1]!.host.uptimeSec);
      expect(seen[k]!.scannedAtMs).toBeGreaterThan(seen[k - 1]!.scannedAtMs);
    }
    // a pass is 3 scans 10 s apart plus one interval: 30 s
    expect(seen[3]!.host.uptimeSec - seen[0]!.host.uptimeSec).toBeCloseTo(30, 6);
    expect(seen[3]!.startTicks[0]! - seen[0]!.startTicks[0]!).toBe(30 * seen[0]!.host.clkTck);
    const fresh = (b: ProcessBatch) => b.freshRows.length;
    expect(seen.map(fresh)).toEqual([50, 0, 0, 50, 0, 0, 50]);
    expect(seen.every((b) => b.host.hostname === 'replayed')).toBe(true);
    for (const b of [seen[0]!, seen[3]!]) {
      for (let i = 0; i < b.count; i++) expect(b.flags[i]! & FLAG_NEW_IDENTITY).toBe(FLAG_NEW_IDENTITY);
    }
  });
});
