/**
 * `nrdot record` and `--recording DIR` as a user runs them: record a
 * synthetic host, replay it with run, scan and top; a replayed `run --once`
 * exports what a live `run --once` over the same tree exports; the run stops
 * at the end of the recording and says so; bad usage and bad recordings exit
 * 2 naming the flag or file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/model.js';
import { RECORDING_VERSION } from '../../src/sources/recording/index.js';
import { nrdot } from '../helpers/cli.js';
import { isProcess, isSelf, readRequests } from '../helpers/otlp-file.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';

let tmp: string;
let host: string;
let rec: string;
let recordOut: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  tmp = mkTmp('nrdot-record-cli-');
  host = path.join(tmp, 'host');
  await generateHost({ out: host, processes: 300, seed: 11 });
  rec = path.join(tmp, 'rec');
  recordOut = await nrdot(['record', '--proc-root', host, '--out', rec, '--scans', '2', '--interval', '100ms']);
}, 60_000);
afterAll(() => rmTmp(tmp));

/**
 * Everything but nrdot's self-telemetry, with the time stamps taken out: two
 * processes scanned at two moments (the replayed scan was recorded before
 * the live run). test/sources/recording/engine-replay.test.ts compares time
 * stamps too, on one clock.
 */
function exported(reqs: ExportMetricsServiceRequest[]): unknown {
  return JSON.parse(JSON.stringify(reqs.map((r) => r.resourceMetrics.filter((rm) => !isSelf(rm)))), (k, v) =>
    k === 'timeUnixNano' || k === 'startTimeUnixNano' ? undefined : v,
  );
}

describe('nrdot record', () => {
  it('records the scans and prints one summary line', () => {
    expect(recordOut.code, recordOut.stderr).toBe(0);
    expect(recordOut.stdout).toMatch(
      /^recorded 2 scans of 300 processes on average \(600 process rows, (native|ts) scanner\) to .*rec: [\d.]+ KiB, [\d.]+ bytes per process row, in [\d.]+ s\n/,
    );
    // not a terminal: the progress shows as plain lines
    expect(recordOut.stderr).toMatch(/record .*rec: 2\/2 \(100%\)/);
    expect(fs.readdirSync(rec).sort()).toEqual(['recording.json', 'scans.nrec']);
  });

  it('refuses a directory that is not empty, and --duration with --scans', async () => {
    let r = await nrdot(['record', '--proc-root', host, '--out', rec, '--scans', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`--out ${rec}: the directory is not empty`);
    r = await nrdot(['record', '--proc-root', host, '--out', path.join(tmp, 'x'), '--scans', '1', '--duration', '1m']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('give --duration or --scans, not both');
    r = await nrdot(['record', '--proc-root', host]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--out <dir> is required');
  });
});

describe('--recording DIR', () => {
  it('run --once over the replay exports what run --once over the live tree exports', async () => {
    const liveOut = path.join(tmp, 'live.jsonl');
    const replayOut = path.join(tmp, 'replay.jsonl');
    const live = await nrdot(['run', '--proc-root', host, '--once', '--export', `file:${liveOut}`]);
    expect(live.code, live.stderr).toBe(0);
    const replay = await nrdot(['run', '--recording', rec, '--once', '--export', `file:${replayOut}`]);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.stderr).toMatch(/scanner backend: replay of .*rec \(2 scans of synth-11/);
    const a = readRequests(liveOut);
    const b = readRequests(replayOut);
    expect(a.flatMap((r) => r.resourceMetrics).filter(isProcess).length).toBeGreaterThan(20);
    expect(exported(b)).toEqual(exported(a));
  }, 60_000);

  it('run stops at the end of the recording and says so', async () => {
    const r = await nrdot([
      'run',
      '--recording',
      rec,
      '--cycles',
      '5',
      '--interval',
      '50ms',
      '--export',
      'none',
      '--log-format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2); // two summary lines: two scans
    expect(r.stderr).toContain('the recording ended after 2 scans: stopping (--loop replays it again)');
  }, 60_000);

  it('run --loop goes on past the end', async () => {
    const r = await nrdot([
      'run',
      '--recording',
      rec,
      '--loop',
      '--cycles',
      '5',
      '--interval',
      '50ms',
      '--export',
      'none',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(5);
  }, 60_000);

  it('scan and top read it too', async () => {
    const scan = await nrdot(['scan', '--recording', rec, '--repeat', '3', '--json']);
    expect(scan.code, scan.stderr).toBe(0);
    expect(
      scan.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).processes),
    ).toEqual([300, 300]);
    expect(scan.stderr).toContain('the recording ends after 2 scans: stopping at scan 2 of --repeat 3');
    const top = await nrdot(['top', '--recording', rec, '-n', '5', '--json']);
    expect(top.code, top.stderr).toBe(0);
    const rows = JSON.parse(top.stdout) as { pid: number; cpuPercent: number }[];
    expect(rows).toHaveLength(5);
  }, 60_000);

  it('bad usage and bad recordings exit 2 naming the flag or the file', async () => {
    let r = await nrdot(['run', '--recording', rec, '--proc-root', host, '--once']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--recording and --proc-root exclude each other');
    r = await nrdot(['run', '--loop', '--once']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--loop replays a recording: it needs --recording DIR');
    r = await nrdot(['scan', '--recording', path.join(tmp, 'nowhere')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--recording .*nowhere: no such directory \[NRDOT_ERR_RECORDING\]/);

    const newer = path.join(tmp, 'newer');
    fs.cpSync(rec, newer, { recursive: true });
    const header = path.join(newer, 'recording.json');
    fs.writeFileSync(
      header,
      JSON.stringify({ ...JSON.parse(fs.readFileSync(header, 'utf8')), version: RECORDING_VERSION + 1 }),
    );
    r = await nrdot(['run', '--recording', newer, '--once']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${header}: recording format version ${RECORDING_VERSION + 1}`);

    const cut = path.join(tmp, 'cut');
    fs.cpSync(rec, cut, { recursive: true });
    const scans = path.join(cut, 'scans.nrec');
    fs.truncateSync(scans, fs.statSync(scans).size - 1);
    r = await nrdot(['top', '--recording', cut]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${scans}: record 2 \\(scan 2, at byte \\d+\\) is truncated`));
  }, 60_000);
});
