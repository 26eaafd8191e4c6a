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
      expect(r.code, r.stderr).toBe(0);
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
});
