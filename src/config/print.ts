/**
 * The effective config as YAML (`nrdot config print`): the embedded default
 * merged with the user file and validated, every key present, secrets
 * masked. OTLP header values show their `${VAR}` / `${env:VAR}` references
 * and never a literal value or what a reference expands to; export URLs lose
 * the values of their query parameters (a key may ride there).
 */
import { stringify } from 'yaml';
import { passedThrough } from '../control/config/secrets.js';
import { ENV_REFERENCE, type LoadedConfig } from './load.js';

export const MASK = '***';

/** Keep the `${...}` references of a value, mask every literal part of it. */
export function maskSecret(value: string): string {
  const refs = [...value.matchAll(new RegExp(ENV_REFERENCE.source, 'g'))];
  if (refs.length === 0) return value === '' ? '' : MASK;
  let out = '';
  let at = 0;
  for (const m of refs) {
    if (value.slice(at, m.index).trim() !== '') out += MASK;
    out += m[0];
    at = m.index + m[0].length;
  }
  if (value.slice(at).trim() !== '') out += MASK;
  return out;
}

/** An export spec with query values and user info masked. */
export function maskSpec(spec: string): string {
  return spec
    .replace(/\/\/[^/@\s]+@/g, `//${MASK}@`)
    .replace(/([?&][^=&#\s]+)=([^&#\s]*)/g, (_, k: string, v: string) => `${k}=${v === '' ? '' : MASK}`);
}

type Tree = Record<string, unknown> | unknown[];

/**
 * Put `text` at `key` (a path as the reference resolver names it:
 * `a.b.c`, `list[2]`, where a map key may itself hold dots) in `root`.
 */
function setAt(root: Tree, key: string, text: string): void {
  let node: Tree = root;
  let rest = key;
  while (rest !== '') {
    if (Array.isArray(node)) {
      const m = /^\[(\d+)\]\.?/.exec(rest);
      if (!m) return;
      const i = Number(m[1]);
      rest = rest.slice(m[0].length);
      if (rest === '') {
        node[i] = text;
        return;
      }
      node = node[i] as Tree;
      continue;
    }
    const obj = node as Record<string, unknown>;
    // the longest key the path starts with (a header name may contain dots)
    const k = Object.keys(obj)
      .filter((x) => rest === x || rest.startsWith(`${x}.`) || rest.startsWith(`${x}[`))
      .sort((a, b) => b.length - a.length)[0];
    if (k === undefined) return;
    rest = rest.slice(k.length).replace(/^\./, '');
    if (rest === '') {
      obj[k] = text;
      return;
    }
    node = obj[k] as Tree;
    if (typeof node !== 'object' || node === null) return;
  }
}

/** Every string's literal `${` written as `$${`, as a config file must (not under keys passed through as written). */
function escapeLiterals(v: unknown, p: (string | number)[]): unknown {
  if (passedThrough(p)) return v;
  if (typeof v === 'string') return v.replaceAll('${', '$${');
  if (Array.isArray(v)) return v.map((x, i) => escapeLiterals(x, [...p, i]));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = escapeLiterals(x, [...p, k]);
    return out;
  }
  return v;
}

export function effectiveYaml(loaded: LoadedConfig): string {
  const c = escapeLiterals(structuredClone(loaded.config), []) as LoadedConfig['config'];
  // a value that came from ${env:...} / ${file:...} is shown as its references, never what they resolved to
  const refs = new Map<string, string>();
  for (const r of loaded.references) refs.set(r.key, (refs.get(r.key) ?? '') + r.ref);
  for (const [key, text] of refs) setAt(c as unknown as Tree, key, text);
  const headers = c.export_options.otlp.headers;
  for (const k of Object.keys(headers)) headers[k] = maskSecret(headers[k]!);
  c.export = c.export.map(maskSpec);
  const head = ['# nrdot effective config (secrets masked)', `# merged from: ${loaded.files.join(' + ')}`, ''].join(
    '\n',
  );
  return head + stringify(c, { lineWidth: 0 });
}
