/**
 * nrdot config sign FILE --key KEY.pem     writes FILE.sig
 * nrdot config verify FILE [--pubkey PUB.pem]...
 *
 * FILE.sig holds base64 of the DER ECDSA P-256 signature over SHA-256 of
 * FILE's exact bytes (src/control/config/signature.ts), interchangeable with
 * `openssl dgst -sha256 -sign` / `-verify`.
 */
import * as fs from 'node:fs';
import { statedSignaturePolicy } from '../config/load.js';
import {
  loadPrivateKey,
  loadPublicKey,
  parseSignatureText,
  SIG_SUFFIX,
  signatureText,
  signBytes,
  verifyBytes,
} from '../control/config/signature.js';
import { readSignatureFile } from '../control/config/signed.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { writeFileAtomic } from '../util/atomic.js';

function readConfigFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new NrdotError(
      ErrorCodes.CONFIG_READ,
      `${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(e)})`}`,
    );
  }
}

export function configSignCommand(file: string, o: { key: string }): void {
  const bytes = readConfigFile(file);
  const { key, id } = loadPrivateKey(o.key, '--key');
  const sigFile = `${file}${SIG_SUFFIX}`;
  writeFileAtomic(sigFile, signatureText(signBytes(bytes, key)));
  process.stdout.write(`${sigFile}: signed ${file} (${bytes.length} bytes) with key ${id}\n`);
}

export function configVerifyCommand(file: string, o: { pubkey?: string[] }): void {
  const bytes = readConfigFile(file);
  const keys =
    o.pubkey && o.pubkey.length > 0
      ? o.pubkey.map((f) => loadPublicKey(f, '--pubkey'))
      : statedSignaturePolicy(file).keys;
  if (keys.length === 0) {
    throw new NrdotError(
      ErrorCodes.USAGE,
      `no key to verify ${file} with: give --pubkey PUB.pem, or list keys in security.signed_configs.trusted_keys`,
    );
  }
  const sig = readSignatureFile(file);
  if (!sig)
    throw new NrdotError(ErrorCodes.CONFIG_SIGNATURE, `${file} is not signed: ${file}${SIG_SUFFIX} does not exist`);
  const der = parseSignatureText(sig.text, sig.where);
  const r = verifyBytes(bytes, der, keys);
  if (!r.ok) throw new NrdotError(ErrorCodes.CONFIG_SIGNATURE, `${file}: ${r.reason}`);
  process.stdout.write(`${file}: signature good, key ${r.keyId} (${r.keyFile})\n`);
}
