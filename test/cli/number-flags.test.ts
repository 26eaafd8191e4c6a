/**
 * Flags that take a positive number (options.ts positiveNumber): a bad value
 * exits 2 with a message naming the flag and the value as typed (`--swing
 * abc` used to say "got 'NaN'"), through the built CLI; and the good values
 * the parser lets through.
 */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { positiveNumber } from '../../src/cli/options.js';
import { nrdot } from '../helpers/cli.js';

describe('positiveNumber', () => {
  it('takes fractions and exponents above 0, or at least the floor given', () => {
    expect(positiveNumber('--rate')('0.5')).toBe(0.5);
    expect(positiveNumber('--rate')('2e3')).toBe(2000);
    expect(positiveNumber('--swing', 1)('1')).toBe(1);
    expect(positiveNumber('--swing', 1)('2.5')).toBe(2.5);
  });

  it.each(['', ' ', 'abc', '0', '-1', 'Infinity', '1e400', 'NaN', '3x'])("refuses '%s'", (v) => {
    expect(() => positiveNumber('--rate')(v)).toThrow(
      new InvalidArgumentError(`--rate expects a number above 0, got '${v}'`),
    );
  });

  it('with a floor, refuses what is below it', () => {
    expect(() => positiveNumber('--swing', 1)('0.5')).toThrow("--swing expects a number >= 1, got '0.5'");
  });
});

describe('bad positive numbers on the command line exit 2 naming the flag and the value', () => {
  const cases: [string[], string, string, string][] = [
    // [command, flag, value, what the message says it expects]
    [['simulate'], '--swing', 'abc', 'a number >= 1'],
    [['simulate'], '--swing', '0.5', 'a number >= 1'],
    [['optimize', 'suggest', '--target-cost', '1'], '--swing', 'abc', 'a number >= 1'],
    [['optimize', 'suggest'], '--target-cost', 'abc', 'a number above 0'],
    [['optimize', 'suggest'], '--target-cost', '0', 'a number above 0'],
    [['optimize', 'suggest'], '--target-points', '-5', 'a number above 0'],
    [['optimize', 'suggest'], '--target-points', 'Infinity', 'a number above 0'],
    [['loadgen', '--target', 'http://127.0.0.1:9/v1/metrics'], '--rate', 'abc', 'a number above 0'],
    [['loadgen', '--target', 'http://127.0.0.1:9/v1/metrics'], '--rate', '-2', 'a number above 0'],
  ];
  it.each(cases)('%s %s %s', async (cmd, flag, value, expects) => {
    const r = await nrdot([...cmd, flag, value]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${flag} expects ${expects}, got '${value}'`);
  });
});
