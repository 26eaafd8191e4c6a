/**
 * A count in /proc that a float64 cannot hold exactly (past 2^53: a damaged
 * or crafted tree) is UNKNOWN in the batch, on both scanners: no rate, no
 * group sum, no data point for it, while the process's other values stay.
 * Scans of a real directory tree (a synthetic host plus one hand-written
 * process), then the pipeline's own rates and roll-up aggregation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { type ProcessBatch, UNKNOWN } from '../../src/sources/batch.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import { K_FAULTS, K_IO, K_RSS, K_SWITCHES, K_VSIZE, knownValues } from '../../src/stages/build/writer.js';
import { aggregate } from '../../src/stages/group/aggregate.js';
import { NCOUNTERS } from '../../src/stages/rates/counters.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { DEFAULTS } from '../helpers/defaults.js';
import { StageRunner } from '../helpers/stages.js';
import { hasNative, openNative, requireNativeAddon, statLine, writeProc } from './native-helpers.js';

requireNativeAddon();

const PID = 4242;
const HUGE = '18446744073709551000';
/** 2^53 + 1: a double rounds it to 2^53, which looks like a count but is not the one in the file */
const JUST_PAST = '9007199254740993';

let root: string;
beforeAll(async () => {
  root = fastTmpDir('nrdot-huge-counts-');
  await generateHost({ out: root, processes: 20, seed: 3 });
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The hand-written process: minflt (stat field 10), voluntary switches and read_bytes as given. */
function writeHuge(v: { minflt: string; vol: string; read: string; write: string }): void {
  fs.rmSync(path.join(root, String(PID)), { recursive: true, force: true });
  writeProc(root, PID, {
    stat: statLine(PID, 'hugeio', { 7: v.minflt, 9: '3' }),
    status: `Name:\thugeio\nUid:\t1000\t1000\t1000\t1000\nvoluntary_ctxt_switches:\t${v.vol}\nnonvoluntary_ctxt_switches:\t6\n`,
    io: `rchar: 1\nwchar: 2\nread_bytes: ${v.read}\nwrite_bytes: ${v.write}\n`,
    cmdline: 'hugeio\0',
  });
}

const row = (b: ProcessBatch) => {
  const i = Array.from(b.pid.subarray(0, b.count)).indexOf(PID);
  expect(i).toBeGreaterThanOrEqual(0);
  return i;
};

type Scan = () => Promise<ProcessBatch>;
const backends: [string, () => Scan][] = [
  [
    'ts',
    () => {
      const r = new ProcfsReader({ procRoot: root });
      return async () => r.scan();
    },
  ],
];
if (hasNative) {
  backends.push([
    'native',
    () => {
      const n = openNative(root);
      return () => n.scan();
    },
  ]);
}

describe.each(backends)('%s scanner: counts past 2^53', (_name, open) => {
  it('are unknown in the batch: no rate, no group sum, no point; the other values stay', async () => {
    const scan = open();
    const runner = new StageRunner(DEFAULTS);
    writeHuge({ minflt: '1500', vol: '5', read: '4096', write: '8192' });
    const f1 = runner.step(await scan());
    expect(f1.batch.readBytes[row(f1.batch)]).toBe(4096);

    writeHuge({ minflt: HUGE, vol: JUST_PAST, read: HUGE, write: '16384' });
    const b = await scan();
    const i = row(b);
    // the values a double cannot hold exactly are UNKNOWN, the others as read
    expect([b.readBytes[i], b.minFaults[i], b.volCtx[i]]).toEqual([UNKNOWN, UNKNOWN, UNKNOWN]);
    expect([b.writeBytes[i], b.majFaults[i], b.involCtx[i]]).toEqual([16384, 3, 6]);
    expect(b.rssBytes[i]).toBeGreaterThan(0);

    const f = runner.step(b);
    // rates: nothing for the unknown counters, the write rate as in the files
    const d = (k: number) => f.deltas[i * NCOUNTERS + k];
    expect({ read: d(3), write: d(4), minor: d(5), voluntary: d(7) }).toEqual({
      read: 0,
      write: 8192,
      minor: 0,
      voluntary: 0,
    });

    // points: no disk I/O, faults or switches for the row; memory still there
    const k = knownValues(b, i, f.cpuState);
    expect(k & (K_IO | K_FAULTS | K_SWITCHES)).toBe(0);
    expect(k & (K_RSS | K_VSIZE)).toBe(K_RSS | K_VSIZE);

    // group sums: the process's own group counts it for memory, not for what is unknown
    const groups = aggregate(f, runner.catalog, 1000, new Map(), 2, 0, 1);
    const g = groups.find((x) => x.name.includes('hugeio'));
    expect(g, groups.map((x) => x.name).join()).toBeDefined();
    expect(g!.count).toBe(1);
    expect(g!.known).toMatchObject({ memoryUsage: 1, diskIo: 0, faults: 0, switches: 0 });
    expect(g!.rssBytes).toBe(b.rssBytes[i]);
    for (const c of g!.cumulative) expect(Number.isSafeInteger(c)).toBe(true);
    // and nothing it read shows anywhere in the host's sums
    for (const x of groups) for (const c of x.cumulative) expect(c).toBeLessThan(2 ** 53);
  });
});
