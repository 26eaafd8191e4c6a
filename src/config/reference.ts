/**
 * docs/CONFIG.md, generated: every key of the config schema with its type
 * (from the schema), its default (configs/default.yaml) and its meaning (the
 * comment above or beside the key in configs/default.yaml, else the schema's
 * description). `npm run gen:config-doc` writes it; a test fails when the
 * file differs from what this produces, and generation fails when a key has
 * no meaning anywhere.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isMap, isScalar, type Node, parseDocument, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import { configsDir, DEFAULT_CONFIG_FILE } from './load.js';
import { configSchema, duration, durationOrZero, listenAddress } from './schema.js';
import { defOf, schemaAt, unwrap } from './walk.js';

type Schema = z.ZodType;

interface Row {
  key: string;
  type: string;
  default: string;
  meaning: string;
}

/** Schemas with a name of their own in the docs. */
const NAMED = new Map<unknown, string>([
  [duration as unknown as Schema, 'duration (`10s`, `500ms`, `2m`, `1h` or seconds)'],
  [durationOrZero as unknown as Schema, 'duration or `0`'],
  [listenAddress as unknown as Schema, '`host:port`, `[v6]:port` or `off`'],
]);

interface Check {
  _zod: { def: { check: string; value?: number; inclusive?: boolean; format?: string } };
}

function numberType(s: Schema): string {
  const checks = ((defOf(s) as { checks?: Check[] }).checks ?? []).map((c) => c._zod.def);
  const int = checks.some((c) => c.check === 'number_format' && /int/.test(c.format ?? ''));
  const parts: string[] = [];
  for (const c of checks) {
    if (c.check === 'greater_than' && c.value !== undefined) parts.push(`${c.inclusive ? '≥' : '>'} ${c.value}`);
    if (c.check === 'less_than' && c.value !== undefined) parts.push(`${c.inclusive ? '≤' : '<'} ${c.value}`);
  }
  return `${int ? 'integer' : 'number'}${parts.length ? ` ${parts.join(', ')}` : ''}`;
}

export function typeName(s: Schema): string {
  const named = NAMED.get(s);
  if (named) return named;
  const d = defOf(s) as ReturnType<typeof defOf> & { entries?: Record<string, string>; values?: unknown[] };
  switch (d.type) {
    case 'string':
      return 'string';
    case 'number':
      return numberType(s);
    case 'boolean':
      return 'boolean';
    case 'enum':
      return `one of ${Object.values(d.entries ?? {})
        .map((v) => `\`${v}\``)
        .join(', ')}`;
    case 'literal':
      return (d.values ?? []).map((v) => `\`${String(v)}\``).join(' or ');
    case 'array':
      return `list of ${typeName(d.element!)}`;
    case 'record':
      return `map of name to ${typeName(d.valueType!)}`;
    case 'nullable':
      return `${typeName(d.innerType!)} or \`null\``;
    case 'optional':
      return `${typeName(d.innerType!)} (optional)`;
    case 'default':
      return `${typeName(d.innerType!)} (optional, default ${show(schemaDefault(s))})`;
    case 'union': {
      // a duration (a positive number or a string), or one that also takes 0
      const opts = (d.options ?? []).map(typeName);
      if (opts.includes('string') && opts.some((o) => o.startsWith('number'))) {
        return opts.includes('number > 0') && !opts.some((o) => o.startsWith('`'))
          ? NAMED.get(duration)!
          : 'duration or `0`';
      }
      return opts.join(' or ');
    }
    case 'object':
      return 'map';
    default:
      return d.type;
  }
}

/** The default a schema supplies when the key is absent (`.default(x)`), else undefined. */
function schemaDefault(s: Schema | undefined): unknown {
  const d = s && (defOf(s) as { type: string; defaultValue?: unknown });
  return d?.type === 'default' ? d.defaultValue : undefined;
}

