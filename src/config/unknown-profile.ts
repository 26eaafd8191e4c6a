/**
 * The one "unknown profile" error: `WHERE: unknown profile 'NAME'[ DETAIL] (known: a, b)`,
 * NrdotError UNKNOWN_PROFILE (exit 2). A leaf module (no schema), so the
 * config checks, the control plane and the control server share it without
 * loading the config loader.
 */
import { ErrorCodes, NrdotError } from '../core/errors.js';

/**
 * `known`: a config (its profiles) or the names. `where`: the flag, key or
 * file and key the name came from ("" = none); `detail` follows the name
 * (e.g. " in schedule 'night'").
 */
export function unknownProfile(
  name: string,
  known: { profiles: Record<string, unknown> } | readonly string[],
  where = '--profile',
  detail = '',
): NrdotError {
  const names = Array.isArray(known) ? known : Object.keys((known as { profiles: Record<string, unknown> }).profiles);
  return new NrdotError(
    ErrorCodes.UNKNOWN_PROFILE,
    `${where ? `${where}: ` : ''}unknown profile '${name}'${detail} (known: ${names.join(', ')})`,
  );
}
