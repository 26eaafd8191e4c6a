/**
 * Config loading: the embedded default (configs/default.yaml) with a user
 * file merged over it, validated as a whole. Every error names the file and
 * the key (or the pattern) at fault and exits 2.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { securitySchema } from '../control/config/schema.js';
import { type ConfigReference, resolveReferences } from '../control/config/secrets.js';
import {
  type CarriedSignature,
  checkSignature,
  governingPolicy,
  loadSignaturePolicy,
  readSignatureFile,
  type SignatureCheck,
  type SignaturePolicy,
} from '../control/config/signed.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { packageRoot } from '../util/package.js';
import { processSecrets } from '../util/redact.js';
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

/** Parse YAML text into plain data; errors name the source (a file name) and line. */
export function parseYamlText(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const where = first.linePos?.[0] ? `:${first.linePos[0].line}:${first.linePos[0].col}` : '';
    throw new NrdotError(ErrorCodes.CONFIG_READ, `${source}${where}: malformed YAML: ${first.message.split('\n')[0]}`);
  }
  const data = doc.toJS() as unknown;
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) {
    throw new NrdotError(
      ErrorCodes.CONFIG_INVALID,
      `${source}: the top level must be a mapping of keys, not ${Array.isArray(data) ? 'a list' : typeof data}`,
    );
  }
  return data;
}

function readConfigBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new NrdotError(ErrorCodes.CONFIG_READ, `${file}: cannot read config: ${(e as Error).message}`);
  }
}

/** Parse one YAML file into plain data; errors name the file and line. */
export function readYamlFile(file: string): unknown {
  return parseYamlText(readConfigBytes(file).toString('utf8'), file);
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
  if (issue.code === 'invalid_key') {
    // a map key that fails its own check: say why ("profile names are lower-case words"), not just that it failed
    return `'${key}': invalid name: ${issue.issues.map((i) => i.message).join('; ')}`;
  }
  return `'${key}': ${issue.message}`;
}

function invalid(blame: string, issues: z.core.$ZodIssue[]): NrdotError {
  const msg = issues.slice(0, 5).map(describeIssue).join('; ');
  // a message may quote a value, and a value may have come from a reference
  return new NrdotError(
    ErrorCodes.CONFIG_INVALID,
    processSecrets.redact(`${blame}: ${msg}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}`),
  );
}

export interface LoadOptions {
  /** the environment for ${env:...} references (default process.env) */
  env?: NodeJS.ProcessEnv;
  /**
   * The running config's signature policy, which governs a new config at
   * reload (src/control/config/signed.ts); at start there is none and the
   * config's own policy applies.
   */
  enforce?: SignaturePolicy;
  /**
   * The signature of a config that does not come from a file (API, OpAMP);
   * a file's signature is read from FILE.sig beside it.
   */
  signature?: CarriedSignature;
}

export interface LoadedConfig {
  config: Config;
  /** the files that were merged, default first */
  files: string[];
  /** the user config's exact bytes, as stored in history and reported over OpAMP (empty: the default alone) */
  bytes: Buffer;
  /** SHA-256 of `bytes`, hex */
  hash: string;
  /** whether a trusted key signed `bytes`, and which */
  signature: SignatureCheck;
  /** the ${env:...} / ${file:...} references resolved (where and which, never the values) */
  references: ConfigReference[];
  /** the signature policy this config states, for checking the next one */
  policy: SignaturePolicy;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Load the default config, merge `userFile` over it, check its signature,
 * resolve references, validate, and compile every pattern once to check it.
 * Throws NrdotError (exit 2) on any problem.
 */
export function loadConfig(userFile?: string, opts: LoadOptions = {}): LoadedConfig {
  if (!userFile) return loadConfigBytes(undefined, undefined, opts);
  const abs = path.resolve(userFile);
  const bytes = readConfigBytes(abs);
  return loadConfigBytes(bytes, abs, { ...opts, signature: opts.signature ?? readSignatureFile(abs) });
}

/**
 * The same for a config that arrives as bytes (`name` says where from in
 * messages: a file, "PUT /api/config", "OpAMP remote config 'nrdot.yaml'").
 * `bytes` undefined: the embedded default alone.
 */
export function loadConfigBytes(
  bytes: Buffer | undefined,
  name: string | undefined,
  opts: LoadOptions = {},
): LoadedConfig {
  const defaultFile = path.join(configsDir(), DEFAULT_CONFIG_FILE);
  const files = [defaultFile];
  let merged = readYamlFile(defaultFile);
  const own = bytes ?? Buffer.alloc(0);
  const blame = name ?? defaultFile;
  if (bytes) {
    if (name && fs.existsSync(name)) files.push(name);
    merged = mergeConfig(merged, parseYamlText(bytes.toString('utf8'), blame));
  }

  // 1. the signature, before anything the config says is acted upon
  const sec = securitySchema.safeParse((merged as Plain).security);
  if (!sec.success)
    throw invalid(
      blame,
      sec.error.issues.map((i) => ({ ...i, path: ['security', ...i.path] })),
    );
  const policy = loadSignaturePolicy(sec.data.signed_configs);
  const signature = checkSignature(own, opts.signature, governingPolicy(policy, opts.enforce), blame);

  // 2. references (reads the environment and files)
  const { data, references } = resolveReferences(merged, { env: opts.env, source: blame });

  // 3. the whole schema, then what the schema cannot say
  const parsed = configSchema.safeParse(data);
  if (!parsed.success) throw invalid(blame, parsed.error.issues);
  const config = parsed.data;
  try {
    checkSemantics(config, blame);
  } catch (e) {
    if (e instanceof NrdotError) throw new NrdotError(e.code, processSecrets.redact(e.message));
    throw e;
  }
  return { config, files, bytes: own, hash: sha256Hex(own), signature, references, policy };
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

/**
 * The signature policy that `file` (merged over the default) states, without
 * resolving its references or validating the rest: what `nrdot config verify`
 * checks against when no --pubkey is given.
 */
export function statedSignaturePolicy(file: string): SignaturePolicy {
  const defaultFile = path.join(configsDir(), DEFAULT_CONFIG_FILE);
  const merged = mergeConfig(readYamlFile(defaultFile), readYamlFile(path.resolve(file))) as Plain;
  const sec = securitySchema.safeParse(merged.security);
  if (!sec.success) {
    throw invalid(
      path.resolve(file),
      sec.error.issues.map((i) => ({ ...i, path: ['security', ...i.path] })),
    );
  }
  return loadSignaturePolicy(sec.data.signed_configs);
}
