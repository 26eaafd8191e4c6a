#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * nrdot command line. Exit codes: 0 success, 1 runtime failure, 2 bad usage
 * or bad config (the message names the flag, file and key), 3 `run --once` /
 * `--cycles` that could not deliver what it accepted, 4 a refused request to
 * the agent's control API (401/403). README, "Exit codes".
 */
import { CommanderError } from 'commander';
import { EXIT_RUNTIME, EXIT_USAGE, NrdotError } from '../core/errors.js';
import { processSecrets } from '../util/redact.js';
import { buildProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; every other parse error is bad usage
      if (e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      return EXIT_USAGE;
    }
    if (e instanceof NrdotError) {
      process.stderr.write(`nrdot: ${processSecrets.redact(e.message)} [${e.code}]\n`);
      return e.exitCode;
    }
    process.stderr.write(`nrdot: unexpected error: ${processSecrets.redact((e as Error)?.stack ?? String(e))}\n`);
    return EXIT_RUNTIME;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`nrdot: ${String(e)}\n`);
    process.exitCode = EXIT_RUNTIME;
  },
);
