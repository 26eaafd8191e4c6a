/**
 * The native scan runs off the event loop: timers keep firing while a scan
 * of a large synthetic host is in flight (the TypeScript reader blocks the
 * loop for the whole scan).
 */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';
import { hasNative, openNative, requireNativeAddon } from './native-helpers.js';

requireNativeAddon();

const PROCESSES = 20_000;

describe.skipIf(!hasNative)('native scan and the event loop', () => {
  let tmp: string;
  let root: string;
  beforeAll(async () => {
    tmp = mkTmp('nrdot-native-async-');
    root = path.join(tmp, 'host');
    await generateHost({ out: root, processes: PROCESSES, seed: 2 });
  }, 120_000);
  afterAll(() => rmTmp(tmp));

  it(`a 100 ms interval keeps firing while ${PROCESSES} processes are scanned`, async () => {
    const nat = openNative(root);
    let inFlight = false;
    let ticksDuringScan = 0;
    let scans = 0;
    const timer = setInterval(() => {
      if (inFlight) ticksDuringScan++;
    }, 100);
    try {
      // Full scans (every file of every process) until the interval has fired
      // three times during one; a scan that blocked the loop never lets it.
      while (ticksDuringScan < 3 && scans < 40) {
        inFlight = true;
        const b = await nat.scan();
        inFlight = false;
        expect(b.count).toBe(PROCESSES);
        scans++;
      }
    } finally {
      clearInterval(timer);
      nat.close();
    }
    expect(ticksDuringScan).toBeGreaterThanOrEqual(3);
  });

  it('a second scan() while one runs waits for it instead of racing', async () => {
    const nat = openNative(root);
    try {
      const [a, b] = await Promise.all([nat.scan(), nat.scan()]);
      expect(a.count).toBe(PROCESSES);
      expect(b.count).toBe(PROCESSES);
      expect(a.freshRows.length).toBe(PROCESSES);
      expect(b.freshRows.length).toBe(0);
    } finally {
      nat.close();
    }
  });
});
