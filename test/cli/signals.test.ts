/**
 * Signals to the built CLI: SIGHUP (a closed terminal, `kill -HUP` out of
 * habit) used to kill the agent at once, without a drain or a state save;
 * it now reloads the --config file (test/cli/reload.test.ts), and without
 * one says there is nothing to reload and goes on. A second
 * SIGINT/SIGTERM during a slow shutdown exits at once and says so (it used
 * to exit without a word).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { type RunningAgent, startAgent } from '../helpers/cli.js';
import { type LoopbackServer, startLoopbackServer } from '../helpers/loopback-http.js';
import { until } from '../helpers/until.js';

const tmp = fastTmpDir('nrdot-signals-');
const host = path.join(tmp, 'host');
let agent: RunningAgent | undefined;
let backend: LoopbackServer | undefined;

beforeAll(async () => {
  await generateHost({ out: host, processes: 60, seed: 8 });
}, 60_000);
afterEach(async () => {
  agent?.kill();
  await backend?.close();
  backend = undefined;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const cycles = (a: RunningAgent) =>
  a
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('cycle ')).length;

/** a wait for the agent, its stderr shown when it times out */
const untilAgent = (what: string, ok: () => boolean) =>
  until(what, ok, { ms: 20_000, context: () => `stderr:\n${agent?.stderr()}` });

describe('signals', () => {
  it('SIGHUP without --config changes nothing, with a log line; the agent keeps cycling and then stops cleanly on SIGTERM', async () => {
    const stateDir = path.join(tmp, 'state');
    agent = startAgent([
      'run',
      '--proc-root',
      host,
      '--interval',
      '200ms',
      '--export',
      'none',
      '--state-dir',
      stateDir,
    ]);
    const a = agent;
    await untilAgent('the first cycle', () => cycles(a) >= 1);
    a.child.kill('SIGHUP');
    await a.waitForLog(/^SIGHUP: the agent runs without --config, there is no file to reload; nothing changes$/);
    const after = cycles(a);
    await untilAgent('another cycle after SIGHUP', () => cycles(a) > after);
    expect(a.child.exitCode).toBeNull();
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    // the shutdown saved the state
    expect(fs.existsSync(path.join(stateDir, 'nrdot-state.bin'))).toBe(true);
  }, 60_000);

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'a second %s during a slow shutdown exits at once and says it is not draining',
    async (signal) => {
      // a backend that never answers: the shutdown waits for the request on the wire (10 s timeout)
      backend = await startLoopbackServer(() => 'hang');
      const b = backend;
      agent = startAgent([
        'run',
        '--proc-root',
        host,
        '--interval',
        '200ms',
        '--export',
        `otlp:${b.origin}`,
        '--queue-dir',
        path.join(tmp, `q-${signal}`),
      ]);
      const a = agent;
      await untilAgent('a request on the wire', () => b.requests.length > 0);
      a.child.kill(signal);
      await a.waitForLog(/^stopping after the current cycle/);
      a.child.kill(signal);
      const line = await a.waitForLog(new RegExp(`^second ${signal}: exiting now without draining`), 5000);
      expect(line.level).toBe(40);
      expect((await a.exited).code).toBe(signal === 'SIGINT' ? 130 : 143);
    },
    60_000,
  );
});