/** A default value as inline markdown. */
function show(v: unknown): string {
  if (v === undefined) return '(none)';
  if (typeof v === 'string') return v === '' ? '`""`' : `\`${v}\``;
  if (v === null || typeof v !== 'object') return `\`${String(v)}\``;
  const text = JSON.stringify(v)
    .replace(/"([^"]*)":/g, '$1: ')
    .replace(/,/g, ', ');
  if (Array.isArray(v) && text.length > 60) return `${v.length} entries (see configs/default.yaml)`;
  return `\`${text}\``;
}

function clean(comment: string | null | undefined): string {
  if (!comment) return '';
  return comment
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ')
    .replace(/\|/g, '\\|');
}

/** Comments of the YAML map's keys: above the key (or the map, for its first key) and after the value. */
function keyComments(map: YAMLMap, skipFirst = ''): Map<string, { text: string; node: Node | null }> {
  const out = new Map<string, { text: string; node: Node | null }>();
  map.items.forEach((pair, i) => {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    let above = (pair.key as Node | null)?.commentBefore ?? (i === 0 ? map.commentBefore : undefined);
    if (i === 0 && skipFirst && above?.startsWith(skipFirst)) above = above.slice(skipFirst.length);
    const value = pair.value as Node | null;
    const beside = value && isScalar(value) ? value.comment : undefined;
    out.set(key, { text: [clean(above), clean(beside)].filter((s) => s).join(' '), node: value });
  });
  return out;
}

/** Two sentences of meaning, the first ended with a full stop. */
function joinMeaning(a: string | undefined, b: string | undefined): string {
  if (!a) return b ?? '';
  if (!b) return a;
  return `${a}${/[.!?)]$/.test(a) ? '' : '.'} ${b}`;
}

function description(s: Schema): string {
  return clean((s as unknown as { description?: string }).description);
}

/** Rows for an object schema; `yaml` is the matching map of default.yaml (comments and values). */
function rows(s: Schema, yaml: YAMLMap | undefined, value: unknown, prefix: string, out: Row[]): void {
  const d = defOf(unwrap(s));
  const comments = yaml ? keyComments(yaml) : new Map();
  for (const [key, child] of Object.entries(d.shape ?? {})) {
    const full = prefix ? `${prefix}.${key}` : key;
    const c = comments.get(key);
    const v = (value as Record<string, unknown> | undefined)?.[key];
    const inner = unwrap(child);
    const meaning = joinMeaning(c?.text, description(child));
    if (defOf(inner).type === 'object') {
      if (meaning) out.push({ key: full, type: 'map', default: '', meaning });
      rows(child, c?.node && isMap(c.node) ? c.node : undefined, v, full, out);
      continue;
    }
    out.push({ key: full, type: typeName(child), default: show(v === undefined ? schemaDefault(child) : v), meaning });
    recordRows(inner, full, out);
  }
}

/** The keys of each entry of a record of maps (`metrics.<name>.enabled`). */
function recordRows(inner: Schema, key: string, out: Row[]): void {
  const d = defOf(inner);
  if (d.type !== 'record' || !d.valueType || defOf(unwrap(d.valueType)).type !== 'object') return;
  rows(d.valueType, undefined, undefined, `${key}.<name>`, out);
}

function table(list: Row[], withDefault = true): string {
  const head = withDefault
    ? '| key | type | default | meaning |\n|---|---|---|---|'
    : '| key | type | meaning |\n|---|---|---|';
  const body = list.map((r) =>
    withDefault
      ? `| \`${r.key}\` | ${r.type} | ${r.default} | ${r.meaning} |`
      : `| \`${r.key}\` | ${r.type} | ${r.meaning} |`,
  );
  return [head, ...body].join('\n');
}

export interface Reference {
  markdown: string;
  /** keys without a meaning in default.yaml or the schema */
  missing: string[];
}

