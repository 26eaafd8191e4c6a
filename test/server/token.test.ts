import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NrdotError } from '../../src/core/errors.js';
import { loadToken, tokenMatches } from '../../src/server/token.js';
import { fastTmpDir } from '../../src/util/tmp.js';

function tokenFile(content: string, mode: number): string {
  const file = path.join(fastTmpDir('nrdot-token-'), 'token');
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
    expect(loadToken({ file: tokenFile('  abc123  \n', 0o640), env: '' })).toBe('abc123');
  });

  it('refuses a world-readable file and says chmod 600', () => {
    const file = tokenFile('abc123\n', 0o644);
    const e = errorOf(() => loadToken({ file, env: '' }));
    expect(e.message).toContain(file);
    expect(e.message).toContain('chmod 600');
    expect(e.exitCode).toBe(2);
  });

  it('names a missing, empty or unreadable file', () => {
    const missing = path.join(fastTmpDir('nrdot-token-'), 'nope');
    expect(errorOf(() => loadToken({ file: missing, env: '' })).message).toBe(`token file ${missing} does not exist`);
    const empty = tokenFile(' \n', 0o600);
    expect(errorOf(() => loadToken({ file: empty, env: '' })).message).toBe(`token file ${empty} is empty`);
    const dir = fastTmpDir('nrdot-token-');
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

describe('tokenMatches', () => {
  it('matches only the exact token, whatever the lengths', () => {
    expect(tokenMatches('abc', 'abc')).toBe(true);
    expect(tokenMatches('abd', 'abc')).toBe(false);
    expect(tokenMatches('abcd', 'abc')).toBe(false);
    expect(tokenMatches('', 'abc')).toBe(false);
  });
});
