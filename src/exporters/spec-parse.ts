/**
 * Export specs (`--export`, config `export:`), parsed without building an
 * exporter, so config validation applies the same rules as `run`.
 *
 *   file:PATH   OTLP JSON lines; PATH relative to the working directory, or a file:// URL
 *   otlp:URL    OTLP/HTTP protobuf + gzip to an http:// or https:// URL
 *               (a URL whose path is empty or ends in `/` gets `v1/metrics` appended)
 *   stdout      a human summary
 *   none        discard
 *
 * The kind is matched case-insensitively; surrounding whitespace is ignored.
 */

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { resolveOtlpEndpoint } from './otlp/endpoint.js';

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

/**
 * Everything the exporters need, complete: built from the loaded config by
 * `exporterOptions()` (src/config/components.ts), so every default comes
 * from configs/default.yaml.
 */

/**
 * Parse every spec and refuse one listed twice (two writers on one file
 * would corrupt it). `where` names where the list came from, e.g.
 * `'export[1]'` of a config file; errors are NrdotError(BAD_EXPORT_SPEC).
 */
export function parseExportSpecs(specs: readonly string[], where?: (index: number) => string): ExportSpec[] {
  const seen = new Map<string, string>();
  return specs.map((spec, i) => {
    let p: ExportSpec;
    try {
      p = parseExportSpec(spec);
    } catch (e) {
      if (where && e instanceof NrdotError) throw new NrdotError(e.code, `${where(i)}: ${e.message}`);
      throw e;
    }
    const key = p.kind === 'file' ? `file:${p.path}` : p.kind === 'otlp' ? `otlp:${p.url}` : p.kind;
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      throw new NrdotError(
        ErrorCodes.BAD_EXPORT_SPEC,
        `${where ? `${where(i)}: ` : ''}export spec "${maskCredentials(p.spec)}" duplicates "${maskCredentials(earlier)}": list each destination once`,
      );
    }
    seen.set(key, p.spec);
    return p;
  });
}
