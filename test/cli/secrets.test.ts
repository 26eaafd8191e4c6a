// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config references (${env:X}) are literal text here
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';
import { startLoopbackServer } from '../helpers/loopback-http.js';

const tmp = fastTmpDir('nrdot-secrets-');
const host = path.join(tmp, 'host');
beforeAll(async () => {
  await generateHost({ out: host, processes: 150, seed: 4 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('secrets', () => {
  it('an api-key header from the environment reaches the backend and never a log line, even at trace level and when the backend echoes it', async () => {
    const secret = 'nr-license-0123456789abcdef-SECRET';
    // a backend that echoes the request's headers in its error answers (400: not retried and logged at
    // error; 503: retried and logged at warn)
    let n = 0;
    const server = await startLoopbackServer((r) => ({
      status: n++ === 0 ? 400 : 503,
      body: JSON.stringify({ error: 'no', youSent: r.headers }),
      headers: { 'content-type': 'application/json' },
    }));
    try {
      const cfg = path.join(tmp, 'cfg.yaml');
      fs.writeFileSync(
        cfg,
        [
          `export: ["otlp:${server.origin}/v1/metrics"]`,
          'export_options:',
          '  otlp:',
          '    headers:',
          '      api-key: "${NRDOT_TEST_LICENSE}"',
          '',
        ].join('\n'),
      );
      const r = await nrdot(['run', '--once', '--config', cfg, '--proc-root', host, '--log-level', 'trace'], {
        env: { NRDOT_TEST_LICENSE: secret },
      });
      // the backend is down and the queue is in memory: exit 3 (the data was lost), the secret still unlogged
      expect(r.code, r.stderr).toBe(3);
      expect(server.requests[0]?.headers['api-key']).toBe(secret);
      expect(r.stderr).toContain('OTLP export failed');
      expect(r.stderr).toContain('the backend refused a request');
      expect(r.stderr).toContain('[redacted]');
      expect(r.stderr).not.toContain(secret);
      expect(r.stdout).not.toContain(secret);
    } finally {
      await server.close();
    }
  });

  it('${env:...} and ${file:...} values reach the backend and no log line, even at trace level and in an export URL', async () => {
    const key = 'nr-env-key-5f1e2d3c4b5a-SECRET';
    const bearer = 'file-bearer-9a8b7c6d-SECRET';
    const pathToken = 'path-token-77aa88bb-SECRET';
    fs.writeFileSync(path.join(tmp, 'bearer.txt'), `${bearer}\n`, { mode: 0o600 });
    const server = await startLoopbackServer(() => ({ status: 503, body: 'down' }));
    try {
      const cfg = path.join(tmp, 'refs.yaml');
      fs.writeFileSync(
        cfg,
        [
          `export: ["otlp:${server.origin}/\${env:NRDOT_T_PATH}/v1/metrics"]`,
          'export_options:',
          '  otlp:',
          '    headers:',
          '      api-key: "${env:NRDOT_T_KEY}"',
          `      authorization: "Bearer \${file:${path.join(tmp, 'bearer.txt')}}"`,
          '',
        ].join('\n'),
      );
      const r = await nrdot(['run', '--once', '--config', cfg, '--proc-root', host, '--log-level', 'trace'], {
        env: { NRDOT_T_KEY: key, NRDOT_T_PATH: pathToken },
      });
      // the backend never accepts: what was queued in memory is lost at exit, and the exit code says so
      expect(r.code, r.stderr).toBe(3);
      const req = server.requests[0];
      expect(req?.headers['api-key']).toBe(key);
      expect(req?.headers.authorization).toBe(`Bearer ${bearer}`);
      expect(req?.url).toBe(`/${pathToken}/v1/metrics`);
      for (const secret of [key, bearer, pathToken]) {
        expect(r.stderr).not.toContain(secret);
        expect(r.stdout).not.toContain(secret);
      }
      // the start-up line names the export by its reference
      expect(r.stderr).toContain('${env:NRDOT_T_PATH}');
    } finally {
      await server.close();
    }
  });

  it('a missing variable is exit 2 naming the file, the key and the reference', async () => {
    const cfg = path.join(tmp, 'missing.yaml');
    fs.writeFileSync(cfg, 'export_options:\n  otlp:\n    headers:\n      api-key: "${env:NRDOT_T_NOT_SET}"\n');
    const r = await nrdot(['run', '--once', '--config', cfg, '--proc-root', host]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${cfg}: 'export_options.otlp.headers.api-key': \${env:NRDOT_T_NOT_SET} is not set in the environment [NRDOT_ERR_CONFIG_SECRET]`,
    );
  });
});
