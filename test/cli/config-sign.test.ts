import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';
import { type KeyPair, opensslKeyId, opensslKeyPair, opensslSign, opensslVerify } from '../helpers/keys.js';

const tmp = fastTmpDir('nrdot-sign-cli-');
const host = path.join(tmp, 'host');
let a: KeyPair;
let p384: KeyPair;
beforeAll(async () => {
  a = opensslKeyPair(tmp, 'a');
  p384 = opensslKeyPair(tmp, 'p384', 'p384');
  await generateHost({ out: host, processes: 50, seed: 3 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function signedConfig(name: string, required = true): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(
    f,
    `profile: aggressive\nexport: [none]\nsecurity:\n  signed_configs:\n    required: ${required}\n    trusted_keys: ["${a.pub}"]\n`,
  );
  return f;
}

describe('nrdot config sign / verify', () => {
  it('sign writes FILE.sig that openssl verifies; verify reads the keys the file trusts', async () => {
    const f = signedConfig('signed.yaml');
    const s = await nrdot(['config', 'sign', f, '--key', a.key]);
    expect(s.code, s.stderr).toBe(0);
    const id = opensslKeyId(a.pub);
    expect(s.stdout).toMatch(new RegExp(`^${f}\\.sig: signed ${f} \\(\\d+ bytes\\) with key ${id}\\n$`));
    expect(opensslVerify(f, a.pub)).toBe(true);
    const v = await nrdot(['config', 'verify', f]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toBe(`${f}: signature good, key ${id} (${a.pub})\n`);
    const val = await nrdot(['config', 'validate', f]);
    expect(val.code, val.stderr).toBe(0);
    expect(val.stdout).toContain(`; signed by key ${id})`);
  });

  it('verify --pubkey accepts an openssl signature and refuses a changed file with exit 2', async () => {
    const f = path.join(tmp, 'plain.yaml');
    fs.writeFileSync(f, 'profile: conservative\n');
    opensslSign(f, a.key);
    const ok = await nrdot(['config', 'verify', f, '--pubkey', a.pub]);
    expect(ok.code, ok.stderr).toBe(0);
    fs.appendFileSync(f, '# one more line\n');
    const bad = await nrdot(['config', 'verify', f, '--pubkey', a.pub]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`nrdot: ${f}: the signature does not match these bytes under any trusted key`);
    expect(bad.stderr).toContain('[NRDOT_ERR_CONFIG_SIGNATURE]');
  });

  it('sign refuses a key that is not P-256; verify without any key says how to give one', async () => {
    const f = path.join(tmp, 'p384.yaml');
    fs.writeFileSync(f, 'profile: conservative\n');
    const s = await nrdot(['config', 'sign', f, '--key', p384.key]);
    expect(s.code).toBe(2);
    expect(s.stderr).toContain(`--key ${p384.key} is an ECDSA key on secp384r1; config signatures use ECDSA P-256`);
    expect(fs.existsSync(`${f}.sig`)).toBe(false);
    const v = await nrdot(['config', 'verify', f]);
    expect(v.code).toBe(2);
    expect(v.stderr).toContain(`no key to verify ${f} with: give --pubkey PUB.pem`);
  });
});

describe('nrdot run with security.signed_configs.required', () => {
  it('a tampered config is refused at start: exit 2, a clear message and an audit line', async () => {
    const cwd = fastTmpDir('nrdot-sign-run-');
    try {
      const f = signedConfig('tampered.yaml');
      opensslSign(f, a.key);
      fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('aggressive', 'emergency'));
      const r = await nrdot(['run', '--once', '--config', f, '--proc-root', host], { cwd });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`nrdot: ${f} refused: ${f}.sig: the signature does not match these bytes`);
      expect(r.stdout).toBe('');
      const audit = fs
        .readFileSync(path.join(cwd, 'data', 'audit.log'), 'utf8')
        .trim()
        .split('\n');
      expect(audit).toHaveLength(1);
      const line = JSON.parse(audit[0]!);
      expect(line).toMatchObject({ action: 'config.refused', source: 'start', config: f, outcome: 'refused' });
      expect(line.reason).toContain('does not match these bytes');
      expect(line.who).toMatch(/@localhost$/);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('an unsigned one is refused the same way; the signed one runs', async () => {
    const cwd = fastTmpDir('nrdot-sign-run-');
    try {
      const f = signedConfig('unsigned.yaml');
      const r = await nrdot(['run', '--once', '--config', f, '--proc-root', host], { cwd });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${f} refused: it is not signed and security.signed_configs.required is true`);
      opensslSign(f, a.key);
      const ok = await nrdot(['run', '--once', '--config', f, '--proc-root', host, '--quiet'], { cwd });
      expect(ok.code, ok.stderr).toBe(0);
      const audit = fs
        .readFileSync(path.join(cwd, 'data', 'audit.log'), 'utf8')
        .trim()
        .split('\n');
      expect(audit.map((l) => JSON.parse(l).action)).toEqual(['config.refused']);
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
