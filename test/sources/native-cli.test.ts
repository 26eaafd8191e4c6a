/**
 * Backend selection as a user sees it: `auto` runs the addon when it loads
 * and says so, falls back to the TypeScript reader with the reason and the
 * fix when it does not; `native` without the addon is bad usage (exit 2).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { nrdot } from '../helpers/cli.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';
import { hasNative, requireNativeAddon } from './native-helpers.js';

requireNativeAddon();

const MISSING = { NRDOT_NATIVE_ADDON: '/nonexistent/nrdot_native.node' };

let tmp: string;
let host: string;
beforeAll(async () => {
  tmp = mkTmp('nrdot-native-cli-');
  host = path.join(tmp, 'host');
  await generateHost({ out: host, processes: 200, seed: 8 });
});
afterAll(() => rmTmp(tmp));

describe('scanner backend selection', () => {
  it('--backend native without the addon: exit 2, the reason and how to fix it', async () => {
    const r = await nrdot(['scan', '--proc-root', host, '--backend', 'native'], { env: MISSING });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--backend native: the native scanner addon cannot load: .*nrdot_native\.node is missing/);
    expect(r.stderr).toContain('npm run build:native');
    expect(r.stderr).toMatch(/python3, make and g\+\+/);
  });

  it('--backend auto without the addon: the TypeScript reader, with one line saying why', async () => {
    const r = await nrdot(['scan', '--proc-root', host], { env: MISSING });
    expect(r.code, r.stderr).toBe(0);
    const note = r.stderr.trim().split('\n');
    expect(note).toHaveLength(1);
    expect(note[0]).toMatch(/^scanner backend: ts \(native addon unavailable: .*npm run build:native/);
    expect(r.stdout).toMatch(/scan 1: 200 processes/);
  });

  it.runIf(hasNative)('--backend auto with the addon: native, and scan --json says so', async () => {
    const r = await nrdot(['scan', '--proc-root', host, '--repeat', '3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { backend: string; processes: number });
    expect(lines.map((l) => [l.backend, l.processes])).toEqual([
      ['native', 200],
      ['native', 200],
      ['native', 200],
    ]);
  });

  it.runIf(hasNative)('scan --full and the steady-state scan both report every process', async () => {
    for (const extra of [[], ['--full']]) {
      const r = await nrdot(['scan', '--proc-root', host, '--repeat', '2', '--backend', 'native', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('scanner backend: native');
      expect(r.stdout).toMatch(/scan 2: 200 processes .*(steady state, stat only|full)/);
    }
  });

  for (const backend of hasNative ? ['native', 'ts'] : ['ts']) {
    it(`scan --backend ${backend} --files and --no-cgroup: the summary says what was read`, async () => {
      const full = await nrdot([
        'scan',
        '--proc-root',
        host,
        '--repeat',
        '2',
        '--backend',
        backend,
        '--full',
        '--files',
        'io',
      ]);
      expect(full.code, full.stderr).toBe(0);
      // a new process reads status whatever the mask; a missing or unreadable cgroup file is counted
      const unreadable = fs
        .readdirSync(host)
        .filter((n) => /^[1-9][0-9]*$/.test(n))
        .filter((n) => !fs.statSync(path.join(host, n, 'cgroup'), { throwIfNoEntry: false })?.isFile()).length;
      expect(full.stdout).toMatch(
        new RegExp(
          `scan 1: 200 processes .*first scan: stat, status, io, cmdline, exe, cgroup\\).*cgroup unreadable ${unreadable}\n`,
        ),
      );
      expect(full.stdout).toMatch(/scan 2: 200 processes .*full: stat, io\).*cgroup unreadable 0/);
      const none = await nrdot(['scan', '--proc-root', host, '--backend', backend, '--files', 'none', '--no-cgroup']);
      expect(none.code, none.stderr).toBe(0);
      expect(none.stdout).toMatch(
        /scan 1: 200 processes .*first scan: stat, status, cmdline, exe\).*cgroup unreadable 0/,
      );
    });
  }

  it('scan --files with a name that is not a file: exit 2 naming the flag and the choices', async () => {
    const r = await nrdot(['scan', '--proc-root', host, '--files', 'status,cpu']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--files expects a comma-separated list of status, io, fds \(or none\), got 'cpu'/);
    expect(r.stdout).toBe('');
  });

  it.runIf(hasNative)('run --backend native exports the same processes as run --backend ts', async () => {
    const counts: string[] = [];
    for (const backend of ['native', 'ts']) {
      const r = await nrdot([
        'run',
        '--once',
        '--proc-root',
        host,
        '--backend',
        backend,
        '--export',
        'none',
        '--profile',
        'conservative',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`scanner backend: ${backend}`);
      counts.push(r.stdout.replace(/\| \d+ ms$/m, '').trim());
    }
    expect(counts[0]).toBe(counts[1]);
  });
});
