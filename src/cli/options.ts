/** Parsers for option values; each error names the flag. */
import { InvalidArgumentError } from 'commander';
import { positiveDurationMs } from '../config/duration.js';
import { SCAN_FILES, type ScanFile, type ScanFiles } from '../sources/scanner.js';

export function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0)
      throw new InvalidArgumentError(`${flag} expects a positive whole number, got '${v}'`);
    return n;
  };
}

export function nonNegativeInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${flag} expects a whole number >= 0, got '${v}'`);
    return n;
  };
}

/**
 * A finite number above 0, fractions allowed (`--rate 0.5`); with `atLeast`,
 * a number at least that instead (`--swing` is a ratio >= 1).
 */
export function positiveNumber(flag: string, atLeast?: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (atLeast === undefined ? n <= 0 : n < atLeast))
      throw new InvalidArgumentError(
        `${flag} expects a number ${atLeast === undefined ? 'above 0' : `>= ${atLeast}`}, got '${v}'`,
      );
    return n;
  };
}

export function fraction(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1)
      throw new InvalidArgumentError(`${flag} expects a share between 0 and 1, got '${v}'`);
    return n;
  };
}

export function durationArg(flag: string) {
  return (v: string): number => {
    const ms = positiveDurationMs(v, true);
    if (ms === undefined)
      throw new InvalidArgumentError(`${flag} expects a duration like 10s, 500ms or 2m, got '${v}'`);
    return ms;
  };
}

export function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

/**
 * `--files status,io,fds`: the files detail rows read (ScanOptions.files).
 * `none` (or an empty list) reads none of them; a name that is not one of the
 * three is bad usage naming the flag.
 */
export function scanFilesArg(flag: string) {
  return (v: string): Required<ScanFiles> => {
    const out = { status: false, io: false, fds: false };
    const names = v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (names.length === 1 && names[0] === 'none') return out;
    for (const n of names) {
      if (!(SCAN_FILES as readonly string[]).includes(n))
        throw new InvalidArgumentError(
          `${flag} expects a comma-separated list of ${SCAN_FILES.join(', ')} (or none), got '${n}'`,
        );
      out[n as ScanFile] = true;
    }
    return out;
  };
}
