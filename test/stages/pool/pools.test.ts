/**
 * Pools: processes with the same executable in the same group, their
 * workers (parent in the pool; in a flat pool, all but the oldest), the
 * layout the profile's cap goes over, and the cap itself.
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/load.js';
import { Frame } from '../../../src/core/frame.js';
import { allocBatch, FLAG_KERNEL_THREAD, FLAG_NEW_IDENTITY, type ProcessBatch } from '../../../src/sources/batch.js';
import { PoolLayout } from '../../../src/stages/pool/pools.js';
import { capPools } from '../../../src/stages/profile/index.js';
import { StageRunner, TINY_HOST } from '../../helpers/stages.js';

const config = defaultConfig();
const host = TINY_HOST;

/** pid, ppid, comm, cgroup unit, start ticks, kernel thread */
type Row = [number, number, string, string, number, boolean?];
const ROWS: Row[] = [
  [10, 1, 'nginx', 'web', 50], // 0: master of nginx@web
  [11, 10, 'nginx', 'web', 60], // 1: worker (parent in the pool)
  [12, 10, 'nginx', 'web', 61], // 2: worker
  [20, 1, 'nginx', 'edge', 70], // 3: nginx in another group: its own pool (flat)
  [21, 1, 'nginx', 'edge', 65], // 4: the oldest of the flat pool: its master
  [30, 1, 'gunicorn', 'app', 80], // 5: alone: no pool
  [40, 2, 'kworker/0:1', '', 5, true], // 6: kernel threads are never pooled
  [41, 2, 'kworker/0:1', '', 6, true], // 7
  [13, 11, 'nginx', 'other', 90], // 8: alone in its group, but a child of an nginx: a worker
];

function batch(rows: Row[]): ProcessBatch {
  const b = allocBatch(rows.length, host);
  rows.forEach(([pid, ppid, name, unit, start, kernel], i) => {
    b.pid[i] = pid;
    b.ppid[i] = ppid;
    b.startTicks[i] = start;
    b.flags[i] = FLAG_NEW_IDENTITY | (kernel ? FLAG_KERNEL_THREAD : 0);
    b.freshName.push(name);
    b.freshCmdline.push(kernel ? '' : `/usr/sbin/${name}`);
    b.freshExe.push(kernel ? '' : `/usr/sbin/${name}`);
    b.freshCgroup.push(unit ? `0::/system.slice/${unit}.service` : '');
  });
  b.count = rows.length;
  b.freshRows = Int32Array.from(rows.keys());
  return b;
}

/** The rows of each pool, by the frame's layout. */
function pools(f: Frame): number[][] {
  const out: number[][] = [];
  for (let p = 0; p < f.facts.pools; p++) out.push([...f.poolRows.subarray(f.poolStart[p]!, f.poolStart[p + 1]!)]);
  return out;
}

describe('pools', () => {
  it('lays out each pool once: members in row order, pools in order of their first row', () => {
    const f = new StageRunner(config).step(batch(ROWS));
    expect(f.facts.pools).toBe(2);
    expect(pools(f)).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
    expect([...f.pool]).toEqual([0, 0, 0, 1, 1, -1, -1, -1, -1]);
    expect([...f.worker]).toEqual([0, 1, 1, 1, 0, 0, 0, 0, 1]);
  });

  it('the cap keeps the most active workers of each pool, and never the master or a critical row', () => {
    const f = new StageRunner(config).step(batch(ROWS));
    f.keep.fill(1);
    f.series.fill(10);
    f.tier.fill(2); // standard: nothing critical
    const activity = Float64Array.from([0.9, 0.1, 0.5, 0.2, 0.3, 0, 0, 0, 0]);
    const r = capPools(f, activity, 1, new Int32Array(f.n));
    // nginx@web: workers 1 and 2, the busier (2) stays; nginx@edge: one worker (3), under the cap
    expect([...f.keep]).toEqual([1, 0, 1, 1, 1, 1, 1, 1, 1]);
    expect(r).toEqual({ rows: 1, points: 10 });
  });
});

describe('pool keys and names', () => {
  it('keeps (group, executable) pairs apart whatever their ids (group * 2^20 + exe collided)', () => {
    const b = batch([
      [1, 100, 'a', 'x', 1],
      [2, 100, 'a', 'x', 2],
      [3, 100, 'b', 'y', 3],
      [4, 100, 'b', 'y', 4],
    ]);
    const slot = Int32Array.from([0, 1, 2, 3]);
    const f = new Frame(b, false, 1, 0, { slot, isNew: new Uint8Array(4), named: new Uint8Array(4) });
    // rows 0, 1: group 0, exe 2^20; rows 2, 3: group 1, exe 0: the same packed key, two pools
    const group = Int32Array.from([0, 0, 1, 1]);
    const exe = Int32Array.from([2 ** 20, 2 ** 20, 0, 0]);
    expect(new PoolLayout().build(f, group, exe)).toBe(2);
    expect([...f.pool]).toEqual([0, 0, 1, 1]);
  });

  it('gives executable names back when no process has them any more', () => {
    const runner = new StageRunner(config);
    const many: Row[] = Array.from({ length: 500 }, (_, k) => [1000 + k, 1, `app-${k}`, 'web', 100 + k]);
    runner.step(batch(many));
    const pool = runner.pool!;
    expect(pool.names.size).toBe(500);
    // they all exit; two processes of one name remain
    const nginx: Row[] = [
      [5000, 1, 'nginx', 'web', 9000],
      [5001, 5000, 'nginx', 'web', 9001],
    ];
    const f = runner.step(batch(nginx));
    expect(pool.names.size).toBe(1);
    expect(f.facts.pools).toBe(1);
    // 500 other names come: they take the ids given back, the id space does not grow
    const others: Row[] = Array.from({ length: 500 }, (_, k) => [6000 + k, 1, `job-${k}`, 'web', 9100 + k]);
    const g = runner.step(batch([...nginx, ...others]));
    expect(pool.names.size).toBe(501);
    expect(pool.names.bound).toBe(501);
    expect(g.facts.pools).toBe(1);
  });
});
