/**
 * What the exported `process.command_line` attribute carries
 * (`privacy.command_line`). Command lines often hold secrets (passwords,
 * tokens and connection strings passed as arguments), so an operator can
 * keep them, keep only the executable, replace them by a keyed hash, or
 * drop the attribute:
 *
 *   keep        the command line as read from /proc/PID/cmdline (the default)
 *   executable  only the executable: process.executable.path when known, else argv[0]
 *   hash        `hmac-sha256:` + the first 32 hex digits of HMAC-SHA256(salt, command line):
 *               equal command lines give equal values on every host that shares
 *               the salt, and nobody without the salt can test a guess
 *               (an unkeyed hash of a short command line is found by trying
 *               candidates)
 *   drop        no process.command_line attribute at all
 *
 * The salt (the HMAC key) comes from `privacy.salt_file` (a file readable by
 * the agent only, like the API token) or else from the environment variable
 * named by `privacy.salt_env` (NRDOT_COMMAND_LINE_SALT by default); hash
 * mode without one refuses to start. Use one salt per fleet to compare
 * command lines across hosts; rotating it changes every value.
 *
 * Only the exported attribute changes: classification still matches rules
 * against the real command line.
 */
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import { ErrorCodes, errnoOf, NrdotError } from '../core/errors.js';

export const COMMAND_LINE_MODES = ['keep', 'executable', 'hash', 'drop'] as const;
export type CommandLineMode = (typeof COMMAND_LINE_MODES)[number];

export const HASH_PREFIX = 'hmac-sha256:';
/** hex digits kept: 128 bits, collisions out of reach for any fleet */
const HASH_HEX = 32;
/** a salt shorter than this is refused: it could be guessed alongside the command line */
export const MIN_SALT_BYTES = 16;
/** transformed values remembered (a host's distinct command lines); cleared when full */
const CACHE_MAX = 65_536;

export interface PrivacyConfig {
  command_line: CommandLineMode;
  salt_file: string;
  salt_env: string;
}

/** The value of process.command_line under `mode`; undefined = leave the attribute out. */
export function commandLineAttribute(
  mode: CommandLineMode,
  cmdline: string,
  exe: string,
  salt?: Uint8Array,
): string | undefined {
  if (cmdline === '') return undefined;
  switch (mode) {
    case 'keep':
      return cmdline;
    case 'drop':
      return undefined;
    case 'executable':
      return exe || argv0(cmdline);
    case 'hash':
      if (!salt || salt.length === 0) throw new Error('privacy: hash mode needs a salt');
      return HASH_PREFIX + createHmac('sha256', salt).update(cmdline, 'utf8').digest('hex').slice(0, HASH_HEX);
  }
}

/** The first argument of a command line as /proc shows it (arguments joined by spaces). */
function argv0(cmdline: string): string {
  const sp = cmdline.indexOf(' ');
  return sp < 0 ? cmdline : cmdline.slice(0, sp);
}

/**
 * The policy the build stage applies to every exported process: one object
 * per agent, holding the salt, remembering recent results (a process's
 * command line does not change between cycles, so hashing is paid once).
 */
export class CommandLinePrivacy {
  private readonly cache = new Map<string, string | undefined>();

  constructor(
    readonly mode: CommandLineMode,
    private readonly salt?: Uint8Array,
  ) {
    if (mode === 'hash' && (!salt || salt.length < MIN_SALT_BYTES)) {
      throw new RangeError(`privacy: hash mode needs a salt of at least ${MIN_SALT_BYTES} bytes`);
    }
  }

  /** process.command_line for this process, or undefined to leave the attribute out. */
  apply(cmdline: string, exe: string): string | undefined {
    if (this.mode === 'keep' || this.mode === 'drop') return commandLineAttribute(this.mode, cmdline, exe);
    const key = this.mode === 'executable' ? `${exe}\0${cmdline}` : cmdline;
    if (this.cache.has(key)) return this.cache.get(key);
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    const v = commandLineAttribute(this.mode, cmdline, exe, this.salt);
    this.cache.set(key, v);
    return v;
  }
}

function saltError(message: string, cause?: unknown): NrdotError {
  return new NrdotError(ErrorCodes.CONFIG_READ, message, cause === undefined ? undefined : { cause });
}

/**
 * The policy of a config's `privacy:` section, reading the salt for hash
 * mode. Errors name the key, file or variable and exit 2.
 */
export function loadCommandLinePrivacy(p: PrivacyConfig, environ: NodeJS.ProcessEnv = process.env): CommandLinePrivacy {
  if (p.command_line !== 'hash') return new CommandLinePrivacy(p.command_line);
  let salt: Buffer;
  if (p.salt_file) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p.salt_file);
      if ((st.mode & 0o004) !== 0) {
        throw saltError(
          `privacy.salt_file ${p.salt_file} is readable by every user (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${p.salt_file}`,
        );
      }
      salt = fs.readFileSync(p.salt_file);
    } catch (e) {
      if (e instanceof NrdotError) throw e;
      const why = errnoOf(e) === 'ENOENT' ? 'does not exist' : `cannot be read (${errnoOf(e) ?? String(e)})`;
      throw saltError(`privacy.salt_file ${p.salt_file} ${why}`, e);
    }
    salt = Buffer.from(salt.toString('utf8').trim(), 'utf8');
  } else {
    const v = p.salt_env ? environ[p.salt_env]?.trim() : undefined;
    if (!v) {
      throw saltError(
        `privacy.command_line is hash but ${p.salt_env ? `the environment variable ${p.salt_env} (privacy.salt_env) is not set` : 'privacy.salt_env is ""'}; set it, or privacy.salt_file, to a secret of at least ${MIN_SALT_BYTES} bytes`,
      );
    }
    salt = Buffer.from(v, 'utf8');
  }
  if (salt.length < MIN_SALT_BYTES) {
    throw saltError(
      `the privacy salt (${p.salt_file ? `privacy.salt_file ${p.salt_file}` : p.salt_env}) is ${salt.length} bytes; use at least ${MIN_SALT_BYTES} (e.g. openssl rand -hex 32)`,
    );
  }
  return new CommandLinePrivacy('hash', salt);
}
