/**
 * Walking the config schema (zod) by key path: the keys an object accepts
 * (for did-you-mean) and the schema of every leaf (for docs/CONFIG.md).
 */
import type { z } from 'zod';

type Schema = z.ZodType;

interface Def {
  type: string;
  shape?: Record<string, Schema>;
  valueType?: Schema;
  innerType?: Schema;
  element?: Schema;
  options?: Schema[];
}

export function defOf(s: Schema): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schema without optional/nullable/default wrappers. */
export function unwrap(s: Schema): Schema {
  let cur = s;
  for (;;) {
    const d = defOf(cur);
    if ((d.type === 'optional' || d.type === 'nullable' || d.type === 'default') && d.innerType) cur = d.innerType;
    else return cur;
  }
}

/** The schema at `path` (record keys and list indexes step into their values), or undefined. */
export function schemaAt(root: Schema, path: ReadonlyArray<PropertyKey>): Schema | undefined {
  let cur: Schema | undefined = root;
  for (const seg of path) {
    if (!cur) return undefined;
    const d = defOf(unwrap(cur));
    if (d.type === 'object') cur = d.shape?.[String(seg)];
    else if (d.type === 'record') cur = d.valueType;
    else if (d.type === 'array') cur = d.element;
    else return undefined;
  }
  return cur;
}

/** The keys the object at `path` accepts ([] when it is not a fixed-key object). */
export function keysAt(root: Schema, path: ReadonlyArray<PropertyKey>): string[] {
  const s = schemaAt(root, path);
  if (!s) return [];
  const d = defOf(unwrap(s));
  return d.type === 'object' && d.shape ? Object.keys(d.shape) : [];
}
