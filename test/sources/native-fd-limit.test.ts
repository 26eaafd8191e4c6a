/**
 * fd exhaustion: under `ulimit -n 64` the fd budget is zero, every `stat` is
 * read the slow way (open, read, close), nothing crashes and the batches are
 * the same as with kept fds and as the TypeScript reader's.
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';
import {
  batchJson,
  expectSameBatch,
  hasNative,
  openNative,
  requireNativeAddon,
  scanInChild,
} from './native-helpers.js';

requireNativeAddon();

describe.skipIf(!hasNative)('native backend with a tiny fd limit', () => {
  let tmp: string;
  let root: string;
  beforeAll(async () => {
    tmp = mkTmp('nrdot-native-fd-');
    root = path.join(tmp, 'host');
    await generateHost({ out: root, processes: 400, seed: 4 });
  });
  afterAll(() => rmTmp(tmp));

  it('ulimit -n 64: no kept fds, same results as with kept fds', async () => {
    const out = await scanInChild(root, 2, ['bash', '-c', 'ulimit -n 64 && exec "$@"', 'bash']);
    expect(out.limits).toMatchObject({ soft: 64, hard: 64, budget: 0, kept: 0 });
    expect(out.nativeKept).toEqual([0, 0]);
    const nat = openNative(root);
    try {
      for (let s = 0; s < 2; s++) {
        const here = batchJson(await nat.scan());
        expect(here.count).toBe(400);
        expectSameBatch(here, out.native[s]!, `scan ${s + 1} kept vs slow`);
        expectSameBatch(out.ts[s]!, out.native[s]!, `scan ${s + 1} ts vs native`);
      }
      expect(nat.lastScan!.keptFds).toBeGreaterThanOrEqual(400);
    } finally {
      nat.close();
    }
  });
});
