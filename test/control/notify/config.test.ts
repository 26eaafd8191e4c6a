/**
 * `control.notify` in a config file: URLs and headers are checked at load
 * (exit 2 naming the key), header values may come from ${env:...}
 * references, and the value never shows in an error message.
 */
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../../src/config/load.js';
import { EXIT_USAGE, NrdotError } from '../../../src/core/errors.js';

const FILE = '/etc/nrdot/test.yaml';
const notify = (...items: string[]) => `control:\n  notify:\n${items.map((i) => `    - ${i}`).join('\n')}\n`;

function refused(yaml: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfigBytes(Buffer.from(yaml), FILE, { env });
  } catch (e) {
    expect(e).toBeInstanceOf(NrdotError);
    expect((e as NrdotError).exitCode).toBe(EXIT_USAGE);
    return (e as NrdotError).message;
  }
  throw new Error(`accepted:\n${yaml}`);
}

describe('control.notify', () => {
  it('loads targets, with header values from the environment', () => {
    const { config, references } = loadConfigBytes(
      Buffer.from(
        notify(
          '{ url: "https://hooks.example.com/services/T1/B2/abc", headers: { authorization: "Bearer ${env:HOOK_TOKEN}" } }',
          '{ url: "http://127.0.0.1:8080/hook" }',
        ),
      ),
      FILE,
      { env: { HOOK_TOKEN: 'tok-0123456789' } },
    );
    expect(config.control.notify).toEqual([
      { url: 'https://hooks.example.com/services/T1/B2/abc', headers: { authorization: 'Bearer tok-0123456789' } },
      { url: 'http://127.0.0.1:8080/hook' },
    ]);
    expect(JSON.stringify(references)).not.toContain('tok-0123456789');
  });

  it('refuses what cannot be posted to, naming the key', () => {
    expect(refused(notify('{ url: "ftp://example.com/x" }'))).toMatch(
      /'control\.notify\.0\.url': expected an http\(s\) URL/,
    );
    expect(refused(notify('{ url: "not a url" }'))).toMatch(/'control\.notify\.0\.url': expected an http\(s\) URL/);
    expect(refused(notify('{ url: "https://user:pw@example.com/x" }'))).toMatch(
      /'control\.notify\.0\.url': credentials in the URL are not supported/,
    );
    expect(refused(notify('{ url: "https://example.com/x", headers: { "bad header": v } }'))).toMatch(
      /'control\.notify\.0\.headers\.bad header'.*not a valid HTTP header name/,
    );
    expect(refused(notify('{ url: "https://example.com/x", extra: 1 }'))).toMatch(
      /unknown key 'control\.notify\.0\.extra'/,
    );
  });

  it('a bad header value from the environment is refused without showing it', () => {
    const m = refused(notify('{ url: "https://example.com/x", headers: { authorization: "${env:HOOK_TOKEN}" } }'), {
      HOOK_TOKEN: 'secret-value\r\ninjected: 1',
    });
    expect(m).toMatch(/'control\.notify\.0\.headers\.authorization': a header value cannot hold CR, LF or NUL/);
    expect(m).not.toContain('secret-value');
  });
});
