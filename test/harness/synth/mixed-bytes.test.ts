/**
 * The `mixed` host (the default shape) writes the same bytes as before host
 * shapes and cgroup files existed, for the same seed: every file but the
 * new `cgroup` ones, after generation and after two advance steps. The
 * state file gained keys (`shape`, `cgroup`, and per process `m.cg`,
 * `m.pool`, `m.cohort`); with them removed it must be byte-identical too.
 *
 * The digests were recorded with the generator of commit fa57044 (before
 * this change), using treeDigest from test/helpers/tree-digest.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceHost, generateHost, STATE_FILE } from '../../../src/harness/synth/index.js';
import { mkTmp, rmTmp } from '../../helpers/synth.js';
import { treeDigest } from '../../helpers/tree-digest.js';

const RECORDED = {
  'gen-600-7': '77e1d03a05e8f8010d6c9c1d51e189c3fae9697fb884244ce8d12828bb7bbd83',
  'adv-600-7': '790789a9fffa0f5ebb0750868d0ab06a34d9c3632c129fe16ad6b93b7b255ebb',
  'gen-3000-42': '86a0f0b1183ee1594d2b5cf02a970836a7f9a12c81db62fb1326c724f195cb50',
};

interface StateLike {
  shape?: unknown;
  cgroup?: unknown;
  procs: { m: Record<string, unknown> }[];
}

const digest = (dir: string) =>
  treeDigest(dir, {
    skipNames: ['cgroup'],
    stateFile: STATE_FILE,
    stripState: (s) => {
      const st = s as StateLike;
      delete st.shape;
      delete st.cgroup;
      for (const p of st.procs) {
        delete p.m.cg;
        delete p.m.pool;
        delete p.m.cohort;
      }
    },
  });

let tmp: string;
beforeAll(() => {
  tmp = mkTmp();
});
afterAll(() => rmTmp(tmp));

describe('mixed host bytes', () => {
  it('600 processes, seed 7: generation and two advance steps', { timeout: 120_000 }, async () => {
    const dir = path.join(tmp, 'm600');
    await generateHost({ out: dir, processes: 600, seed: 7 });
    expect(digest(dir)).toBe(RECORDED['gen-600-7']);
    await advanceHost({ dir, seconds: 10, anomalies: 3 });
    await advanceHost({ dir, seconds: 10, churn: 0.05 });
    expect(digest(dir)).toBe(RECORDED['adv-600-7']);
  });

  it('3000 processes, seed 42: generation', { timeout: 120_000 }, async () => {
    const dir = path.join(tmp, 'm3000');
    await generateHost({ out: dir, processes: 3000, seed: 42, shape: 'mixed' });
    expect(digest(dir)).toBe(RECORDED['gen-3000-42']);
  });

  it('the digest sees a changed byte anywhere but in cgroup files', async () => {
    const dir = path.join(tmp, 'm30');
    await generateHost({ out: dir, processes: 30, seed: 7 });
    const a = digest(dir);
    const f = path.join(dir, '1', 'status');
    fs.writeFileSync(f, fs.readFileSync(f, 'latin1').replace('systemd', 'systemD'));
    const b = digest(dir);
    expect(b).not.toBe(a);
    fs.writeFileSync(path.join(dir, '1', 'cgroup'), 'changed\n');
    expect(digest(dir)).toBe(b);
  });
});
