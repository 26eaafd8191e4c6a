/**
 * Detached config signatures: ECDSA P-256 over SHA-256 of the file's exact
 * bytes, stored in `FILE.sig` as base64 of the DER signature. That is what
 *
 *   openssl dgst -sha256 -sign key.pem FILE | base64 -w0 > FILE.sig
 *
 * makes, and what `base64 -d FILE.sig > sig.der; openssl dgst -sha256 -verify
 * pub.pem -signature sig.der FILE` checks. All cryptography is node:crypto;
 * this file only loads keys, checks that they are P-256, and checks the shape
 * of a signature before handing it over, so a truncated or foreign `.sig`
 * gets a message that says so.
 *
 * A key's id is the first 16 hex digits of SHA-256 over its public key in DER
 * (SubjectPublicKeyInfo), the same for the private and the public half:
 *   openssl pkey -pubin -in pub.pem -outform DER | sha256sum | cut -c1-16
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import * as fs from 'node:fs';
import { ErrorCodes, NrdotError } from '../../core/errors.js';

export const SIG_SUFFIX = '.sig';
const CURVE = 'prime256v1';

export interface PublicKey {
  key: KeyObject;
  /** 16 hex digits of SHA-256 over the SubjectPublicKeyInfo DER */
  id: string;
  /** where it was read from */
  file: string;
}

export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

function describeKey(key: KeyObject): string {
  const type = key.asymmetricKeyType ?? 'unknown';
  if (type === 'ec') return `an ECDSA key on ${key.asymmetricKeyDetails?.namedCurve ?? 'an unknown curve'}`;
  const bits = key.asymmetricKeyDetails?.modulusLength;
  return `${/^(rsa|ed|x)/i.test(type) ? 'an' : 'a'} ${type.toUpperCase()}${bits ? ` ${bits}-bit` : ''} key`;
}

function requireP256(key: KeyObject, what: string): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== CURVE) {
    throw new NrdotError(
      ErrorCodes.CONFIG_SIGNATURE,
      `${what} is ${describeKey(key)}; config signatures use ECDSA P-256 (prime256v1) keys (openssl ecparam -name prime256v1 -genkey -noout -out key.pem)`,
    );
  }
}

function readPem(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NrdotError(
      ErrorCodes.CONFIG_SIGNATURE,
      `${what} ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(e)})`}`,
      { cause: e },
    );
  }
}

/**
 * A trusted public key from a PEM file. `what` names it in messages, e.g.
 * "'security.signed_configs.trusted_keys[1]'" or "--pubkey".
 */
export function loadPublicKey(file: string, what = 'public key'): PublicKey {
  const pem = readPem(file, what);
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new NrdotError(
      ErrorCodes.CONFIG_SIGNATURE,
      `${what} ${file} is a private key; give the public half (openssl ec -in key.pem -pubout -out pub.pem) and keep the private key off the hosts`,
    );
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch (e) {
    throw new NrdotError(
      ErrorCodes.CONFIG_SIGNATURE,
      `${what} ${file} is not a PEM public key: ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  requireP256(key, `${what} ${file}`);
  return { key, id: keyIdOf(key), file };
}

export function loadPrivateKey(file: string, what = '--key'): { key: KeyObject; id: string } {
  const pem = readPem(file, what);
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /passphrase/i.test(msg) ? ' (encrypted keys are not supported: decrypt it with openssl ec)' : '';
    throw new NrdotError(ErrorCodes.CONFIG_SIGNATURE, `${what} ${file} is not a PEM private key: ${msg}${hint}`, {
      cause: e,
    });
  }
  requireP256(key, `${what} ${file}`);
  return { key, id: keyIdOf(key) };
}

/** The DER ECDSA signature of `data` (SHA-256), as node:crypto makes it. */
export function signBytes(data: Uint8Array, key: KeyObject): Buffer {
  return sign('sha256', data, { key, dsaEncoding: 'der' });
}

/** What goes into FILE.sig: base64 of the DER signature and a newline. */
export function signatureText(der: Uint8Array): string {
  return `${Buffer.from(der).toString('base64')}\n`;
}

/** A reason a signature could not even be tried: its text is not base64 of a DER ECDSA signature. */
export function parseSignatureText(text: string, what: string): Buffer {
  const b64 = text.replace(/\s+/g, '');
  if (!b64) throw new NrdotError(ErrorCodes.CONFIG_SIGNATURE, `${what} is empty`);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    throw new NrdotError(
      ErrorCodes.CONFIG_SIGNATURE,
      `${what} is not base64 (it should hold base64 of a DER ECDSA signature: openssl dgst -sha256 -sign key.pem FILE | base64 -w0)`,
    );
  }
  const der = Buffer.from(b64, 'base64');
  const problem = derProblem(der);
  if (problem) {
    throw new NrdotError(
      ErrorCodes.CONFIG_SIGNATURE,
      `${what} is not a DER ECDSA P-256 signature (${problem}): truncated or damaged?`,
    );
  }
  return der;
}

/**
 * Why `der` is not `SEQUENCE { INTEGER r, INTEGER s }` with P-256-sized
 * integers, or undefined when it is. A shape check only: whether it verifies
 * is node:crypto's business.
 */
export function derProblem(der: Uint8Array): string | undefined {
  if (der.length < 8) return `${der.length} bytes, too short`;
  if (der[0] !== 0x30) return 'does not start with a DER SEQUENCE';
  if (der[1]! & 0x80) return 'SEQUENCE length in long form (too long for P-256)';
  if (der[1]! + 2 !== der.length) {
    return der[1]! + 2 > der.length
      ? `${der.length} bytes where the SEQUENCE says ${der[1]! + 2}`
      : `${der.length - der[1]! - 2} bytes after the SEQUENCE`;
  }
  let at = 2;
  for (const name of ['r', 's']) {
    if (der[at] !== 0x02) return `${name} is not a DER INTEGER`;
    const len = der[at + 1]!;
    if (len === 0 || len > 33) return `${name} is ${len} bytes (P-256 takes 1 to 33)`;
    if (at + 2 + len > der.length) return `${name} runs past the end`;
    at += 2 + len;
  }
  if (at !== der.length) return 'bytes after s';
  return undefined;
}

export type VerifyResult = { ok: true; keyId: string; keyFile: string } | { ok: false; reason: string };

/**
 * Check `der` against `data` with each key in turn. On failure the reason
 * lists the key ids tried; it cannot tell a changed file from a foreign key
 * (ECDSA cannot), so it names the causes a user should look at.
 */
export function verifyBytes(data: Uint8Array, der: Uint8Array, keys: readonly PublicKey[]): VerifyResult {
  if (keys.length === 0) return { ok: false, reason: 'no trusted key to verify with' };
  for (const k of keys) {
    let good = false;
    try {
      good = verify('sha256', data, { key: k.key, dsaEncoding: 'der' }, der);
    } catch {
      good = false;
    }
    if (good) return { ok: true, keyId: k.id, keyFile: k.file };
  }
  const ids = keys.map((k) => k.id).join(', ');
  return {
    ok: false,
    reason: `the signature does not match these bytes under any trusted key (tried ${ids}): the file changed after it was signed, the signature belongs to another file, or it was made with a key that is not trusted`,
  };
}
