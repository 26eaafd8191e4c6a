/**
 * The bearer token that guards profile changes: from a file (preferred; it
 * must not be world-readable) or an environment variable.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import { ErrorCodes, errnoOf, NrdotError } from '../core/errors.js';

export interface TokenSource {
  /** a file holding the token (surrounding whitespace ignored) */
  file?: string;
  /** environment variable to read when no file is given (`server.token_env`); "" = none */
  env: string;
  /** the environment to read (default process.env) */
  environ?: NodeJS.ProcessEnv;
}

/**
 * The token, or undefined when neither source has one. A file that is
 * missing, unreadable, empty or world-readable is an error naming the file.
 */
export function loadToken(src: TokenSource): string | undefined {
  if (src.file !== undefined) return readTokenFile(src.file);
  if (!src.env) return undefined;
  const value = (src.environ ?? process.env)[src.env]?.trim();
  return value ? value : undefined;
}

function readTokenFile(file: string): string {
  let st: fs.Stats;
  let text: string;
  try {
    st = fs.statSync(file);
    if (!st.isFile()) throw new NrdotError(ErrorCodes.CONFIG_READ, `token file ${file} is not a regular file`);
    if ((st.mode & 0o004) !== 0) {
      throw new NrdotError(
        ErrorCodes.CONFIG_READ,
        `token file ${file} is readable by every user (mode ${(st.mode & 0o777).toString(8)}); refusing it: run chmod 600 ${file}`,
      );
    }
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof NrdotError) throw e;
    const why = errnoOf(e) === 'ENOENT' ? 'does not exist' : `cannot be read (${errnoOf(e) ?? String(e)})`;
    throw new NrdotError(ErrorCodes.CONFIG_READ, `token file ${file} ${why}`, { cause: e });
  }
  const token = text.trim();
  if (!token) throw new NrdotError(ErrorCodes.CONFIG_READ, `token file ${file} is empty`);
  return token;
}

/** Compare a presented token with the expected one in constant time (over SHA-256 digests, so lengths leak nothing). */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}
