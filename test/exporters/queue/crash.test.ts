/**
 * A real agent process appending to the disk queue is SIGKILLed mid-stream;
 * a new queue on the same directory must deliver every record the child saw
 * accepted, intact.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createDiskQueue, type ExportQueue } from '../../../src/exporters/queue/index.js';
import { diskTmpDir, intact, rmrf, tagOf, takeAll } from './helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHILD = path.join(here, 'fixtures', 'append-child.mjs');
const BUILT = path.join(here, '..', '..', '..', 'dist', 'src', 'exporters', 'queue', 'index.js');

/** Run the child until it reported `n` accepted appends, then SIGKILL it. Returns the reported numbers. */
function appendThenKill(dir: string, fsyncMs: number, n: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dir, String(fsyncMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const accepted: number[] = [];
    let buf = '';
    let stderr = '';
    let killed = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) if (/^\d+$/.test(l)) accepted.push(Number(l));
      if (!killed && accepted.length >= n) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL' || !killed) reject(new Error(`child ended with ${code ?? signal}: ${stderr}`));
      else resolve(accepted);
    });
  });
}

const dirs: string[] = [];
const open: ExportQueue[] = [];
afterEach(async () => {
  for (const q of open.splice(0)) await q.shutdown();
  for (const d of dirs.splice(0)) rmrf(d);
});

describe('disk queue survives SIGKILL', () => {
  it.each([1000, 0])(
    'every record reported accepted is delivered after a SIGKILL (fsyncIntervalMs %i)',
    async (fsyncMs) => {
      if (!fs.existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` (npm test does it first)`);
      const dir = diskTmpDir();
      dirs.push(dir);
      const accepted = await appendThenKill(dir, fsyncMs, 300);
      expect(accepted.length).toBeGreaterThanOrEqual(300);

      const q = createDiskQueue(dir, { maxBytes: 1 << 30, segmentBytes: 256 * 1024, fsyncIntervalMs: 0 });
      open.push(q);
      await q.start();
      const recs = await takeAll(q);
      expect(recs.filter((r) => !intact(r.payload))).toEqual([]);
      const got = new Set(recs.map((r) => Number(tagOf(r.payload).slice(1))));
      const missing = accepted.filter((i) => !got.has(i));
      expect(missing).toEqual([]);
      // nothing was accepted that did not come from the child, and lanes drain in order
      const laneOf = (i: number) => ['critical', 'standard', 'sampled'][i % 3];
      expect(recs.every((r) => r.lane === laneOf(Number(tagOf(r.payload).slice(1))))).toBe(true);
      const rank = recs.map((r) => ['critical', 'standard', 'sampled'].indexOf(r.lane));
      expect(rank).toEqual([...rank].sort((a, b) => a - b));
      // at most the one record being written when the kill came can be torn
      expect(q.stats().dropped.corrupt.records).toBeLessThanOrEqual(1);
    },
  );
});
