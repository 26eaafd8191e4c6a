/**
 * One agent per queue directory and per state directory: two real agents
 * (the built CLI) on the same --queue-dir or --state-dir. The second exits 2
 * naming the directory and the pid that holds it; once the first is killed
 * with SIGKILL, the kernel has released the lock and a new agent starts.
 * With the native addon the lock is flock(2); without it (NRDOT_NATIVE_ADDON
 * pointing nowhere) a pid file checked against /proc; the two honour each
 * other.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot, type RunningAgent, startAgent } from '../helpers/cli.js';

const tmp = fastTmpDir('nrdot-lock-');
const host = path.join(tmp, 'host');
const running: RunningAgent[] = [];
const NO_ADDON = { NRDOT_NATIVE_ADDON: path.join(tmp, 'no-such-addon.node') };

beforeAll(async () => {
  await generateHost({ out: host, processes: 40, seed: 3 });
}, 60_000);
afterEach(() => {
  for (const a of running.splice(0)) a.kill();
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function first(args: string[], env?: NodeJS.ProcessEnv): RunningAgent {
  const a = startAgent(['run', '--proc-root', host, '--interval', '200ms', '--export', 'none', ...args], { env });
  running.push(a);
  return a;
}

const second = (args: string[], env?: NodeJS.ProcessEnv) =>
  nrdot(['run', '--proc-root', host, '--once', '--export', 'none', ...args], { env });

describe.each([
  ['flock (native addon)', undefined, undefined],
  ['pid file (no addon)', NO_ADDON, NO_ADDON],
  ['a flock holder against a pid-file agent', undefined, NO_ADDON],
  ['a pid-file holder against a flock agent', NO_ADDON, undefined],
])('directory lock: %s', (_name, env1, env2) => {
  it('a second agent on the same --queue-dir or --state-dir exits 2 naming the directory and the holder; after kill -9 it starts', async () => {
    const q = fs.mkdtempSync(path.join(tmp, 'q-'));
    const st = fs.mkdtempSync(path.join(tmp, 's-'));
    const a = first(['--queue-dir', q, '--state-dir', st], env1);
    await a.controlUrl();
    const [rq, rs] = await Promise.all([second(['--queue-dir', q], env2), second(['--state-dir', st], env2)]);
    expect(rq.code, rq.stderr).toBe(2);
    expect(rq.stderr).toContain(`queue directory ${q} is in use by another nrdot agent (pid ${a.child.pid}`);
    expect(rq.stderr).toContain('[NRDOT_ERR_DIR_IN_USE]');
    expect(rs.code, rs.stderr).toBe(2);
    expect(rs.stderr).toContain(`state directory ${st} is in use by another nrdot agent (pid ${a.child.pid}`);
    // the holder is unaffected
    expect(a.child.exitCode).toBeNull();
    a.child.kill('SIGKILL');
    await a.exited;
    const again = await second(['--queue-dir', q, '--state-dir', st], env2);
    expect(again.code, again.stderr).toBe(0);
  }, 60_000);
});

describe('directory lock, one agent', () => {
  it('the same directory as --queue-dir and --state-dir is fine, and a clean exit lets the next agent in', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'same-'));
    for (let i = 0; i < 2; i++) {
      const r = await second(['--queue-dir', dir, '--state-dir', dir]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 60_000);
});
