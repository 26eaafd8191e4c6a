/**
 * Config loading: the embedded default (configs/default.yaml) with a user
 * file merged over it, validated as a whole. Every error names the file and
 * the key (or the pattern) at fault and exits 2.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { packageRoot } from '../util/package.js';
import { suggestSimilar } from '../util/suggest.js';
import { checkSemantics } from './check.js';
import { type Config, configSchema } from './schema.js';
import { keysAt } from './walk.js';

/** configs/ of the installed package (works from src/ under vitest and from dist/src/). */
export function configsDir(): string {
  const dir = path.join(packageRoot(), 'configs');
  if (fs.existsSync(path.join(dir, DEFAULT_CONFIG_FILE))) return dir;
  throw new NrdotError(
    ErrorCodes.CONFIG_READ,
    'cannot find the embedded configs/default.yaml next to the nrdot package',
  );
}

export const DEFAULT_CONFIG_FILE = 'default.yaml';

type Plain = Record<string, unknown>;

function isPlainObject(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Maps merge key by key; lists and scalars replace. */
export function mergeConfig(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeConfig(base[k], v) : v;
  return out;
}

/** Parse one YAML file into plain data; errors name the file and line. */
export function readYamlFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new NrdotError(ErrorCodes.CONFIG_READ, `${file}: cannot read config: ${(e as Error).message}`);
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos?.[0] ? `:${first.linePos[0].line}:${first.linePos[0].col}` : '';
    throw new NrdotError(ErrorCodes.CONFIG_READ, `${file}${where}: malformed YAML: ${first.message.split('\n')[0]}`);
  }
  const data = doc.toJS() as unknown;
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) {
    throw new NrdotError(
      ErrorCodes.CONFIG_INVALID,
      `${file}: the top level must be a mapping of keys, not ${Array.isArray(data) ? 'a list' : typeof data}`,
    );
  }
  return data;
}

function formatPath(p: ReadonlyArray<PropertyKey>): string {
  return p.map(String).join('.');
}

/** The first validation problem as "key: message". */
function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(configSchema, issue.path);
    const keys = issue.keys.map((k) => {
      const near = suggestSimilar(k, known).map((s) => `'${formatPath([...issue.path, s])}'`);
      const hint = near.length === 0 ? '' : ` (did you mean ${near.length > 1 ? 'one of ' : ''}${near.join(', ')}?)`;
      return `'${formatPath([...issue.path, k])}'${hint}`;
    });
    return `unknown key${keys.length > 1 ? 's' : ''} ${keys.join(', ')}`;
  }
  const key = formatPath(issue.path) || '(top level)';
  return `'${key}': ${issue.message}`;
}

export interface LoadedConfig {
  config: Config;
  /** the files that were merged, default first */
  files: string[];
}

/**
 * Load the default config, merge `userFile` over it, validate, and compile
 * every pattern once to check it. Throws NrdotError (exit 2) on any problem.
 */
export function loadConfig(userFile?: string): LoadedConfig {
  const defaultFile = path.join(configsDir(), DEFAULT_CONFIG_FILE);
  const files = [defaultFile];
  let merged = readYamlFile(defaultFile);
  if (userFile) {
    const abs = path.resolve(userFile);
    files.push(abs);
    merged = mergeConfig(merged, readYamlFile(abs));
  }
  const blame = userFile ? path.resolve(userFile) : defaultFile;
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const msg = issues.slice(0, 5).map(describeIssue).join('; ');
    throw new NrdotError(
      ErrorCodes.CONFIG_INVALID,
      `${blame}: ${msg}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}`,
    );
  }
  const config = parsed.data;
  checkSemantics(config, blame);
  return { config, files };
}

export function unknownProfile(name: string, config: Config, where = '--profile'): NrdotError {
  return new NrdotError(
    ErrorCodes.UNKNOWN_PROFILE,
    `${where}: unknown profile '${name}' (known: ${Object.keys(config.profiles).join(', ')})`,
  );
}

/** `${VAR}` or `${env:VAR}` (the OpenTelemetry Collector's form) in a config value. */
export const ENV_REFERENCE = /\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replace ${VAR} / ${env:VAR} with the environment's value (used for header secrets). */
export function expandEnv(value: string, env: NodeJS.ProcessEnv = process.env): string {
  return value.replace(ENV_REFERENCE, (_, name: string) => env[name] ?? '');
}

let embedded: Config | undefined;

/**
 * The embedded default config (configs/default.yaml), loaded once: where
 * tests, benches and commands without --config get every default from.
 */
export function defaultConfig(): Config {
  embedded ??= loadConfig().config;
  return structuredClone(embedded);
}
