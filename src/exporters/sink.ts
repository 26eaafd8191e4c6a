/**
 * The export stage as the engine sees it: parse every spec up front (so a bad
 * one fails before anything starts), build the exporters and fan out to them.
 */

import { Fanout } from './fanout.js';
import { type CreateExporterOptions, createExporter, parseExportSpecs } from './spec.js';

/**
 * A Fanout over one exporter per spec. Throws NrdotError(BAD_EXPORT_SPEC) for
 * an unparsable spec or one listed twice (two writers on one file would
 * corrupt it). An empty list exports nowhere.
 */
export function createSink(specs: readonly string[], options: CreateExporterOptions): Fanout {
  const parsed = parseExportSpecs(specs);
  return new Fanout(
    parsed.map((p) => createExporter(p, options)),
    options.logger,
  );
}