/** docs/CONFIG.md as it should be, from the schema and configs/default.yaml. */
export function configReference(): Reference {
  const file = path.join(configsDir(), DEFAULT_CONFIG_FILE);
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  const data = doc.toJS() as Record<string, unknown>;
  const root = doc.contents as YAMLMap;
  const shape = defOf(configSchema as unknown as Schema).shape!;
  // the file's own header comment sits above the first key, a blank line before the key's comment
  const first = ((root.items[0]?.key as Node | null)?.commentBefore ?? '') as string;
  const header = first.includes('\n\n') ? first.slice(0, first.lastIndexOf('\n\n') + 2) : '';
  const top = keyComments(root, header);
  const missing: string[] = [];
  const sections: string[] = [];

  for (const [key, s] of Object.entries(shape)) {
    if (key === 'profiles') continue;
    const c = top.get(key);
    const inner = unwrap(s);
    const intro = joinMeaning(c?.text, description(s));
    const list: Row[] = [];
    if (defOf(inner).type === 'object') {
      rows(s, c?.node && isMap(c.node) ? c.node : undefined, data[key], key, list);
    } else {
      list.push({ key, type: typeName(s), default: show(data[key]), meaning: intro });
      recordRows(inner, key, list);
    }
    for (const r of list) if (!r.meaning) missing.push(r.key);
    const text = defOf(inner).type === 'object' && intro ? `${intro}\n\n` : '';
    sections.push(`## ${key}\n\n${text}${table(list)}`);
  }

  // profiles: the keys of one profile, then the shipped profiles' values side by side
  const profiles = data.profiles as Record<string, unknown>;
  const names = Object.keys(profiles);
  const profileSchema = defOf(unwrap(shape.profiles!)).valueType!;
  const profilesYaml = top.get('profiles')?.node as YAMLMap;
  // keys in schema order; a meaning from the comments of any shipped profile, else the schema
  const keyRows: Row[] = [];
  rows(profileSchema, undefined, undefined, '', keyRows);
  for (const name of names) {
    const list: Row[] = [];
    rows(profileSchema, profilesYaml.get(name, true) as unknown as YAMLMap, profiles[name], '', list);
    for (const r of list) {
      const have = keyRows.find((k) => k.key === r.key);
      if (have && r.meaning.length > have.meaning.length) have.meaning = r.meaning;
      else if (!have) keyRows.push({ ...r });
    }
  }
  for (const r of keyRows) if (!r.meaning) missing.push(`profiles.<name>.${r.key}`);
  const leaves = keyRows.filter((r) => r.type !== 'map');
  // a key the profile leaves out has the schema's default (if any)
  const at = (p: unknown, key: string): unknown => {
    const v = key.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], p);
    return v === undefined ? schemaDefault(schemaAt(profileSchema, key.split('.'))) : v;
  };
  const side = [
    `| key | ${names.join(' | ')} |`,
    `|---|${names.map(() => '---').join('|')}|`,
    ...leaves.map((r) => `| \`${r.key}\` | ${names.map((n) => show(at(profiles[n], r.key))).join(' | ')} |`),
  ].join('\n');
  sections.push(
    [
      '## profiles',
      top.get('profiles')?.text ?? '',
      'Each profile is a map under `profiles.<name>` with these keys (a user file may change a shipped profile key by key, or add a profile):',
      table(
        keyRows.map((r) => ({ ...r, key: `profiles.<name>.${r.key}` })),
        false,
      ),
      'The shipped profiles:',
      side,
    ].join('\n\n'),
  );

  const intro = clean(header);
  const markdown = [
    '# Configuration reference',
    '<!-- Generated by `npm run gen:config-doc` from src/config/schema.ts and the comments of configs/default.yaml; do not edit by hand. -->',
    `${intro}`,
    'Durations are written `10s`, `500ms`, `2m` or `1h` (a bare number is seconds). `nrdot config print [--config FILE]` shows the effective config, `nrdot config validate FILE` checks a file the way `nrdot run` does.',
    ...sections,
  ].join('\n\n');
  return { markdown: `${markdown}\n`, missing };
}
