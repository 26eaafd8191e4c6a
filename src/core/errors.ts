/**
 * Stable error codes. A NrdotError carries the code, a message that names the
 * flag, file, key or pattern at fault, and the exit code the CLI uses.
 */

export const ErrorCodes = {
  /** bad command-line usage (unknown flag value, missing argument) */
  USAGE: 'NRDOT_ERR_USAGE',
  /** a config file that cannot be read or parsed */
  CONFIG_READ: 'NRDOT_ERR_CONFIG_READ',
  /** a config value that fails validation */
  CONFIG_INVALID: 'NRDOT_ERR_CONFIG_INVALID',
  /** a profile name that is not defined */
  UNKNOWN_PROFILE: 'NRDOT_ERR_UNKNOWN_PROFILE',
  /** a classification pattern re2 cannot compile */
  BAD_PATTERN: 'NRDOT_ERR_BAD_PATTERN',
  /** --proc-root does not look like a procfs tree */
  NOT_PROCFS: 'NRDOT_ERR_NOT_PROCFS',
  /** an export spec that cannot be parsed */
  BAD_EXPORT_SPEC: 'NRDOT_ERR_BAD_EXPORT_SPEC',
  /** an output path that cannot be written */
  OUTPUT_UNWRITABLE: 'NRDOT_ERR_OUTPUT_UNWRITABLE',
  /** a queue or state directory locked by another running agent */
  DIR_IN_USE: 'NRDOT_ERR_DIR_IN_USE',
  /** synthetic host generation failed */
  SYNTH: 'NRDOT_ERR_SYNTH',
  /** anything else at run time */
  RUNTIME: 'NRDOT_ERR_RUNTIME',
  /** run --once / --cycles: accepted data was dropped or not delivered (exit 3) */
  UNDELIVERED: 'NRDOT_ERR_UNDELIVERED',
  /** the agent's control API refused the request: 401/403 (exit 4) */
  REFUSED: 'NRDOT_ERR_REFUSED',
  /** a `${env:...}` / `${file:...}` reference in the config that cannot be resolved */
  CONFIG_SECRET: 'NRDOT_ERR_CONFIG_SECRET',
  /** a config refused for its signature (unsigned, tampered, untrusted key, malformed .sig) or a bad signing key */
  CONFIG_SIGNATURE: 'NRDOT_ERR_CONFIG_SIGNATURE',
  /** a config history lookup that matches nothing (unknown version, a time before the kept history) */
  CONFIG_HISTORY: 'NRDOT_ERR_CONFIG_HISTORY',
  /** a recording (--recording DIR) that cannot be replayed: missing, newer format, truncated or corrupt */
  RECORDING: 'NRDOT_ERR_RECORDING',
  /** optimize suggest: no profile or knob meets every target (exit 5) */
  TARGET_UNMET: 'NRDOT_ERR_TARGET_UNMET',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Exit codes of the CLI (README, "Exit codes"). */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNDELIVERED = 3;
export const EXIT_REFUSED = 4;
export const EXIT_TARGET_UNMET = 5;

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.USAGE,
  ErrorCodes.CONFIG_READ,
  ErrorCodes.CONFIG_INVALID,
  ErrorCodes.UNKNOWN_PROFILE,
  ErrorCodes.BAD_PATTERN,
  ErrorCodes.NOT_PROCFS,
  ErrorCodes.BAD_EXPORT_SPEC,
  ErrorCodes.OUTPUT_UNWRITABLE,
  ErrorCodes.CONFIG_SECRET,
  ErrorCodes.CONFIG_SIGNATURE,
  ErrorCodes.CONFIG_HISTORY,
  ErrorCodes.DIR_IN_USE,
  ErrorCodes.RECORDING,
]);

export class NrdotError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NrdotError';
    this.code = code;
    this.exitCode = USAGE_CODES.has(code)
      ? EXIT_USAGE
      : code === ErrorCodes.UNDELIVERED
        ? EXIT_UNDELIVERED
        : code === ErrorCodes.REFUSED
          ? EXIT_REFUSED
          : code === ErrorCodes.TARGET_UNMET
            ? EXIT_TARGET_UNMET
            : EXIT_RUNTIME;
  }
}

export function isNodeError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string';
}

export function errnoOf(e: unknown): string | undefined {
  return isNodeError(e) ? e.code : undefined;
}
