/**
 * Component options from the embedded default config (configs/default.yaml),
 * the one place defaults live: tests spread these and override what they test.
 */
import {
  breakerOptions,
  exporterOptions,
  governorOptions,
  queueOptions,
  receiverOptions,
  retryOptions,
} from '../../src/config/components.js';
import { defaultConfig } from '../../src/config/load.js';
import type { Logger } from '../../src/core/log.js';
import { silentLogger } from '../../src/core/log.js';
import type { CreateExporterOptions } from '../../src/exporters/spec.js';

export const DEFAULTS = defaultConfig();
export const RETRY = retryOptions(DEFAULTS);
export const BREAKER = breakerOptions(DEFAULTS);
export const QUEUE = queueOptions(DEFAULTS);
/** `memory.*` (limitMib included: override it) */
export const GOVERNOR = governorOptions(DEFAULTS);
export const RECEIVER = receiverOptions(DEFAULTS);

/** Exporter options without the reliable chain (plain OtlpHttpExporter for otlp: specs). */
export function plainExporterOptions(logger: Logger = silentLogger): CreateExporterOptions {
  const { reliable: _, ...plain } = exporterOptions(DEFAULTS, { logger, queueDir: '' });
  return plain;
}

/** `export_options.file` */
export const FILE = plainExporterOptions().file;
/** `export_options.otlp`: headers, timeout, connections */
export const OTLP = plainExporterOptions().otlp;
