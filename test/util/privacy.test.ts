import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NrdotError } from '../../src/core/errors.js';
import {
  CommandLinePrivacy,
  commandLineAttribute,
  HASH_PREFIX,
  loadCommandLinePrivacy,
} from '../../src/util/privacy.js';
import { fastTmpDir } from '../../src/util/tmp.js';

const SALT = Buffer.from('fleet-salt-0123456789abcdef', 'utf8');
const CMD = 'psql postgresql://app:hunter2@db.internal/app --no-password';
const dir = fastTmpDir('nrdot-privacy-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function loadError(f: () => unknown): NrdotError {
  try {
    f();
  } catch (e) {
    if (e instanceof NrdotError) return e;
    throw e;
  }
  throw new Error('expected an NrdotError');
}

describe('commandLineAttribute', () => {
  it('keep passes the command line through; drop leaves the attribute out', () => {
    expect(commandLineAttribute('keep', CMD, '/usr/bin/psql')).toBe(CMD);
    expect(commandLineAttribute('drop', CMD, '/usr/bin/psql')).toBeUndefined();
  });

  it('executable keeps only the executable path, or argv[0] when the path is unknown', () => {
    expect(commandLineAttribute('executable', CMD, '/usr/bin/psql')).toBe('/usr/bin/psql');
    expect(commandLineAttribute('executable', CMD, '')).toBe('psql');
    expect(commandLineAttribute('executable', '/opt/app/bin/server', '')).toBe('/opt/app/bin/server');
  });

  it('hash: a keyed SHA-256 prefix, equal for equal command lines and salts, revealing nothing', () => {
    const h = commandLineAttribute('hash', CMD, '/usr/bin/psql', SALT)!;
    expect(h).toMatch(/^hmac-sha256:[0-9a-f]{32}$/);
    expect(h).toBe(HASH_PREFIX + createHmac('sha256', SALT).update(CMD).digest('hex').slice(0, 32));
    expect(h).not.toContain('hunter2');
    // comparable: the same command line hashes the same on another host with the same salt
    expect(commandLineAttribute('hash', CMD, '', Buffer.from(SALT))).toBe(h);
    // and differently for another command line or another salt (no guessing without the salt)
    expect(commandLineAttribute('hash', `${CMD} `, '', SALT)).not.toBe(h);
    expect(commandLineAttribute('hash', CMD, '', Buffer.from('another-salt-0123456789'))).not.toBe(h);
  });

  it('a kernel thread (empty command line) gets no attribute in any mode', () => {
    for (const mode of ['keep', 'executable', 'hash', 'drop'] as const) {
      expect(commandLineAttribute(mode, '', '', SALT)).toBeUndefined();
    }
  });
});

describe('CommandLinePrivacy', () => {
  it('gives the same answers as the function, remembering them', () => {
    const p = new CommandLinePrivacy('hash', SALT);
    const first = p.apply(CMD, '/usr/bin/psql');
    expect(p.apply(CMD, '/usr/bin/psql')).toBe(first);
    expect(first).toBe(commandLineAttribute('hash', CMD, '', SALT));
    expect(new CommandLinePrivacy('executable').apply(CMD, '/usr/bin/psql')).toBe('/usr/bin/psql');
    expect(new CommandLinePrivacy('drop').apply(CMD, '/x')).toBeUndefined();
  });

  it('refuses hash mode without a salt of 16 bytes', () => {
    expect(() => new CommandLinePrivacy('hash')).toThrow(RangeError);
    expect(() => new CommandLinePrivacy('hash', Buffer.from('short'))).toThrow(/16 bytes/);
  });
});

describe('loadCommandLinePrivacy', () => {
  const base = { command_line: 'hash' as const, salt_file: '', salt_env: 'NRDOT_COMMAND_LINE_SALT' };

  it('reads the salt from the environment variable named by salt_env', () => {
    const p = loadCommandLinePrivacy(base, { NRDOT_COMMAND_LINE_SALT: ` ${SALT.toString()}\n` });
    expect(p.apply(CMD, '')).toBe(commandLineAttribute('hash', CMD, '', SALT));
  });

  it('a salt file wins over the environment, and must not be world-readable', () => {
    const f = path.join(dir, 'salt');
    fs.writeFileSync(f, `${SALT.toString()}\n`, { mode: 0o600 });
    const p = loadCommandLinePrivacy({ ...base, salt_file: f }, { NRDOT_COMMAND_LINE_SALT: 'something-else-entirely' });
    expect(p.apply(CMD, '')).toBe(commandLineAttribute('hash', CMD, '', SALT));
    fs.chmodSync(f, 0o644);
    const e = loadError(() => loadCommandLinePrivacy({ ...base, salt_file: f }, {}));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(`privacy.salt_file ${f} is readable by every user`);
    expect(
      loadError(() => loadCommandLinePrivacy({ ...base, salt_file: path.join(dir, 'nope') }, {})).message,
    ).toContain('does not exist');
  });

  it('hash mode without a salt, or with a short one, refuses to start naming the variable', () => {
    const e = loadError(() => loadCommandLinePrivacy(base, {}));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain('the environment variable NRDOT_COMMAND_LINE_SALT (privacy.salt_env) is not set');
    expect(loadError(() => loadCommandLinePrivacy(base, { NRDOT_COMMAND_LINE_SALT: 'abc' })).message).toContain(
      'is 3 bytes; use at least 16',
    );
  });

  it('other modes need no salt', () => {
    for (const mode of ['keep', 'executable', 'drop'] as const) {
      expect(loadCommandLinePrivacy({ ...base, command_line: mode }, {}).mode).toBe(mode);
    }
  });
});
