/**
 * Bad input in the control-plane sections of a config file: each is a
 * config error (exit 2) whose message names the file and the key, whether
 * the schema or a check after it refuses it. And the same values, good,
 * load.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { NrdotError } from '../../src/core/errors.js';
import { fastTmpDir } from '../../src/util/tmp.js';

const tmp = fastTmpDir('nrdot-bad-input-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function write(text: string): string {
  const f = path.join(tmp, `c${++n}.yaml`);
  fs.writeFileSync(f, text);
  return f;
}

function refusal(yaml: string, env: NodeJS.ProcessEnv = {}): { file: string; e: NrdotError } {
  const file = write(yaml);
  try {
    loadConfig(file, { env });
  } catch (e) {
    if (e instanceof NrdotError) return { file, e };
    throw e;
  }
  throw new Error(`expected this config to be refused:\n${yaml}`);
}

describe('opamp', () => {
  it.each([
    ['opamp:\n  headers: { "bad name": x }\n', "'opamp.headers.bad name'", 'not a valid HTTP header name'],
    ['opamp:\n  headers: { "x:y": v }\n', "'opamp.headers.x:y'", 'not a valid HTTP header name'],
  ])('%s', (yaml, key, why) => {
    const { file, e } = refusal(yaml);
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(file);
    expect(e.message).toContain(key);
    expect(e.message).toContain(why);
  });

  it('a header value from the environment holding a newline is refused without showing it', () => {
    const { e } = refusal('opamp:\n  headers: { authorization: "${env:OPAMP_T}" }\n', { OPAMP_T: 'Bearer a\r\nx: y' });
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("'opamp.headers.authorization'");
    expect(e.message).toContain('a header value cannot hold CR, LF or NUL');
    expect(e.message).not.toContain('Bearer a');
  });

  it('good headers load', () => {
    const f = write('opamp:\n  headers: { authorization: "Bearer ${env:OPAMP_T}", x-ring: canary }\n');
    expect(loadConfig(f, { env: { OPAMP_T: 'tok' } }).config.opamp.headers).toEqual({
      authorization: 'Bearer tok',
      'x-ring': 'canary',
    });
  });
});
