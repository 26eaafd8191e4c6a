/**
 * nrdot's version, read once from the package's own package.json: the one
 * place it is written. `nrdot --version`, the OTLP instrumentation scope, the
 * OTLP User-Agent, /api/status and `nrdot_build_info` on /metrics all use it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from './package.js';

function readVersion(): string {
  const file = path.join(packageRoot(), 'package.json');
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof pkg.version !== 'string' || pkg.version === '') {
    throw new Error(`${file} has no "version"`);
  }
  return pkg.version;
}

/** e.g. `0.1.0` */
export const VERSION: string = readVersion();

/** The User-Agent of nrdot's HTTP requests, `nrdot/0.1.0`. */
export const USER_AGENT = `nrdot/${VERSION}`;
