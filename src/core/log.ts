import pino, { type Logger } from 'pino';
import { processSecrets } from '../util/redact.js';

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

/** Structured logs go to stderr; stdout is for the CLI's human output. */
export function createLogger(level = 'info'): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      // values resolved from ${env:...} / ${file:...} references show as the reference
      hooks: { streamWrite: (line) => processSecrets.redact(line) },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}

export const silentLogger: Logger = pino({ level: 'silent' });
