import pino, { type Logger } from 'pino';
import { processSecrets } from '../util/redact.js';
import { prettyDestination } from './log-pretty.js';

/** Keys whose values never reach a log line. */
export const REDACT_PATHS = [
  'headers.authorization',
  'headers.Authorization',
  'headers["api-key"]',
  'headers["x-api-key"]',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["api-key"]',
  '*.headers["x-api-key"]',
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
];

export type { Logger };

/** `json`: one JSON object per line; `pretty`: readable lines (log-pretty.ts); `auto`: pretty on a terminal. */
export type LogFormat = 'auto' | 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['auto', 'json', 'pretty'];

/** The format `auto` means here: pretty when stderr is a terminal, JSON otherwise (files, pipes, journald). */
export function resolveLogFormat(format: LogFormat, stderrIsTty = process.stderr.isTTY === true): 'json' | 'pretty' {
  return format === 'auto' ? (stderrIsTty ? 'pretty' : 'json') : format;
}

/**
 * Structured logs go to stderr, synchronously (so they never interleave with
 * the CLI's human output on stdout, which is written synchronously too).
 */
export function createLogger(level = 'info', format: LogFormat = 'json'): Logger {
  const fd2 = pino.destination({ fd: 2, sync: true });
  const pretty = resolveLogFormat(format) === 'pretty';
  const colour = pretty && process.stderr.isTTY === true && !process.env.NO_COLOR;
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // values resolved from ${env:...} / ${file:...} references show as the reference
      hooks: { streamWrite: (line) => processSecrets.redact(line) },
    },
    pretty ? prettyDestination((line) => fd2.write(line), colour) : fd2,
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
