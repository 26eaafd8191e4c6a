import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NrdotError } from '../../src/core/errors.js';
import { loadToken, tokenIdentity, tokenMatches } from '../../src/server/token.js';
import { fastTmpDir } from '../../src/util/tmp.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tmpDir(): string {
  const d = fastTmpDir('nrdot-token-');
  dirs.push(d);
  return d;
}

function tokenFile(content: string, mode: number): string {
  const file = path.join(tmpDir(), 'token');
  fs.writeFileSync(file, content);
  fs.chmodSync(file, mode);
  return file;
}

function errorOf(fn: () => unknown): NrdotError {
  try {
    fn();
  } catch (e) {
    if (e instanceof NrdotError) return e;
    throw e;
  }
  throw new Error('expected an NrdotError');
}

describe('loadToken', () => {
  it('reads a private file, trimming the newline an editor leaves', () => {
    expect(loadToken({ file: tokenFile('abc123\n', 0o600), env: '' })).toBe('abc123');
    expect(loadToken({ file: tokenFile('  abc123  \n', 0o400), env: '' })).toBe('abc123');
  });

  it.each([0o600, 0o400, 0o700, 0o500])('accepts mode %o (nothing for group or others)', (mode) => {
    expect(loadToken({ file: tokenFile('abc123\n', mode), env: '' })).toBe('abc123');
  });

  it.each([
    [0o640, 'its group can read it'],
    [0o660, 'its group can read and write it'],
    [0o620, 'its group can write it'],
    [0o602, 'other users can write it'],
    [0o604, 'other users can read it'],
    [0o644, 'its group can read it, other users can read it'],
    [0o610, 'its group can execute it'],
    [0o666, 'its group can read and write it, other users can read and write it'],
  ])('refuses mode %o like ssh, naming the file, its mode and what to run', (mode, what) => {
    const file = tokenFile('abc123\n', mode);
    const e = errorOf(() => loadToken({ file }));
    expect(e.message).toBe(
      `token file ${file} has mode ${mode.toString(8)}: ${what} (group and others must have no access, as ssh insists for keys); refusing it: run chmod 600 ${file}`,
    );
    expect(e.exitCode).toBe(2);
  });

  it('names a missing, empty or unreadable file', () => {
    const missing = path.join(tmpDir(), 'nope');
    expect(errorOf(() => loadToken({ file: missing, env: '' })).message).toBe(`token file ${missing} does not exist`);
    const empty = tokenFile(' \n', 0o600);
    expect(errorOf(() => loadToken({ file: empty, env: '' })).message).toBe(`token file ${empty} is empty`);
    const dir = tmpDir();
    fs.chmodSync(dir, 0o700);
    expect(errorOf(() => loadToken({ file: dir, env: '' })).message).toContain(
      `token file ${dir} is not a regular file`,
    );
    if (process.getuid?.() !== 0) {
      const locked = tokenFile('abc', 0o000);
      expect(errorOf(() => loadToken({ file: locked, env: '' })).message).toContain(
        `token file ${locked} cannot be read`,
      );
    }
  });

  it('reads the variable named (server.token_env), and is undefined when it is unset, empty or ""', () => {
    expect(loadToken({ env: 'NRDOT_TOKEN', environ: { NRDOT_TOKEN: ' t1 ' } })).toBe('t1');
    expect(loadToken({ env: 'MY_TOKEN', environ: { MY_TOKEN: 't2', NRDOT_TOKEN: 't1' } })).toBe('t2');
    expect(loadToken({ env: 'NRDOT_TOKEN', environ: {} })).toBeUndefined();
    expect(loadToken({ env: 'NRDOT_TOKEN', environ: { NRDOT_TOKEN: '' } })).toBeUndefined();
    expect(loadToken({ env: '', environ: { NRDOT_TOKEN: 't1' } })).toBeUndefined();
    // a file wins over the environment
    expect(
      loadToken({ file: tokenFile('from-file', 0o600), env: 'NRDOT_TOKEN', environ: { NRDOT_TOKEN: 'from-env' } }),
    ).toBe('from-file');
  });
});

describe('tokenIdentity', () => {
  it('names the token file or the variable, never anything from a request', () => {
    expect(tokenIdentity({ file: '/etc/nrdot/ops.token', env: 'NRDOT_TOKEN' })).toBe('token:ops.token');
    expect(tokenIdentity({ env: 'NRDOT_TOKEN' })).toBe('env:NRDOT_TOKEN');
    expect(tokenIdentity({ env: '' })).toBe('unauthenticated');
    expect(tokenIdentity({ env: 'MY_TOKEN' })).toBe('env:MY_TOKEN');
  });
});

describe('tokenMatches', () => {
  it('matches only the exact token, whatever the lengths', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
    expect(tokenMatches('', 'abc')).toBe(false);
  });
});
