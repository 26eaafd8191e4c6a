/**
 * `nrdot synth --shape --cgroup --cgroup-unreadable` and `synth advance
 * --churn`, as a user runs them (the built CLI).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTruth } from '../../src/harness/synth/index.js';
import { parseCgroupFile } from '../helpers/cgroup-format.js';
import { nrdot } from '../helpers/cli.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';

let tmp: string;
beforeAll(() => {
  tmp = mkTmp('nrdot-cli-shapes-');
});
afterAll(() => rmTmp(tmp));

describe('nrdot synth with shapes', () => {
  it('writes a k8s host with cgroup v1 files and an unreadable share, then advances it', async () => {
    const dir = path.join(tmp, 'k8s');
    const r = await nrdot([
      'synth',
      '--out',
      dir,
      '--processes',
      '400',
      '--shape',
      'k8s',
      '--cgroup',
      'v1',
      '--cgroup-unreadable',
      '0.05',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('wrote 400 processes (k8s host, ');
    expect(r.stdout).toContain('cgroup v1');
    const t = await readTruth(dir);
    expect([t.shape, t.cgroupVersion, t.processes.length]).toEqual(['k8s', 1, 400]);
    const unreadable = t.processes.filter((p) => !p.cgroupReadable);
    expect(unreadable.length).toBeGreaterThan(0);
    for (const p of unreadable) expect(fs.statSync(path.join(dir, String(p.pid), 'cgroup')).isDirectory()).toBe(true);
    const shim = t.processes.find((p) => p.role === 'pause' && p.cgroupReadable);
    expect(parseCgroupFile(fs.readFileSync(path.join(dir, String(shim?.pid), 'cgroup'), 'utf8'), 1)).toHaveLength(12);

    const a = await nrdot(['synth', 'advance', '--dir', dir, '--seconds', '5', '--churn', '0.2', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const j = JSON.parse(a.stdout);
    expect(j.exited.length).toBeGreaterThanOrEqual(80);
    expect(j.spawned.length).toBeGreaterThan(0);
  });

  it('names the flag of a bad shape, cgroup version, share or churn (exit 2)', async () => {
    const dir = path.join(tmp, 'bad');
    for (const [args, flag] of [
      [['--shape', 'cloud'], '--shape'],
      [['--cgroup', 'v3'], '--cgroup'],
      [['--cgroup-unreadable', '1.5'], '--cgroup-unreadable'],
      [['--cgroup-unreadable', 'some'], '--cgroup-unreadable'],
    ] as const) {
      const r = await nrdot(['synth', '--out', dir, '--processes', '10', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(flag);
    }
    expect(fs.existsSync(dir)).toBe(false);
    const r = await nrdot(['synth', 'advance', '--dir', dir, '--churn', '2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--churn');
  });
});
