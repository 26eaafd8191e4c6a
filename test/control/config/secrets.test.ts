// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config references (${env:X}) are literal text here
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { resolveReferences } from '../../../src/control/config/secrets.js';
import { NrdotError } from '../../../src/core/errors.js';
import { SecretRedactor } from '../../../src/util/redact.js';
import { fastTmpDir } from '../../../src/util/tmp.js';

const tmp = fastTmpDir('nrdot-secrets-unit-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

function refused(fn: () => unknown): NrdotError {
  try {
    fn();
  } catch (e) {
    if (e instanceof NrdotError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

const resolve = (data: unknown, env: NodeJS.ProcessEnv = {}, redactor = new SecretRedactor()) =>
  resolveReferences(data, { env, cwd: tmp, source: 'cfg.yaml', redactor });

describe('config references', () => {
  it('resolves ${env:...} and ${file:...} in any string, whole or embedded, in maps and lists', () => {
    write('token.txt', 'tok-from-file-123\n');
    const r = resolve(
      {
        export: ['file:./a.jsonl', 'otlp:https://${env:HOST}/v1/metrics'],
        export_options: { otlp: { headers: { authorization: 'Bearer ${file:token.txt}', 'api-key': '${env:KEY}' } } },
        interval: 10,
        nested: { list: [{ deep: 'x-${env:KEY}-y' }] },
      },
      { HOST: 'collector.example:4318', KEY: 'key-0123456789' },
    );
    expect(r.data).toEqual({
      export: ['file:./a.jsonl', 'otlp:https://collector.example:4318/v1/metrics'],
      export_options: { otlp: { headers: { authorization: 'Bearer tok-from-file-123', 'api-key': 'key-0123456789' } } },
      interval: 10,
      nested: { list: [{ deep: 'x-key-0123456789-y' }] },
    });
    expect(r.references).toEqual([
      { key: 'export[1]', ref: '${env:HOST}', kind: 'env' },
      { key: 'export_options.otlp.headers.authorization', ref: '${file:token.txt}', kind: 'file' },
      { key: 'export_options.otlp.headers.api-key', ref: '${env:KEY}', kind: 'env' },
      { key: 'nested.list[0].deep', ref: '${env:KEY}', kind: 'env' },
    ]);
  });

  it('${env:NAME:-default} falls back when NAME is unset or empty; $${ is a literal ${', () => {
    const r = resolve({ a: '${env:UNSET:-fallback}', b: '${env:EMPTY:-fb2}', c: 'cost $${x} ok' }, { EMPTY: '' });
    expect(r.data).toEqual({ a: 'fallback', b: 'fb2', c: 'cost ${x} ok' });
  });

  it('keeps the older ${NAME} form in export_options.otlp.headers', () => {
    const r = resolve({ export_options: { otlp: { headers: { 'api-key': '${NR_KEY}' } } } }, { NR_KEY: 'nr-1234567' });
    expect(r.data).toEqual({ export_options: { otlp: { headers: { 'api-key': 'nr-1234567' } } } });
  });

  it('refuses ${NAME} elsewhere, pointing at ${env:NAME}', () => {
    const e = refused(() => resolve({ export: ['otlp:${ENDPOINT}'] }, { ENDPOINT: 'http://x' }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(
      "cfg.yaml: 'export[0]': '${ENDPOINT}' is not read here: write ${env:ENDPOINT} (or $${ for a literal ${)",
    );
  });

  it('a missing variable is exit 2 naming the file, the key and the reference', () => {
    const e = refused(() => resolve({ export_options: { otlp: { headers: { 'api-key': '${env:NR_LICENSE}' } } } }));
    expect(e.code).toBe('NRDOT_ERR_CONFIG_SECRET');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(
      "cfg.yaml: 'export_options.otlp.headers.api-key': ${env:NR_LICENSE} is not set in the environment",
    );
  });

  it('an unreadable file is exit 2 naming the key, the reference and why', () => {
    const missing = refused(() => resolve({ opamp: { headers: { authorization: '${file:nope/token}' } } }));
    expect(missing.exitCode).toBe(2);
    expect(missing.message).toBe(
      `cfg.yaml: 'opamp.headers.authorization': cannot read \${file:nope/token} (${path.join(tmp, 'nope/token')}: no such file)`,
    );
    fs.mkdirSync(path.join(tmp, 'adir'), { recursive: true });
    const dir = refused(() => resolve({ a: '${file:adir}' }));
    expect(dir.message).toMatch(/^cfg\.yaml: 'a': cannot read \$\{file:adir\} \(.*adir: EISDIR\)$/);
  });

  it('unknown schemes, bad names and unterminated references are refused with the reason', () => {
    expect(refused(() => resolve({ a: '${vault:x}' })).message).toBe(
      "cfg.yaml: 'a': unknown reference scheme 'vault' in '${vault:x}': nrdot reads ${env:NAME} and ${file:PATH}",
    );
    expect(refused(() => resolve({ a: '${env:1BAD}' })).message).toContain("'1BAD' is not a variable name");
    expect(refused(() => resolve({ a: 'x ${env:OPEN' })).message).toContain("unterminated reference '${env:OPEN'");
    expect(refused(() => resolve({ a: '${}' })).message).toContain("'${}' is not a reference");
  });

  it('registers every value read, so text shows the reference instead (raw or JSON-escaped)', () => {
    const red = new SecretRedactor();
    write('quoted.txt', 'pa"ss\\word-42');
    resolve(
      { a: '${env:K}', b: '${file:quoted.txt}', c: '${env:SHORT}', d: '${env:U:-not-a-secret}' },
      { K: 'sekrit-value-1', SHORT: 'on' },
      red,
    );
    expect(red.size).toBe(2);
    expect(red.redact('header=sekrit-value-1; again sekrit-value-1')).toBe('header=${env:K}; again ${env:K}');
    expect(red.redact(JSON.stringify({ pw: 'pa"ss\\word-42' }))).toBe('{"pw":"${file:quoted.txt}"}');
    expect(red.redact('switch on, not-a-secret')).toBe('switch on, not-a-secret');
  });
});

describe('loadConfig with references', () => {
  it('resolves at load, keeps the file bytes as written', () => {
    const f = write('ref.yaml', 'export: ["otlp:http://${env:NRDOT_T_HOST}/v1/metrics"]\n');
    const loaded = loadConfig(f, { env: { NRDOT_T_HOST: '127.0.0.1:4318' } });
    expect(loaded.config.export).toEqual(['otlp:http://127.0.0.1:4318/v1/metrics']);
    expect(loaded.bytes.toString()).toBe('export: ["otlp:http://${env:NRDOT_T_HOST}/v1/metrics"]\n');
    expect(loaded.references).toEqual([{ key: 'export[0]', ref: '${env:NRDOT_T_HOST}', kind: 'env' }]);
  });

  it('a validation message that would quote a resolved value quotes the reference', () => {
    const f = write('leak.yaml', 'scan:\n  exclude_names: ["${env:NRDOT_T_PATTERN}"]\n');
    const e = refused(() => loadConfig(f, { env: { NRDOT_T_PATTERN: 'ab*cd-very-secret' } }));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("'scan.exclude_names.0'");
    expect(e.message).toContain('${env:NRDOT_T_PATTERN}');
    expect(e.message).not.toContain('very-secret');
  });

  it('a missing variable names the file', () => {
    const f = write('missing.yaml', 'export_options:\n  otlp:\n    headers:\n      api-key: "${env:NRDOT_T_UNSET}"\n');
    const e = refused(() => loadConfig(f, { env: {} }));
    expect(e.message).toBe(
      `${f}: 'export_options.otlp.headers.api-key': \${env:NRDOT_T_UNSET} is not set in the environment`,
    );
  });
});
