/**
 * Keys and signatures made by the openssl command line, so nrdot's signing
 * and verifying are checked against the standard tool, not against itself.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type KeyKind = 'p256' | 'p384' | 'rsa';

export interface KeyPair {
  key: string;
  pub: string;
}

function openssl(args: string[], input?: Buffer): Buffer {
  return execFileSync('openssl', args, { input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** A new key pair under `dir` as NAME.key.pem / NAME.pub.pem. */
export function opensslKeyPair(dir: string, name: string, kind: KeyKind = 'p256'): KeyPair {
  const key = path.join(dir, `${name}.key.pem`);
  const pub = path.join(dir, `${name}.pub.pem`);
  if (kind === 'rsa') openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', key]);
  else openssl(['ecparam', '-name', kind === 'p256' ? 'prime256v1' : 'secp384r1', '-genkey', '-noout', '-out', key]);
  openssl(['pkey', '-in', key, '-pubout', '-out', pub]);
  return { key, pub };
}

/** `openssl dgst -sha256 -sign KEY FILE | base64 -w0 > FILE.sig` */
export function opensslSign(file: string, key: string, sigFile = `${file}.sig`): void {
  const der = openssl(['dgst', '-sha256', '-sign', key, file]);
  fs.writeFileSync(sigFile, der.toString('base64'));
}

/** `base64 -d FILE.sig > sig.der; openssl dgst -sha256 -verify PUB -signature sig.der FILE`: true on "Verified OK". */
export function opensslVerify(file: string, pub: string, sigFile = `${file}.sig`): boolean {
  const der = path.join(path.dirname(sigFile), `${path.basename(sigFile)}.der`);
  fs.writeFileSync(der, Buffer.from(fs.readFileSync(sigFile, 'utf8').trim(), 'base64'));
  try {
    return openssl(['dgst', '-sha256', '-verify', pub, '-signature', der, file]).toString().includes('Verified OK');
  } catch {
    return false;
  } finally {
    fs.rmSync(der, { force: true });
  }
}

/** `openssl pkey -pubin -in PUB -outform DER | sha256sum | cut -c1-16` */
export function opensslKeyId(pub: string): string {
  const der = openssl(['pkey', '-pubin', '-in', pub, '-outform', 'DER']);
  return openssl(['dgst', '-sha256', '-r'], der).toString().slice(0, 16);
}
