/**
 * fd exhaustion as a user meets it: `ulimit -n 40` on a 2000-process tree.
 * Both scanners complete with every process (the native one with no kept fds
 * at all, reading each file the slow way), and so does `nrdot scan`.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { CLI } from '../helpers/cli.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';
import { expectSameBatch, hasNative, requireNativeAddon, scanInChild } from './native-helpers.js';

requireNativeAddon();

const NOFILE = 40;
const PROCESSES = 2000;
const ULIMIT = ['bash', '-c', `ulimit -n ${NOFILE} && exec "$@"`, 'bash'];

function run(argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe(`ulimit -n ${NOFILE} on a ${PROCESSES}-process tree`, () => {
  let tmp: string;
  let root: string;
  beforeAll(async () => {
    tmp = mkTmp('nrdot-fd-exhaustion-');
    root = path.join(tmp, 'host');
    await generateHost({ out: root, processes: PROCESSES, seed: 31 });
  }, 120_000);
  afterAll(() => rmTmp(tmp));

  it('both scanners read every process, twice, with the same result', async () => {
    const out = await scanInChild(root, 2, ULIMIT);
    expect(out.ts.map((b) => b.count)).toEqual([PROCESSES, PROCESSES]);
    // a fresh row without a readable cgroup file has '' and is counted (first scan only)
    const noCgroup = out.ts[0]!.rows.filter((r) => r.fresh?.cgroup === '').length;
    expect(out.ts.map((b) => b.counters)).toEqual([
      { vanished: 0, denied: 0, malformed: 0, cgroupUnreadable: noCgroup },
      { vanished: 0, denied: 0, malformed: 0, cgroupUnreadable: 0 },
    ]);
    if (!hasNative) return;
    expect(out.limits).toMatchObject({ soft: NOFILE, hard: NOFILE, budget: 0, kept: 0 });
    expect(out.nativeKept).toEqual([0, 0]);
    for (let s = 0; s < 2; s++) expectSameBatch(out.ts[s]!, out.native[s]!, `scan ${s + 1}`);
  });

  const runs: [string, string[]][] = [
    ['ts', []],
    ['native', []],
    ['native', ['--full', '--files', 'status,io']],
  ];
  for (const [backend, extra] of runs.filter(([b]) => hasNative || b === 'ts')) {
    it(`nrdot scan ${['--backend', backend, ...extra].join(' ')} completes with every process`, async () => {
      const r = await run([
        ...ULIMIT,
        process.execPath,
        CLI,
        'scan',
        '--proc-root',
        root,
        '--backend',
        backend,
        '--repeat',
        '2',
        '--json',
        ...extra,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { backend: string; processes: number });
      expect(lines.map((l) => [l.backend, l.processes])).toEqual([
        [backend, PROCESSES],
        [backend, PROCESSES],
      ]);
    });
  }
});
