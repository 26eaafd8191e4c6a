/**
 * What changed between an existing Collector config and a freshly rendered
 * one, by structure (comments, key order and formatting do not count):
 *
 *   + receivers.redis/16379: {endpoint: 127.0.0.1:16379, ...}     only in the new config
 *   - receivers.nginx/80                                          only in the old one
 *   ~ receivers.nginx/8080.endpoint: http://a/status -> http://b/status
 */
import { stringify } from 'yaml';

export interface Change {
  op: '+' | '-' | '~';
  path: string;
  before?: unknown;
  after?: unknown;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function diffConfigs(before: unknown, after: unknown, prefix = ''): Change[] {
  if (isObj(before) && isObj(after)) {
    const out: Change[] = [];
    const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !(k in before))];
    for (const k of keys) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (!(k in after)) out.push({ op: '-', path: p, before: before[k] });
      else if (!(k in before)) out.push({ op: '+', path: p, after: after[k] });
      else out.push(...diffConfigs(before[k], after[k], p));
    }
    return out;
  }
  return same(before, after) ? [] : [{ op: '~', path: prefix || '(top level)', before, after }];
}

function inline(v: unknown): string {
  return stringify(v, { flow: true, lineWidth: 0 }).trim();
}

export function formatChanges(changes: readonly Change[]): string {
  if (changes.length === 0) return 'no changes\n';
  return `${changes
    .map((c) =>
      c.op === '+'
        ? `+ ${c.path}: ${inline(c.after)}`
        : c.op === '-'
          ? `- ${c.path}: ${inline(c.before)}`
          : `~ ${c.path}: ${inline(c.before)} -> ${inline(c.after)}`,
    )
    .join('\n')}\n`;
}
