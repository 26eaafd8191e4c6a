import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, loadConfigBytes } from '../../../src/config/load.js';
import {
  derProblem,
  loadPrivateKey,
  loadPublicKey,
  signatureText,
  signBytes,
} from '../../../src/control/config/signature.js';
import { loadSignaturePolicy } from '../../../src/control/config/signed.js';
import { NrdotError } from '../../../src/core/errors.js';
import { fastTmpDir } from '../../../src/util/tmp.js';
import { type KeyPair, opensslKeyId, opensslKeyPair, opensslSign, opensslVerify } from '../../helpers/keys.js';

const tmp = fastTmpDir('nrdot-sig-');
let a: KeyPair;
let b: KeyPair;
let p384: KeyPair;
let rsa: KeyPair;
beforeAll(() => {
  a = opensslKeyPair(tmp, 'a');
  b = opensslKeyPair(tmp, 'b');
  p384 = opensslKeyPair(tmp, 'p384', 'p384');
  rsa = opensslKeyPair(tmp, 'rsa', 'rsa');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A config file requiring signatures by `trusted`, unsigned. */
function configFile(trusted: string[], body = 'profile: aggressive\n', required = true): string {
  const f = path.join(tmp, `cfg-${n++}.yaml`);
  const keys = trusted.map((k) => `"${k}"`).join(', ');
  fs.writeFileSync(f, `${body}security:\n  signed_configs:\n    required: ${required}\n    trusted_keys: [${keys}]\n`);
  return f;
}

function nrdotSign(file: string, key: string): void {
  const { key: k } = loadPrivateKey(key);
  fs.writeFileSync(`${file}.sig`, signatureText(signBytes(fs.readFileSync(file), k)));
}

function refusal(fn: () => unknown): NrdotError {
  try {
    fn();
  } catch (e) {
    if (e instanceof NrdotError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('signed configs', () => {
  it('a file signed by openssl loads with nrdot, and names the key', () => {
    const f = configFile([a.pub]);
    opensslSign(f, a.key);
    const loaded = loadConfig(f);
    expect(loaded.config.profile).toBe('aggressive');
    expect(loaded.signature).toEqual({
      signed: true,
      keyId: opensslKeyId(a.pub),
      keyFile: a.pub,
      text: fs.readFileSync(`${f}.sig`, 'utf8'),
    });
  });

  it('a signature made by nrdot verifies with openssl dgst -verify', () => {
    const f = configFile([a.pub]);
    nrdotSign(f, a.key);
    expect(opensslVerify(f, a.pub)).toBe(true);
    expect(opensslVerify(f, b.pub)).toBe(false);
  });

  it('key ids are the first 16 hex digits of SHA-256 over the public key DER, for both halves', () => {
    expect(loadPublicKey(a.pub).id).toBe(opensslKeyId(a.pub));
    expect(loadPrivateKey(a.key).id).toBe(opensslKeyId(a.pub));
    expect(loadPublicKey(b.pub).id).not.toBe(loadPublicKey(a.pub).id);
  });

  it('a changed byte is refused, exit 2, with the reason', () => {
    const f = configFile([a.pub]);
    opensslSign(f, a.key);
    const bytes = fs.readFileSync(f);
    bytes[bytes.indexOf('aggressive')] = 'A'.charCodeAt(0);
    fs.writeFileSync(f, bytes);
    const e = refusal(() => loadConfig(f));
    expect(e.code).toBe('NRDOT_ERR_CONFIG_SIGNATURE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(
      `${f} refused: ${f}.sig: the signature does not match these bytes under any trusted key (tried ${opensslKeyId(a.pub)}): the file changed after it was signed, the signature belongs to another file, or it was made with a key that is not trusted`,
    );
  });

  it('an unsigned file is refused when signatures are required, and loads when they are not', () => {
    const f = configFile([a.pub]);
    expect(refusal(() => loadConfig(f)).message).toBe(
      `${f} refused: it is not signed and security.signed_configs.required is true (nrdot config sign FILE --key KEY.pem writes FILE.sig)`,
    );
    const g = configFile([a.pub], 'profile: aggressive\n', false);
    expect(loadConfig(g).signature).toEqual({ signed: false });
  });

  it('rotation: with two trusted keys either one verifies; a key taken off the list no longer does', () => {
    const both = [a.pub, b.pub];
    const byA = configFile(both);
    opensslSign(byA, a.key);
    const byB = configFile(both);
    nrdotSign(byB, b.key);
    expect(loadConfig(byA).signature.keyId).toBe(opensslKeyId(a.pub));
    expect(loadConfig(byB).signature.keyId).toBe(opensslKeyId(b.pub));
    const onlyB = configFile([b.pub]);
    opensslSign(onlyB, a.key); // still signed with the retired key
    expect(refusal(() => loadConfig(onlyB)).message).toContain(`tried ${opensslKeyId(b.pub)})`);
  });

  it('a signature for another file is refused with the reason', () => {
    const f = configFile([a.pub]);
    const other = configFile([a.pub], 'profile: conservative\n');
    opensslSign(other, a.key);
    fs.copyFileSync(`${other}.sig`, `${f}.sig`);
    expect(refusal(() => loadConfig(f)).message).toContain('the signature belongs to another file');
  });

  it('a truncated, empty or non-base64 .sig is refused, saying what is wrong with it', () => {
    const f = configFile([a.pub]);
    opensslSign(f, a.key);
    const der = Buffer.from(fs.readFileSync(`${f}.sig`, 'utf8'), 'base64');
    fs.writeFileSync(`${f}.sig`, der.subarray(0, der.length - 5).toString('base64'));
    expect(refusal(() => loadConfig(f)).message).toMatch(
      new RegExp(
        `^${f} refused: ${f}\\.sig is not a DER ECDSA P-256 signature \\(\\d+ bytes where the SEQUENCE says \\d+\\): truncated or damaged\\?$`,
      ),
    );
    fs.writeFileSync(`${f}.sig`, '  \n');
    expect(refusal(() => loadConfig(f)).message).toBe(`${f} refused: ${f}.sig is empty`);
    fs.writeFileSync(`${f}.sig`, 'not base64 at all!');
    expect(refusal(() => loadConfig(f)).message).toContain(`${f}.sig is not base64`);
  });

  it('a base64 .sig with the newline and line wrapping of plain `base64` is accepted', () => {
    const f = configFile([a.pub]);
    opensslSign(f, a.key);
    const b64 = fs.readFileSync(`${f}.sig`, 'utf8');
    fs.writeFileSync(`${f}.sig`, `${b64.slice(0, 40)}\n${b64.slice(40)}\n`);
    expect(loadConfig(f).signature.signed).toBe(true);
  });

  it('keys that are not P-256 are refused wherever they appear, naming the key and what it is', () => {
    const f384 = configFile([p384.pub]);
    expect(refusal(() => loadConfig(f384)).message).toBe(
      `'security.signed_configs.trusted_keys[0]' ${p384.pub} is an ECDSA key on secp384r1; config signatures use ECDSA P-256 (prime256v1) keys (openssl ecparam -name prime256v1 -genkey -noout -out key.pem)`,
    );
    const fRsa = configFile([a.pub, rsa.pub]);
    expect(refusal(() => loadConfig(fRsa)).message).toMatch(
      /^'security\.signed_configs\.trusted_keys\[1\]' .*rsa\.pub\.pem is an RSA 2048-bit key; config signatures use ECDSA P-256/,
    );
    expect(refusal(() => loadPrivateKey(p384.key)).message).toContain('is an ECDSA key on secp384r1');
    expect(refusal(() => loadPrivateKey(rsa.key)).message).toContain('is an RSA 2048-bit key');
    // a P-384 signature over the right bytes, checked with P-256 keys: not a P-256 signature shape, or no match
    const f = configFile([a.pub]);
    opensslSign(f, p384.key);
    expect(refusal(() => loadConfig(f)).code).toBe('NRDOT_ERR_CONFIG_SIGNATURE');
  });

  it('a private key or a missing file in trusted_keys is refused naming the key', () => {
    expect(refusal(() => loadConfig(configFile([a.key]))).message).toContain(
      `'security.signed_configs.trusted_keys[0]' ${a.key} is a private key; give the public half`,
    );
    const gone = path.join(tmp, 'gone.pem');
    expect(refusal(() => loadConfig(configFile([gone]))).message).toBe(
      `'security.signed_configs.trusted_keys[0]' ${gone} does not exist`,
    );
  });

  it('required without trusted keys is a validation error naming the key', () => {
    const f = configFile([]);
    const e = refusal(() => loadConfig(f));
    expect(e.code).toBe('NRDOT_ERR_CONFIG_INVALID');
    expect(e.message).toBe(
      `${f}: 'security.signed_configs.trusted_keys': required is true but trusted_keys is empty: name at least one PEM public key`,
    );
  });

  it('not required: a signature that does not verify is a warning, and the config loads', () => {
    const f = configFile([a.pub], 'profile: aggressive\n', false);
    opensslSign(f, b.key);
    const loaded = loadConfig(f);
    expect(loaded.signature.signed).toBe(false);
    expect(loaded.signature.warning).toContain('does not match these bytes');
  });

  it("at reload the running config's policy governs: a new config cannot switch signatures off or trust its own key", () => {
    const running = loadSignaturePolicy({ required: true, trusted_keys: [a.pub] });
    const off = Buffer.from('security:\n  signed_configs:\n    required: false\n');
    expect(refusal(() => loadConfigBytes(off, 'PUT /api/config', { enforce: running })).message).toContain(
      'PUT /api/config refused: it is not signed',
    );
    // signed by b, and it lists b as trusted: the running policy does not trust b
    const selfTrust = Buffer.from(`security:\n  signed_configs:\n    required: true\n    trusted_keys: ["${b.pub}"]\n`);
    const sig = signatureText(signBytes(selfTrust, loadPrivateKey(b.key).key));
    expect(
      refusal(() =>
        loadConfigBytes(selfTrust, 'OpAMP remote config', {
          enforce: running,
          signature: { text: sig, where: 'the .sig entry' },
        }),
      ).message,
    ).toContain('does not match these bytes under any trusted key');
    // the same bytes signed by a trusted key are accepted, and from then on b is what the new config trusts
    const good = signatureText(signBytes(selfTrust, loadPrivateKey(a.key).key));
    const loaded = loadConfigBytes(selfTrust, 'OpAMP remote config', {
      enforce: running,
      signature: { text: good, where: 'the .sig entry' },
    });
    expect(loaded.signature.keyId).toBe(opensslKeyId(a.pub));
    expect(loaded.policy.keys.map((k) => k.id)).toEqual([opensslKeyId(b.pub)]);
  });

  it('derProblem accepts what openssl makes and names the flaw of a malformed signature', () => {
    const f = configFile([a.pub]);
    opensslSign(f, a.key);
    const der = Buffer.from(fs.readFileSync(`${f}.sig`, 'utf8'), 'base64');
    expect(derProblem(der)).toBeUndefined();
    expect(derProblem(der.subarray(0, 6))).toBe('6 bytes, too short');
    expect(derProblem(Buffer.concat([der, Buffer.from([0])]))).toBe('1 bytes after the SEQUENCE');
    const wrongTag = Buffer.from(der);
    wrongTag[0] = 0x31;
    expect(derProblem(wrongTag)).toBe('does not start with a DER SEQUENCE');
  });
});
