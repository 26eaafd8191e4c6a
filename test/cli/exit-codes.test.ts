/**
 * Honest exit codes of a bounded run (README, "Exit codes"): `run --once` /
 * `--cycles N` exits 3 and says how much when accepted data was dropped or
 * not delivered, and 0 when everything was delivered or is kept on disk.
 * Every case uses a real sink: a loopback HTTP server, /dev/full, a queue dir.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';
import { closedPort, startLoopbackServer } from '../helpers/loopback-http.js';

const tmp = fastTmpDir('nrdot-exit-');
const host = path.join(tmp, 'host');
const config = path.join(tmp, 'quick.yaml');

beforeAll(async () => {
  await generateHost({ out: host, processes: 120, seed: 9 });
  fs.writeFileSync(
    config,
    [
      'export_options:',
      '  otlp:',
      '    timeout: 2s',
      '    retry: { initial_interval: 20ms, max_interval: 100ms, max_attempts: 2, max_elapsed: 1s }',
      '    shutdown_drain: 5s',
      '',
    ].join('\n'),
  );
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const run = (...args: string[]) => nrdot(['run', '--config', config, '--proc-root', host, ...args]);

/** The shutdown log line (JSON, stderr is not a terminal). */
function stopped(stderr: string): { msg: string; undelivered: boolean } {
  const line = stderr.split('\n').find((l) => l.includes('"msg":"stopped: '));
  if (!line) throw new Error(`no shutdown line in:\n${stderr}`);
  return JSON.parse(line);
}

describe('run --once / --cycles exit codes', () => {
  it('0 when everything was delivered; the shutdown line says what was flushed', async () => {
    const server = await startLoopbackServer(() => ({ status: 200 }));
    try {
      const r = await run('--cycles', '2', '--interval', '50ms', '--export', `otlp:${server.origin}`);
      expect(r.code, r.stderr).toBe(0);
      const s = stopped(r.stderr);
      expect(s.undelivered).toBe(false);
      expect(s.msg).toMatch(
        /^stopped: flushed otlp:http:\/\/127\.0\.0\.1:\d+\/v1\/metrics \d+ points in \d+ requests; still queued: nothing; state not kept/,
      );
      expect(server.requests.length).toBeGreaterThanOrEqual(2);
    } finally {
      await server.close();
    }
  });

  it('3 when the backend refuses the data (HTTP 400), with the number of points', async () => {
    const server = await startLoopbackServer(() => ({ status: 400, body: 'bad data' }));
    try {
      const r = await run('--once', '--export', `otlp:${server.origin}`);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(
        /not all accepted data was delivered: otlp:\S+: \d+ data points refused by the backend \[NRDOT_ERR_UNDELIVERED\]/,
      );
    } finally {
      await server.close();
    }
  });

  it('3 when writing the file export fails (/dev/full)', async () => {
    const r = await run('--once', '--export', 'file:/dev/full');
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain('not all accepted data was delivered: file:/dev/full: 1 failed writes');
  });

  it('3 when data still queued in memory at exit is lost; 0 when a queue dir keeps it', async () => {
    const port = await closedPort();
    const lost = await run('--once', '--export', `otlp:http://127.0.0.1:${port}`);
    expect(lost.code, lost.stderr).toBe(3);
    expect(lost.stderr).toMatch(
      /\d+ requests \([\d.]+ KiB\) still queued in memory at exit were lost \(--queue-dir keeps them\)/,
    );
    expect(stopped(lost.stderr).msg).toMatch(/LOST \(memory queue\)/);

    const queueDir = path.join(tmp, 'queue');
    const kept = await run('--once', '--export', `otlp:http://127.0.0.1:${port}`, '--queue-dir', queueDir);
    expect(kept.code, kept.stderr).toBe(0);
    const s = stopped(kept.stderr);
    expect(s.undelivered).toBe(false);
    expect(s.msg).toContain(`kept on disk under ${queueDir}`);
  });

  it('the shutdown line names where state was saved', async () => {
    const stateDir = path.join(tmp, 'state');
    const r = await run('--once', '--export', 'none', '--state-dir', stateDir);
    expect(r.code, r.stderr).toBe(0);
    expect(stopped(r.stderr).msg).toMatch(new RegExp(`; state saved in ${stateDir}$`));
    expect(fs.readdirSync(stateDir).length).toBeGreaterThan(0);
  });
});
