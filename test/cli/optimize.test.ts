/**
 * `nrdot optimize suggest` and `nrdot simulate --recording` as a user runs
 * them: the suggestion, run through `simulate`, meets its targets; the file
 * `--write` leaves passes `config validate`; unmet targets exit 5 and say so;
 * a recording of a changing host is searched and simulated (looped when the
 * duration is longer); bad flags exit 2 naming the flag.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceHost, generateHost } from '../../src/harness/synth/index.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import { Recorder } from '../../src/sources/recording/index.js';
import { nrdot } from '../helpers/cli.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';

let tmp: string;
let rec: string;
const SCANS = 5;

beforeAll(async () => {
  tmp = mkTmp('nrdot-optimize-cli-');
  const host = path.join(tmp, 'host');
  await generateHost({ out: host, processes: 400, seed: 7, shape: 'web' });
  rec = path.join(tmp, 'rec');
  const r = new Recorder({ out: rec, scanner: new ProcfsReader({ procRoot: host }), intervalMs: 10_000 });
  for (let i = 0; i < SCANS; i++) {
    await r.scanOnce();
    await advanceHost({ dir: host, seconds: 10, anomalies: i === 2 ? 2 : 0, churn: 0.02 });
  }
  r.close();
}, 60_000);
afterAll(() => rmTmp(tmp));

interface SimJson {
  results: {
    profile: string;
    cycles: number;
    source: { kind: string; scans?: number };
    usd: { perHour: number };
    points: { perHour: number };
    visibility: { min: number };
    coverage: { criticalMin: number };
    anomalies: { injected: number | null; promoted: number };
  }[];
}

const SYNTH = ['--processes', '300', '--duration', '2h', '--step', '5m', '--seed', '3'];

describe('nrdot optimize suggest', () => {
  it('the suggestion meets its targets when run through simulate, and --write leaves a valid config', async () => {
    const out = path.join(tmp, 'suggested.yaml');
    const target = 0.05;
    const r = await nrdot([
      'optimize',
      'suggest',
      ...['--target-cost', String(target), '--min-visibility', '0.85', ...SYNTH, '--write', out],
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^searched 4 profiles in \d+ runs over a mixed host of 300 processes/);
    const m = /suggested: ([a-z]+)(?: with the knob at ([\d.]+))?: \$([\d.]+)\/h/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![3])).toBeLessThanOrEqual(target);
    expect(r.stdout).toContain('runners-up:');
    expect(r.stdout).toContain(`wrote ${out}`);

    const v = await nrdot(['config', 'validate', out]);
    expect(v.code, v.stderr).toBe(0);
    const text = fs.readFileSync(out, 'utf8');
    expect(text).toMatch(/^# written by nrdot optimize suggest/);

    // the written config through simulate over the same host: within the targets
    const s = await nrdot(['simulate', '--config', out, ...SYNTH, '--json']);
    expect(s.code, s.stderr).toBe(0);
    const [res] = (JSON.parse(s.stdout) as SimJson).results;
    // the profile's own name is exported on every resource: a scaled profile's longer name may cost a few bytes more
    expect(res!.usd.perHour).toBeLessThanOrEqual(target * 1.02);
    expect(res!.visibility.min).toBeGreaterThanOrEqual(0.85);
    expect(res!.coverage.criticalMin).toBe(1);

    // --write never overwrites
    const again = await nrdot(['optimize', 'suggest', '--target-cost', '1', ...SYNTH, '--write', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`--write: ${out} exists`);
  }, 120_000);

  it('targets no configuration meets: exit 5, the closest shown, nothing written', async () => {
    const out = path.join(tmp, 'never.yaml');
    const r = await nrdot([
      'optimize',
      'suggest',
      ...['--target-points', '1', '--min-visibility', '1', ...SYNTH, '--profiles', 'aggressive,emergency'],
      ...['--write', out],
    ]);
    expect(r.code).toBe(5);
    expect(r.stdout).toContain('no configuration meets every target; the closest:');
    expect(r.stdout).toMatch(/aggressive: .*\(misses: points/);
    expect(r.stderr).toContain('no profile or knob meets points <= 1/min');
    expect(fs.existsSync(out)).toBe(false);
  }, 120_000);

  it('searches a recording', async () => {
    const r = await nrdot([
      'optimize',
      'suggest',
      '--recording',
      rec,
      '--target-cost',
      '10',
      '--min-visibility',
      '0',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { best: { profile: string; usdPerHour: number }; source: string; runs: number };
    expect(j.source).toContain(`the recording ${rec} (${SCANS} scans`);
    // with no floor the cheapest is the smallest knob of the cheapest profile
    expect(j.best.profile).toBe('emergency');
    expect(j.runs).toBeGreaterThanOrEqual(4);
  }, 120_000);

  it('bad flags exit 2 naming the flag', async () => {
    const cases: [string[], string][] = [
      [['--min-visibility', '0.9'], 'needs a target: --target-cost USD/h or --target-points N'],
      [['--target-cost', '-1'], "--target-cost expects a number above 0, got '-1'"],
      [['--target-points', 'lots'], "--target-points expects a number above 0, got 'lots'"],
      [['--target-cost', '1', '--min-visibility', '1.5'], '--min-visibility expects a share between 0 and 1'],
      [['--target-cost', '1', '--profiles', 'nope'], "--profiles: unknown profile 'nope'"],
      [['--target-cost', '1', '--recording', '/nonexistent-nrdot-rec'], '/nonexistent-nrdot-rec'],
      [['--target-cost', '1', '--shape', 'moon'], "--shape: unknown shape 'moon'"],
      [['--target-cost', '1', '--duration', '0d'], '--duration: expected a duration'],
      [['--target-cost', '1', '--write', '/nonexistent-nrdot-dir/x.yaml'], '--write: cannot create'],
    ];
    for (const [args, msg] of cases) {
      const r = await nrdot(['optimize', 'suggest', ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(msg);
    }
  });
});

describe('nrdot simulate --recording', () => {
  it('replays the recording once by default, looped for a longer --duration; nothing injected', async () => {
    const r = await nrdot(['simulate', '--recording', rec, '--profile', 'balanced', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const [one] = (JSON.parse(r.stdout) as SimJson).results;
    expect(one!.cycles).toBe(SCANS);
    expect(one!.source).toMatchObject({ kind: 'recording', scans: SCANS });
    expect(one!.anomalies.injected).toBeNull();
    expect(one!.coverage.criticalMin).toBe(1);
    expect(one!.points.perHour).toBeGreaterThan(0);

    const l = await nrdot(['simulate', '--recording', rec, '--profile', 'balanced', '--duration', '150s', '--json']);
    expect(l.code, l.stderr).toBe(0);
    expect((JSON.parse(l.stdout) as SimJson).results[0]!.cycles).toBe(15);

    const t = await nrdot(['simulate', '--recording', rec, '--profile', 'aggressive']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(new RegExp(`^simulated 50 s of the recording ${rec} \\(${SCANS} scans of `));
    expect(t.stdout).toMatch(/profile aggressive: .* \| anomalies \d+ promoted \| profile switches 0/);
  }, 60_000);

  it('synthetic-host flags and --step with --recording exit 2 naming the flag', async () => {
    for (const [flag, value] of [
      ['--shape', 'web'],
      ['--processes', '10'],
      ['--swing', '2'],
    ] as const) {
      const r = await nrdot(['simulate', '--recording', rec, flag, value]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${flag} describes a synthetic host`);
    }
    const s = await nrdot(['simulate', '--recording', rec, '--step', '1m']);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain('--step: a recording moves by its own recorded interval');
  });
});
