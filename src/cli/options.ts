/** Parsers for option values; each error names the flag. */
import { InvalidArgumentError } from 'commander';
import { durationMs } from '../config/duration.js';

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
    const s = /^\d+(\.\d+)?$/.test(v) ? `${v}s` : v;
    try {
      const ms = durationMs(s);
      if (ms <= 0) throw new Error('not positive');
      return ms;
    } catch {
      throw new InvalidArgumentError(`${flag} expects a duration like 10s, 500ms or 2m, got '${v}'`);
    }
  };
}

export function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}
