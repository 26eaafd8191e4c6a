/**
 * References in config strings, the OpenTelemetry Collector's convention:
 *
 *   ${env:NAME}            the environment variable NAME (an error if unset)
 *   ${env:NAME:-default}   NAME, or `default` when NAME is unset or empty
 *   ${file:PATH}           the content of PATH (relative to the working
 *                          directory), one trailing newline removed
 *   $${                    a literal `${`
 *
 * A reference may be the whole string or part of it ("Bearer ${env:TOKEN}").
 * The older `${NAME}` form still works in `export_options.otlp.headers`
 * (where nrdot has always read it from the environment); anywhere else it is
 * refused with a pointer to `${env:NAME}`, so it can never be half-expanded.
 *
 * References are resolved once, when a config is loaded; the text that is
 * stored (history), compared (diff) and reported (OpAMP) is always the file
 * as written. Every value read from the environment or a file is registered
 * with the process's SecretRedactor, so logs and API answers show the
 * reference, never the value.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import { processSecrets, type SecretRedactor } from '../../util/redact.js';

export interface ResolveOptions {
  /** the environment (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** reads a `${file:...}` target (default fs.readFileSync as UTF-8) */
  readFile?: (file: string) => string;
  /** base of relative `${file:...}` paths (default process.cwd()) */
  cwd?: string;
  /** where the config came from, for messages (a file name) */
  source?: string;
  /** where resolved values are registered (default the process-wide redactor) */
  redactor?: SecretRedactor;
}

/** One resolved reference: where it is and what it says, never the value. */
export interface ConfigReference {
  /** `export_options.otlp.headers.api-key`, `export[1]` */
  key: string;
  /** `${env:NR_KEY}` */
  ref: string;
  kind: 'env' | 'file';
}

export interface Resolved {
  data: unknown;
  references: ConfigReference[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `a.b[2].c`: the YAML key path of a value, as every config message writes it. */
export function keyPath(p: ReadonlyArray<string | number>): string {
  let out = '';
  for (const part of p) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out || '(top level)';
}

/**
 * Keys whose strings are written for another program, references and all:
 * the Collector config `nrdot discover --render collector` writes keeps its
 * `${env:VAR}` credentials as references (src/discovery), so nrdot must not
 * resolve them.
 */
export function passedThrough(p: ReadonlyArray<string | number>): boolean {
  return p[0] === 'discovery' && p[1] === 'collector';
}

/** Keys under which the bare `${NAME}` form is read from the environment (it always was). */
function legacyAllowed(p: ReadonlyArray<string | number>): boolean {
  return p.length === 4 && p[0] === 'export_options' && p[1] === 'otlp' && p[2] === 'headers';
}

/**
 * Resolve every reference in every string of `data` (plain YAML data: maps,
 * lists, scalars). Returns a copy; `data` is not changed. Throws
 * NrdotError(CONFIG_SECRET) naming the source, the key and the reference.
 */
export function resolveReferences(data: unknown, opts: ResolveOptions = {}): Resolved {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const readFile = opts.readFile ?? ((f: string) => fs.readFileSync(f, 'utf8'));
  const redactor = opts.redactor ?? processSecrets;
  const references: ConfigReference[] = [];
  const where = opts.source ? `${opts.source}: ` : '';

  const fail = (p: ReadonlyArray<string | number>, msg: string): never => {
    throw new NrdotError(ErrorCodes.CONFIG_SECRET, `${where}'${keyPath(p)}': ${msg}`);
  };

  const resolveOne = (body: string, p: ReadonlyArray<string | number>): string => {
    const ref = `\${${body}}`;
    const colon = body.indexOf(':');
    if (colon < 0) {
      if (!NAME.test(body))
        fail(p, `'${ref}' is not a reference: write \${env:NAME} or \${file:PATH} ($\${ for a literal \${)`);
      if (!legacyAllowed(p)) {
        fail(p, `'${ref}' is not read here: write \${env:${body}} (or $\${ for a literal \${)`);
      }
      const v = env[body];
      if (v === undefined) fail(p, `${ref} is not set in the environment`);
      references.push({ key: keyPath(p), ref, kind: 'env' });
      redactor.add(v as string, ref);
      return v as string;
    }
    const scheme = body.slice(0, colon);
    const rest = body.slice(colon + 1);
    if (scheme === 'env') {
      const dflt = rest.indexOf(':-');
      const name = dflt >= 0 ? rest.slice(0, dflt) : rest;
      if (!NAME.test(name)) fail(p, `'${ref}': '${name}' is not a variable name (letters, digits and _)`);
      const v = env[name];
      if (dflt >= 0 && (v === undefined || v === '')) return rest.slice(dflt + 2);
      if (v === undefined) fail(p, `${ref} is not set in the environment`);
      references.push({ key: keyPath(p), ref, kind: 'env' });
      redactor.add(v as string, ref);
      return v as string;
    }
    if (scheme === 'file') {
      if (!rest) fail(p, `'${ref}' names no file`);
      const file = path.resolve(cwd, rest);
      let text: string;
      try {
        text = readFile(file);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? String(e));
        return fail(p, `cannot read ${ref} (${file}: ${why})`);
      }
      const value = text.replace(/\r?\n$/, '');
      references.push({ key: keyPath(p), ref, kind: 'file' });
      redactor.add(value, ref);
      return value;
    }
    return fail(p, `unknown reference scheme '${scheme}' in '${ref}': nrdot reads \${env:NAME} and \${file:PATH}`);
  };

  const expand = (s: string, p: ReadonlyArray<string | number>): string => {
    if (!s.includes('${')) return s;
    let out = '';
    let i = 0;
    while (i < s.length) {
      if (s.startsWith('$${', i)) {
        out += '${';
        i += 3;
      } else if (s.startsWith('${', i)) {
        const end = s.indexOf('}', i + 2);
        if (end < 0) fail(p, `unterminated reference '${s.slice(i, i + 40)}' (write $\${ for a literal \${)`);
        out += resolveOne(s.slice(i + 2, end), p);
        i = end + 1;
      } else {
        out += s[i++];
      }
    }
    return out;
  };

  const walk = (v: unknown, p: (string | number)[]): unknown => {
    if (passedThrough(p)) return v;
    if (typeof v === 'string') return expand(v, p);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...p, i]));
    if (v !== null && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, [...p, k]);
      return out;
    }
    return v;
  };

  return { data: walk(data, []), references };
}
