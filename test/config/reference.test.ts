/**
 * docs/CONFIG.md is generated (`npm run gen:config-doc`) from the schema and
 * the comments of configs/default.yaml: it must be current and complete.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/load.js';
import { configReference, typeName } from '../../src/config/reference.js';
import { configSchema, duration, durationOrZero } from '../../src/config/schema.js';
import { defOf, unwrap } from '../../src/config/walk.js';
import { REPO } from '../helpers/cli.js';

const DOC = path.join(REPO, 'docs', 'CONFIG.md');

/** Every leaf key path of the schema; records (profiles, headers) as `<name>`. */
function schemaKeys(): string[] {
  const out: string[] = [];
  const walk = (s: Parameters<typeof defOf>[0], prefix: string) => {
    const d = defOf(unwrap(s));
    if (d.type === 'object') {
      for (const [k, v] of Object.entries(d.shape ?? {})) walk(v, prefix ? `${prefix}.${k}` : k);
    } else if (d.type === 'record' && defOf(unwrap(d.valueType!)).type === 'object') {
      walk(d.valueType!, `${prefix}.<name>`);
    } else {
      out.push(prefix);
    }
  };
  walk(configSchema as unknown as Parameters<typeof defOf>[0], '');
  return out;
}

describe('docs/CONFIG.md', () => {
  it('is what `npm run gen:config-doc` writes from the schema and configs/default.yaml (regenerate it when this fails)', () => {
    const { markdown } = configReference();
    expect(fs.readFileSync(DOC, 'utf8'), 'docs/CONFIG.md is stale: run npm run gen:config-doc').toBe(markdown);
  });

  it('gives every key a meaning (a comment in default.yaml or a schema description)', () => {
    expect(configReference().missing).toEqual([]);
  });

  it('lists every key of the schema with its type and default', () => {
    const doc = fs.readFileSync(DOC, 'utf8');
    const keys = schemaKeys();
    expect(keys.length).toBeGreaterThan(60);
    for (const k of keys) expect(doc, k).toContain(`| \`${k}\` |`);
    // a default taken from the YAML, beside its key
    const c = defaultConfig();
    expect(doc).toContain(
      `| \`export_options.otlp.retry.max_attempts\` | integer ≥ 1 | \`${c.export_options.otlp.retry.max_attempts}\` |`,
    );
    expect(doc).toContain(`| \`server.listen\` | \`host:port\`, \`[v6]:port\` or \`off\` | \`${c.server.listen}\` |`);
  });

  it('names the types of the shared schemas', () => {
    expect(typeName(duration as never)).toMatch(/^duration/);
    expect(typeName(durationOrZero as never)).toBe('duration or `0`');
  });
});
