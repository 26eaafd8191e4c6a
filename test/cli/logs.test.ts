/**
 * Logs for people and for machines: JSON lines when stderr is not a terminal
 * (or --log-format json), readable lines on a terminal (or --log-format
 * pretty), never mixed into the summary lines on stdout. The terminal case
 * runs the built CLI under a real pseudo-terminal (util-linux `script`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { CLI, nrdot } from '../helpers/cli.js';

const tmp = fastTmpDir('nrdot-logs-');
const host = path.join(tmp, 'host');
beforeAll(async () => {
  await generateHost({ out: host, processes: 100, seed: 3 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const PRETTY = /^\d\d:\d\d:\d\d\.\d{3} (\x1b\[\d+m)?(TRACE|DEBUG|INFO |WARN |ERROR|FATAL)(\x1b\[0m)? \S/;
const SUMMARY = /^cycle \d+ \[balanced\] processes /;
const args = ['run', '--cycles', '3', '--interval', '50ms', '--proc-root', host, '--export', 'none'];

describe('log format', () => {
  it('JSON lines when stderr is not a terminal (the default) or with --log-format json', async () => {
    for (const extra of [[], ['--log-format', 'json']]) {
      const r = await nrdot([...args, ...extra]);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (const l of lines) expect(() => JSON.parse(l), l).not.toThrow();
      expect(JSON.parse(lines.at(-1)!).msg).toMatch(/^stopped: /);
    }
  });

  it('readable lines with --log-format pretty, still on stderr', async () => {
    const r = await nrdot([...args, '--log-format', 'pretty']);
    expect(r.code, r.stderr).toBe(0);
    for (const l of r.stderr.trim().split('\n')) expect(l).toMatch(PRETTY);
    expect(r.stderr).not.toContain('\x1b['); // no colour when not on a terminal
    expect(
      r.stdout
        .trim()
        .split('\n')
        .every((l) => SUMMARY.test(l)),
    ).toBe(true);
  });

  it('a bad --log-format is bad usage naming the choices', async () => {
    const r = await nrdot([...args, '--log-format', 'xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "option '--log-format <format>' argument 'xml' is invalid. Allowed choices are auto, json, pretty",
    );
  });

  it('on a terminal: coloured readable lines, whole, never interleaved with the summary lines', () => {
    const cmd = [process.execPath, CLI, ...args, '--listen', '127.0.0.1:0', '--log-level', 'debug']
      .map((a) => `'${a}'`)
      .join(' ');
    // stdout and stderr share the pseudo-terminal, as they do in a shell
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NO_COLOR: '' },
    });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.replace(/\r/g, '').trimEnd().split('\n');
    const summaries = lines.filter((l) => SUMMARY.test(l));
    expect(summaries).toHaveLength(3);
    for (const l of lines) {
      expect(SUMMARY.test(l) || PRETTY.test(l) || /^ {4}at /.test(l), JSON.stringify(l)).toBe(true);
    }
    expect(lines.some((l) => l.includes('\x1b[32mINFO \x1b[0m'))).toBe(true);
    expect(lines.at(-1)).toMatch(/INFO .* stopped: /);
  });
});
