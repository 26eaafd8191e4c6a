/**
 * The pid-file fallback of the directory lock (no native addon): a lock file
 * naming a live process refuses; one naming a dead process, or a pid now
 * used by another process (its start time differs), is stale and replaced.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDir, processStart } from '../../src/util/lock.js';
import { fastTmpDir } from '../../src/util/tmp.js';

const tmp = fastTmpDir('nrdot-lockunit-');
const saved = process.env.NRDOT_NATIVE_ADDON;
beforeAll(() => {
  process.env.NRDOT_NATIVE_ADDON = path.join(tmp, 'none.node');
});
afterAll(() => {
  if (saved === undefined) delete process.env.NRDOT_NATIVE_ADDON;
  else process.env.NRDOT_NATIVE_ADDON = saved;
  fs.rmSync(tmp, { recursive: true, force: true });
});

function holder(dir: string, h: object): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, LOCK_FILE), `${JSON.stringify(h)}\n`);
}

describe('pid-file directory lock', () => {
  it('refuses a directory whose lock names a live process, naming it', () => {
    const dir = path.join(tmp, 'live');
    holder(dir, { pid: 1, start: processStart(1), host: os.hostname(), since: '2024-01-01T00:00:00.000Z' });
    expect(() => lockDir(dir, 'queue directory', '--queue-dir')).toThrow(
      `queue directory ${dir} is in use by another nrdot agent (pid 1, since 2024-01-01T00:00:00.000Z; lock ${path.join(dir, LOCK_FILE)}); give each agent its own --queue-dir`,
    );
  });

  it('replaces a stale lock: a dead pid, or a live pid with another start time (pid reuse)', () => {
    for (const [name, h] of [
      ['dead', { pid: 2 ** 22 + 7, start: '1', host: os.hostname() }],
      ['reused', { pid: 1, start: 'not-its-start', host: os.hostname() }],
    ] as const) {
      const dir = path.join(tmp, name);
      holder(dir, h);
      const l = lockDir(dir, 'state directory', '--state-dir');
      expect(l.mode).toBe('pidfile');
      expect(JSON.parse(fs.readFileSync(l.file, 'utf8')).pid).toBe(process.pid);
      l.release();
      expect(fs.existsSync(l.file)).toBe(false);
    }
  });

  it('the same directory twice in one process is shared, released with its last user', () => {
    const dir = path.join(tmp, 'shared');
    const a = lockDir(dir, 'queue directory', '--queue-dir');
    const b = lockDir(dir, 'state directory', '--state-dir');
    a.release();
    expect(fs.existsSync(b.file)).toBe(true);
    b.release();
    b.release();
    expect(fs.existsSync(b.file)).toBe(false);
  });
});

describe('a directory that cannot be used', () => {
  it('is not locked and does not fail here: the component that needs it says why', () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x');
    const l = lockDir(path.join(file, 'queue'), 'queue directory', '--queue-dir');
    expect(l.mode).toBe('none');
    expect(l.reason).toMatch(/ENOTDIR|not a directory/);
    l.release();
  });
});
