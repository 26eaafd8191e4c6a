/**
 * The export stage as the engine sees it: parse every spec up front (so a bad
 * one fails before anything starts), build the exporters and fan out to them.
 */

import { ErrorCodes, NrdotError } from '../core/errors.js';
import { Fanout } from './fanout.js';
import { type CreateExporterOptions, createExporter, type ExportSpec, parseExportSpec } from './spec.js';

/**
 * A Fanout over one exporter per spec. Throws NrdotError(BAD_EXPORT_SPEC) for
 * an unparsable spec or one listed twice (two writers on one file would
 * corrupt it). An empty list exports nowhere.
 */
export function createSink(specs: readonly string[], options: CreateExporterOptions): Fanout {
  const parsed: ExportSpec[] = specs.map(parseExportSpec);
  const seen = new Map<string, string>();
  for (const p of parsed) {
    const key = p.kind === 'file' ? `file:${p.path}` : p.kind === 'otlp' ? `otlp:${p.url}` : p.kind;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new NrdotError(
        ErrorCodes.BAD_EXPORT_SPEC,
        `export spec "${p.spec}" duplicates "${earlier}": list each destination once`,
      );
    }
    seen.set(key, p.spec);
  }
  return new Fanout(
    parsed.map((p) => createExporter(p, options)),
    options.logger,
  );
}
