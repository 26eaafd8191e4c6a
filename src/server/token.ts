/**
 * The bearer token that guards profile changes: from a file (preferred; like
 * ssh with its keys, nrdot refuses one that group or others may read or
 * write: 600 and 400 are fine, 640, 660, 620, 604, 602... are not) or an
 * environment variable. `tokenIdentity` names the token for the audit log.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
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
 * missing, unreadable, empty, or open to group or others is an error naming
 * the file (and its mode).
 */
export function loadToken(src: TokenSource): string | undefined {
  if (src.file !== undefined) return readTokenFile(src.file);
  if (!src.env) return undefined;
  const value = (src.environ ?? process.env)[src.env]?.trim();
  return value ? value : undefined;
}

/** `its group can read it, other users can write it` */
function access(mode: number): string {
  const parts: string[] = [];
  for (const [bits, who] of [
    [(mode >> 3) & 7, 'its group'],
    [mode & 7, 'other users'],
  ] as const) {
    const can = [bits & 4 ? 'read' : '', bits & 2 ? 'write' : '', bits & 1 ? 'execute' : ''].filter(Boolean);
    if (can.length > 0) parts.push(`${who} can ${can.join(' and ')} it`);
  }
  return parts.join(', ');
}

function readTokenFile(file: string): string {
  let st: fs.Stats;
  let text: string;
  try {
    st = fs.statSync(file);
    if (!st.isFile()) throw new NrdotError(ErrorCodes.CONFIG_READ, `token file ${file} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(3, '0');
      throw new NrdotError(
        ErrorCodes.CONFIG_READ,
        `token file ${file} has mode ${mode}: ${access(st.mode)} (group and others must have no access, as ssh insists for keys); refusing it: run chmod 600 ${file}`,
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

/**
 * Who holds the token, for the audit log: `token:<file name>` for a token
 * file, `env:<VARIABLE>` for the environment variable. The audit's "who"
 * comes from this, never from a request header.
 */
export function tokenIdentity(src: TokenSource): string {
  if (src.file !== undefined) return `token:${path.basename(src.file)}`;
  return src.env ? `env:${src.env}` : UNAUTHENTICATED_IDENTITY;
}

/** The identity when no token is configured (every change is refused then). */
export const UNAUTHENTICATED_IDENTITY = 'unauthenticated';

/** Why a request's bearer token is refused: HTTP status, audit outcome, message, headers. */
export interface BearerRefusal {
  status: 401 | 403;
  outcome: 'unauthorized' | 'forbidden';
  message: string;
  headers: Record<string, string>;
}

/**
 * The Authorization header checked against the token: undefined when it
 * matches, else the refusal every guarded route answers (401 with
 * WWW-Authenticate for a missing or malformed header, 403 for a wrong token).
 */
export function checkBearer(authorization: string | undefined, token: string): BearerRefusal | undefined {
  if (!authorization) {
    return {
      status: 401,
      outcome: 'unauthorized',
      message: 'missing bearer token: send Authorization: Bearer <token>',
      headers: { 'www-authenticate': 'Bearer realm="nrdot"' },
    };
  }
  const m = /^Bearer +(.+?) *$/i.exec(authorization);
  if (!m) {
    return {
      status: 401,
      outcome: 'unauthorized',
      message: 'the Authorization header must be Bearer <token>',
      headers: { 'www-authenticate': 'Bearer realm="nrdot", error="invalid_request"' },
    };
  }
  if (!tokenMatches(m[1]!, token)) return { status: 403, outcome: 'forbidden', message: 'wrong token', headers: {} };
  return undefined;
}
