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
import { join, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Exporter } from './exporter.js';
import { FileExporter } from './file.js';
import { NoneExporter } from './none.js';
import { type QueuedExporterOptions, QueuedOtlpExporter, recordPoints } from './otlp/queued.js';
import { endpointLabel, OtlpHttpExporter, resolveOtlpEndpoint } from './otlp/send.js';
import { createDiskQueue, createMemoryQueue } from './queue/index.js';
import { StdoutExporter } from './stdout.js';

export type ExportSpec =
  | { kind: 'file' /** absolute */; path: string; spec: string }
  | { kind: 'otlp' /** resolved metrics endpoint */; url: string; spec: string }
  | { kind: 'stdout'; spec: string }
  | { kind: 'none'; spec: string };

export const VALID_EXPORT_FORMS = 'file:PATH, otlp:URL (http:// or https://), stdout, none';

/** Hide user info (user:password) typed into a URL before the spec goes into an error message. */
function maskCredentials(spec: string): string {
  return spec.replace(/\/\/[^/@\s]+@/g, '//***@');
}

function bad(spec: string, reason: string): NrdotError {
  return new NrdotError(
    ErrorCodes.BAD_EXPORT_SPEC,
    maskCredentials(`invalid export spec "${spec}": ${reason}; valid forms: ${VALID_EXPORT_FORMS}`),
  );
}

/** Parse one spec; NrdotError(BAD_EXPORT_SPEC) naming the spec and the valid forms otherwise. */
export function parseExportSpec(spec: string): ExportSpec {
  if (typeof spec !== 'string' || spec.trim() === '') throw bad(String(spec ?? ''), 'empty');
  const s = spec.trim();
  const colon = s.indexOf(':');
  const kind = (colon < 0 ? s : s.slice(0, colon)).toLowerCase();
  const rest = colon < 0 ? undefined : s.slice(colon + 1);

  switch (kind) {
    case 'stdout':
    case 'none':
      if (rest !== undefined) throw bad(spec, `${kind} takes no argument`);
      return { kind, spec: s };

    case 'file': {
      if (!rest) throw bad(spec, 'file: needs a path, e.g. file:./data/metrics.jsonl');
      if (rest.includes('\0')) throw bad(spec, 'the path contains a NUL character');
      let path: string;
      if (rest.startsWith('//')) {
        try {
          path = fileURLToPath(new URL(`file:${rest}`));
        } catch (e) {
          throw bad(spec, `not a usable file URL (${e instanceof Error ? e.message : String(e)})`);
        }
      } else {
        path = rest;
      }
      if (path.endsWith('/')) throw bad(spec, 'the path names a directory; give a file name');
      return { kind: 'file', path: resolve(path), spec: s };
    }

    case 'otlp': {
      if (!rest) throw bad(spec, 'otlp: needs a URL, e.g. otlp:http://localhost:4318');
      let url: URL;
      try {
        url = new URL(rest);
      } catch {
        throw bad(spec, `"${rest}" is not a URL (include http:// or https://)`);
      }
      try {
        url = resolveOtlpEndpoint(url.href);
      } catch (e) {
        const hint = url.protocol === 'http:' || url.protocol === 'https:' ? '' : ' (include http:// or https://)';
        throw bad(spec, `${e instanceof Error ? e.message : String(e)}${hint}`);
      }
      return { kind: 'otlp', url: url.href, spec: s };
    }

    case 'http':
    case 'https':
      throw bad(spec, `unknown exporter kind "${kind}" (for OTLP/HTTP write otlp:${s})`);

    default:
      throw bad(spec, colon < 0 ? 'unknown exporter' : `unknown exporter kind "${kind}"`);
  }
}

export interface CreateExporterOptions {
  logger: Logger;
  /** OTLP request headers (e.g. api-key); values are never logged */
  headers?: Readonly<Record<string, string>>;
  fileMaxBytes?: number;
  fileMaxFiles?: number;
  /** OTLP request timeout, ms */
  timeoutMs?: number;
  /** stream for the stdout exporter, default process.stdout */
  stdout?: Writable;
  /**
   * Put OTLP exporters behind the export queue, breaker and retry. `dir`
   * "" keeps the queue in memory; otherwise each endpoint gets its own
   * subdirectory of `dir`. Absent: plain OtlpHttpExporter (tests, tools).
   */
  reliable?: {
    queue: { dir: string; maxBytes: number; segmentBytes: number; fsyncIntervalMs: number };
    connections?: number;
    retry?: QueuedExporterOptions['retry'];
    breaker?: QueuedExporterOptions['breaker'];
    shutdownDrainMs?: number;
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
        maxBytes: options.fileMaxBytes,
        maxFiles: options.fileMaxFiles,
      });
    case 'otlp': {
      const target = new OtlpHttpExporter({
        url: parsed.url,
        logger,
        headers: options.headers,
        timeoutMs: options.timeoutMs,
        connections: options.reliable?.connections,
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
        connections: r.connections,
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
