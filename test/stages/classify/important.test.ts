/**
 * Pids that are at least important (the processes of discovered services):
 * classify raises standard and noise rows to important, pool never demotes
 * them below important, the rules' tier of the identity is untouched, and
 * the set is read once per cycle (a pid leaving the set falls back to its
 * rules' tier at the next cycle).
 */
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../../src/config/load.js';
import { allocBatch, FLAG_NEW_IDENTITY, type ProcessBatch } from '../../../src/sources/batch.js';
import { TIERS } from '../../../src/telemetry/names.js';
import { StageRunner, TINY_HOST } from '../../helpers/stages.js';

const config = defaultConfig();
const host = TINY_HOST;

/** pid, ppid, comm, cmdline; every row a new identity the first time */
const ROWS: [number, number, string, string][] = [
  [10, 1, 'nginx', 'nginx: master process /usr/sbin/nginx'], // critical by rule
  [11, 10, 'nginx', 'nginx: worker process'], // critical, a pool worker: important
  [20, 1, 'gunicorn', 'gunicorn app:app'], // important by rule
  [21, 20, 'gunicorn', 'gunicorn app:app'], // important, a pool worker: standard
  [30, 1, 'myservice', '/opt/my/service --port 7000'], // default tier: standard
  [40, 1, 'sleep', 'sleep 1000'], // noise
  [50, 1, 'other', 'other'], // standard, never in the set
];

function batch(fresh: boolean): ProcessBatch {
  const b = allocBatch(ROWS.length, host);
  ROWS.forEach(([pid, ppid, name, cmd], i) => {
    b.pid[i] = pid;
    b.ppid[i] = ppid;
    b.startTicks[i] = 100 + i;
    b.flags[i] = fresh ? FLAG_NEW_IDENTITY : 0;
    if (fresh) {
      b.freshName.push(name);
      b.freshCmdline.push(cmd);
      b.freshExe.push('');
      b.freshCgroup.push('0::/system.slice/app.service\n');
    }
  });
  b.count = ROWS.length;
  b.freshRows = fresh ? Int32Array.from(ROWS.keys()) : new Int32Array(0);
  return b;
}

const tiers = (t: Uint8Array) => Object.fromEntries(ROWS.map(([pid], i) => [pid, TIERS[t[i]!]]));

describe('important pids (discovered services) in classify and pool', () => {
  it('without a set, the rules and pool demotion decide', () => {
    const f = new StageRunner(config).step(batch(true));
    expect(tiers(f.tier)).toEqual({
      10: 'critical',
      11: 'important',
      20: 'important',
      21: 'standard',
      30: 'standard',
      40: 'noise',
      50: 'standard',
    });
  });

  it('raises standard and noise to important, keeps critical, and no pool worker goes below important', () => {
    const set = new Set([10, 11, 21, 30, 40]);
    const f = new StageRunner(config, () => set).step(batch(true));
    expect(tiers(f.tier)).toEqual({
      10: 'critical', // already above
      11: 'important', // a critical worker is still demoted, to important
      20: 'important',
      21: 'important', // a worker of an important pool is not demoted to standard
      30: 'important', // standard raised
      40: 'important', // noise raised
      50: 'standard', // not a service's
    });
  });

  it('reads the set every cycle, not per identity: a pid leaving it falls back to its rules', () => {
    let set = new Set([30, 40]);
    let reads = 0;
    const runner = new StageRunner(config, () => {
      reads++;
      return set;
    });
    const first = tiers(runner.step(batch(true)).tier);
    expect(reads).toBe(1); // once per cycle, shared by classify and pool
    expect([first[30], first[40]]).toEqual(['important', 'important']);
    set = new Set([40]);
    const second = tiers(runner.step(batch(false)).tier);
    expect(reads).toBe(2);
    expect([second[30], second[40]]).toEqual(['standard', 'important']);
    set = new Set();
    const third = tiers(runner.step(batch(false)).tier);
    expect([third[30], third[40]]).toEqual(['standard', 'noise']);
  });

  it('a protected process stays critical', () => {
    const cfg = structuredClone(config);
    cfg.classification.protected = ['^sleep$'];
    const f = new StageRunner(cfg, () => new Set([40])).step(batch(true));
    expect(tiers(f.tier)[40]).toBe('critical');
  });
});
