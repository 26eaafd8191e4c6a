/**
 * The signed-config policy: which keys are trusted and whether a signature is
 * required, and the check of one config's bytes against it.
 *
 * Whose policy applies: at start, the one the config itself states (so keep
 * the file writable only by root: the signature is what protects configs that
 * arrive over the network, and every later change). At reload, over the API
 * and over OpAMP, the RUNNING config's policy: a new config cannot switch
 * signatures off or add its own key unless a trusted key signed it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import type { SecurityConfig } from './schema.js';
import { loadPublicKey, type PublicKey, parseSignatureText, SIG_SUFFIX, verifyBytes } from './signature.js';

export interface SignaturePolicy {
  required: boolean;
  keys: PublicKey[];
}

/** A signature carried with a config: the text of FILE.sig, an OpAMP config-map entry, an API header. */
export interface CarriedSignature {
  text: string;
  /** where it came from, for messages: "/etc/nrdot/nrdot.yaml.sig" */
  where: string;
}

export interface SignatureCheck {
  /** a trusted key verified the bytes */
  signed: boolean;
  keyId?: string;
  keyFile?: string;
  /** the signature text that verified (kept in the history, so a rollback verifies it again) */
  text?: string;
  /** not required, but a signature was there and did not verify: say so in the log */
  warning?: string;
}

/** Load the trusted keys the section names; errors name the key and the file. */
export function loadSignaturePolicy(section: SecurityConfig['signed_configs'], cwd = process.cwd()): SignaturePolicy {
  const keys = section.trusted_keys.map((f, i) =>
    loadPublicKey(path.resolve(cwd, f), `'security.signed_configs.trusted_keys[${i}]'`),
  );
  return { required: section.required, keys };
}

/**
 * The policy that governs a new config: the running one's when there is a
 * running config (`enforced`), else the config's own.
 */
export function governingPolicy(own: SignaturePolicy, enforced: SignaturePolicy | undefined): SignaturePolicy {
  if (!enforced) return own;
  if (enforced.required) return enforced;
  // the running config does not require signatures: the new one may start requiring them
  return own.required ? own : { required: false, keys: enforced.keys.length > 0 ? enforced.keys : own.keys };
}

/** FILE.sig beside `file`, or undefined when there is none. Unreadable is an error. */
export function readSignatureFile(file: string): CarriedSignature | undefined {
  const sig = `${file}${SIG_SUFFIX}`;
  try {
    return { text: fs.readFileSync(sig, 'utf8'), where: sig };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new NrdotError(ErrorCodes.CONFIG_SIGNATURE, `${sig} cannot be read (${code ?? String(e)})`, { cause: e });
  }
}

/**
 * Check `bytes` (named `what` in messages) against `policy`. Throws
 * NrdotError(CONFIG_SIGNATURE, exit 2) when a signature is required and
 * missing, malformed or not made by a trusted key.
 */
export function checkSignature(
  bytes: Uint8Array,
  signature: CarriedSignature | undefined,
  policy: SignaturePolicy,
  what: string,
): SignatureCheck {
  const refuse = (why: string): never => {
    throw new NrdotError(ErrorCodes.CONFIG_SIGNATURE, `${what} refused: ${why}`);
  };
  if (!signature) {
    if (policy.required) {
      refuse(
        'it is not signed and security.signed_configs.required is true (nrdot config sign FILE --key KEY.pem writes FILE.sig)',
      );
    }
    return { signed: false };
  }
  if (policy.keys.length === 0) return { signed: false };
  let der: Buffer;
  try {
    der = parseSignatureText(signature.text, signature.where);
  } catch (e) {
    if (policy.required) refuse((e as Error).message);
    return { signed: false, warning: (e as Error).message };
  }
  const r = verifyBytes(bytes, der, policy.keys);
  if (r.ok) return { signed: true, keyId: r.keyId, keyFile: r.keyFile, text: signature.text.replace(/\s+/g, '') };
  if (policy.required) refuse(`${signature.where}: ${r.reason}`);
  return { signed: false, warning: `${signature.where}: ${r.reason}` };
}
