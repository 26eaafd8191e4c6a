/**
 * What an AgentRemoteConfig holds for nrdot: exactly one config file, and
 * optionally its signature as a second entry `<name>.sig` (base64 of the DER
 * ECDSA P-256 signature, the same text as a FILE.sig). When the running
 * config requires signatures, the signature is checked here, before the
 * config goes anywhere near the agent's apply.
 */
import { createHash } from 'node:crypto';
import { type CarriedSignature, checkSignature, type SignaturePolicy } from '../config/signed.js';
import type { AgentConfigMap } from './proto.js';

export type Unpacked =
  | {
      ok: true;
      name: string;
      bytes: Buffer;
      /** SHA-256 of the bytes, hex: how the agent's lifecycle names this config */
      bodySha256: string;
      signature?: CarriedSignature;
      keyId?: string;
    }
  | { ok: false; error: string; bodySha256?: string };

export function unpackRemoteConfig(map: AgentConfigMap | undefined, policy: SignaturePolicy): Unpacked {
  const entries = Object.entries(map?.config_map ?? {});
  const configs = entries.filter(([n]) => !n.endsWith('.sig'));
  if (configs.length !== 1) {
    return {
      ok: false,
      error:
        configs.length === 0
          ? 'the remote config holds no config file'
          : `the remote config must hold one config file (and optionally its NAME.sig), not ${configs.length}: ${configs.map(([n]) => `'${n}'`).join(', ')}`,
    };
  }
  const [name, file] = configs[0]!;
  const bytes = Buffer.from(file.body ?? new Uint8Array());
  const bodySha256 = createHash('sha256').update(bytes).digest('hex');
  const sigEntry = map?.config_map[`${name}.sig`];
  const signature: CarriedSignature | undefined = sigEntry
    ? { text: Buffer.from(sigEntry.body ?? new Uint8Array()).toString('utf8'), where: `the '${name}.sig' entry` }
    : undefined;
  let keyId: string | undefined;
  if (policy.required) {
    try {
      keyId = checkSignature(bytes, signature, policy, `OpAMP remote config '${name}'`).keyId;
    } catch (e) {
      return { ok: false, error: (e as Error).message, bodySha256 };
    }
  }
  return { ok: true, name, bytes, bodySha256, ...(signature ? { signature } : {}), ...(keyId ? { keyId } : {}) };
}
