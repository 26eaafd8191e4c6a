/** `nrdot config print`: the effective config, secrets masked, still a valid config. */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} references are the subject here
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MASK, maskSecret, maskSpec } from '../../src/config/print.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';

const dir = fastTmpDir('nrdot-print-');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('masking', () => {
  it('keeps ${...} references and masks every literal part of a secret', () => {
    expect(maskSecret('${env:NEW_RELIC_LICENSE_KEY}')).toBe('${env:NEW_RELIC_LICENSE_KEY}');
    expect(maskSecret('${KEY}')).toBe('${KEY}');
    expect(maskSecret('abc123')).toBe(MASK);
    expect(maskSecret('Bearer ${env:T}')).toBe(`${MASK}\${env:T}`);
    expect(maskSecret('${A}-x-${B}tail')).toBe(`\${A}${MASK}\${B}${MASK}`);
    expect(maskSecret('')).toBe('');
  });

  it('masks query values and user info of export specs', () => {
    expect(maskSpec('otlp:https://h/v1/metrics?api-key=s3cret&x=')).toBe(
      `otlp:https://h/v1/metrics?api-key=${MASK}&x=`,
    );
    expect(maskSpec('otlp:https://u:p@h/')).toBe(`otlp:https://${MASK}@h/`);
    expect(maskSpec('file:./data/m.jsonl')).toBe('file:./data/m.jsonl');
  });
});

describe('nrdot config print', () => {
  it('prints the merged config as YAML with every key, secrets masked, and the result validates', async () => {
    const file = path.join(dir, 'mine.yaml');
    fs.writeFileSync(
      file,
      [
        'profile: aggressive',
        'export: ["otlp:https://otlp.example/v1/metrics?license=literal-in-url"]',
        'export_options:',
        '  otlp:',
        '    headers:',
        '      api-key: "${env:NRDOT_TEST_LICENSE}"',
        '      x-literal: literal-secret-value',
        '',
      ].join('\n'),
    );
    const r = await nrdot(['config', 'print', '--config', file], {
      env: { NRDOT_TEST_LICENSE: 'expanded-secret-value' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const secret of ['expanded-secret-value', 'literal-secret-value', 'literal-in-url']) {
      expect(r.stdout).not.toContain(secret);
    }
    expect(r.stdout).toContain(`merged from: `);
    expect(r.stdout).toContain(file);
    const printed = parse(r.stdout) as {
      profile: string;
      export: string[];
      export_options: { otlp: { headers: Record<string, string>; retry: { max_attempts: number } } };
      profiles: Record<string, unknown>;
    };
    expect(printed.profile).toBe('aggressive');
    expect(printed.export_options.otlp.headers).toEqual({ 'api-key': '${env:NRDOT_TEST_LICENSE}', 'x-literal': MASK });
    expect(printed.export).toEqual([`otlp:https://otlp.example/v1/metrics?license=${MASK}`]);
    // defaults are there too
    expect(printed.export_options.otlp.retry.max_attempts).toBe(4);
    expect(Object.keys(printed.profiles)).toEqual(['conservative', 'balanced', 'aggressive', 'emergency']);

    // what it prints is itself a valid config (its references resolve where the variable is set)
    const again = path.join(dir, 'printed.yaml');
    fs.writeFileSync(again, r.stdout);
    const v = await nrdot(['config', 'validate', again], { env: { NRDOT_TEST_LICENSE: 'x' } });
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  });

  it('without --config prints the embedded default', async () => {
    const r = await nrdot(['config', 'print']);
    expect(r.code).toBe(0);
    expect((parse(r.stdout) as { profile: string }).profile).toBe('balanced');
  });

  it('a bad config is refused the way run refuses it, exit 2', async () => {
    const file = path.join(dir, 'ftp.yaml');
    fs.writeFileSync(file, 'export: [otlp:ftp://x]\n');
    for (const args of [
      ['config', 'print', '--config', file],
      ['config', 'validate', file],
      ['run', '--once', '--config', file],
    ]) {
      const r = await nrdot(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toContain(`${file}: 'export[0]': invalid export spec "otlp:ftp://x"`);
    }
  });

  it('shows ${env:...} and ${file:...} references wherever they are, never what they resolve to', async () => {
    const secretFile = path.join(dir, 'secret.txt');
    fs.writeFileSync(secretFile, 'resolved-from-a-file\n');
    const file = path.join(dir, 'refs.yaml');
    fs.writeFileSync(
      file,
      [
        'export_options:',
        '  otlp:',
        '    headers:',
        '      x.api.key: ${env:PRINT_SECRET}',
        `state_dir: \${file:${secretFile}}`,
        'server:',
        '  audit_log: /var/log/${env:PRINT_SECRET}.log',
        '',
      ].join('\n'),
    );
    const r = await nrdot(['config', 'print', '--config', file], { env: { PRINT_SECRET: 'resolved-from-env' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('resolved-from');
    const printed = parse(r.stdout) as Record<string, any>;
    expect(printed.export_options.otlp.headers['x.api.key']).toBe('${env:PRINT_SECRET}');
    expect(printed.state_dir).toBe(`\${file:${secretFile}}`);
    expect(printed.server.audit_log).toContain('${env:PRINT_SECRET}');
  });
});
