/**
 * Export specs (`--export`, config `export:`) and the exporter factory.
 *
 *   file:PATH   OTLP JSON lines; PATH relative to the working directory, or a file:// URL
 *   otlp:URL    OTLP/HTTP protobuf + gzip to an http:// or https:// URL
 *               (a URL whose path is empty or ends in `/` gets `v1/metrics` appended)
 *   stdout      a human summary
 *   none        discard
 *
 * The kind is matched case-insensitively; surrounding whitespace is ignored.
 */

import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import type { Logger } from '../core/log.js';
import type { Exporter } from './exporter.js';
import { FileExporter } from './file.js';
import { NoneExporter } from './none.js';
import { type QueuedExporterOptions, QueuedOtlpExporter, recordPoints } from './otlp/queued.js';
import { endpointLabel, OtlpHttpExporter } from './otlp/send.js';
import { createDiskQueue, createMemoryQueue } from './queue/index.js';
import { type ExportSpec, parseExportSpec } from './spec-parse.js';
import { StdoutExporter } from './stdout.js';

export { type ExportSpec, parseExportSpec, parseExportSpecs, VALID_EXPORT_FORMS } from './spec-parse.js';

export interface CreateExporterOptions {
  logger: Logger;
  /** `export_options.file` */
  file: { maxBytes: number; maxFiles: number };
  /** `export_options.otlp`: headers (e.g. api-key; values are never logged), timeout, connections */
  otlp: { headers: Readonly<Record<string, string>>; timeoutMs: number; connections: number };
  /** stream for the stdout exporter, default process.stdout */
  stdout?: Writable;
  /**
   * Put OTLP exporters behind the export queue, breaker and retry. `dir`
   * "" keeps the queue in memory; otherwise each endpoint gets its own
   * subdirectory of `dir`. Absent: plain OtlpHttpExporter (tests, tools).
   */
  reliable?: {
    queue: { dir: string; maxBytes: number; segmentBytes: number; fsyncIntervalMs: number };
    retry: QueuedExporterOptions['retry'];
    breaker: QueuedExporterOptions['breaker'];
    shutdownDrainMs: number;
  };
}

/** The queue directory of one endpoint: readable, and unique per endpoint URL (query included). */
export function queueDirFor(base: string, url: URL): string {
  const label = endpointLabel(url)
    .replace(/^https?:\/\//, '')
    .replace(/[^A-Za-z0-9.-]+/g, '_')
    .slice(0, 80);
  const hash = createHash('sha256').update(url.href).digest('hex').slice(0, 8);
  return join(base, `${label}-${hash}`);
}

/** Build the exporter for a spec (string or parsed). Not started. */
export function createExporter(spec: string | ExportSpec, options: CreateExporterOptions): Exporter {
  const parsed = typeof spec === 'string' ? parseExportSpec(spec) : spec;
  const { logger } = options;
  switch (parsed.kind) {
    case 'file':
      return new FileExporter({
        path: parsed.path,
        logger,
        maxBytes: options.file.maxBytes,
        maxFiles: options.file.maxFiles,
      });
    case 'otlp': {
      const target = new OtlpHttpExporter({
        url: parsed.url,
        logger,
        headers: options.otlp.headers,
        timeoutMs: options.otlp.timeoutMs,
        connections: options.otlp.connections,
      });
      const r = options.reliable;
      if (!r) return target;
      const qo = {
        maxBytes: r.queue.maxBytes,
        segmentBytes: r.queue.segmentBytes,
        fsyncIntervalMs: r.queue.fsyncIntervalMs,
        logger,
        weigh: recordPoints,
      };
      const dir = r.queue.dir ? queueDirFor(r.queue.dir, target.endpoint) : '';
      const queue = dir ? createDiskQueue(dir, qo) : createMemoryQueue(qo);
      return new QueuedOtlpExporter({
        target,
        queue,
        logger,
        connections: options.otlp.connections,
        retry: r.retry,
        breaker: r.breaker,
        shutdownDrainMs: r.shutdownDrainMs,
        queueDir: dir,
      });
    }
    case 'stdout':
      return new StdoutExporter({ stream: options.stdout, logger });
    case 'none':
      return new NoneExporter();
  }
}
