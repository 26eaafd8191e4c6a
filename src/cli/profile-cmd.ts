/** `nrdot profile get|set`: read or switch the running agent's cost profile. */
import * as os from 'node:os';
import { defaultConfig } from '../config/load.js';
import { NrdotError } from '../core/errors.js';
import { loadToken } from '../server/token.js';
import { agentJson, agentUrl } from './client.js';

export interface ProfileGetOpts {
  url?: string;
  json?: boolean;
}

export interface ProfileSetOpts {
  url?: string;
  reason?: string;
  tokenFile?: string;
}

export async function profileGetCommand(o: ProfileGetOpts): Promise<void> {
  const p = await agentJson<{ active: string; available: string[] }>(agentUrl(o.url), '/api/profile');
  process.stdout.write(
    o.json ? `${JSON.stringify(p)}\n` : `${p.active}\n(available: ${(p.available ?? []).join(', ')})\n`,
  );
}

function localUser(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

export async function profileSetCommand(name: string, o: ProfileSetOpts): Promise<void> {
  const env = defaultConfig().server.token_env;
  const token = loadToken({ file: o.tokenFile, env });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const user = localUser();
  if (user) headers['x-nrdot-user'] = user;
  const body = JSON.stringify({ profile: name, ...(o.reason ? { reason: o.reason } : {}) });
  let r: { before: string; after: string };
  try {
    r = await agentJson(agentUrl(o.url), '/api/profile', { method: 'PUT', headers, body });
  } catch (e) {
    if (token === undefined && e instanceof NrdotError && /HTTP 401/.test(e.message)) {
      throw new NrdotError(e.code, `${e.message}; pass --token-file FILE${env ? ` or set ${env}` : ''}`);
    }
    throw e;
  }
  process.stdout.write(
    r.before === r.after ? `profile ${r.after} (unchanged)\n` : `profile ${r.before} -> ${r.after}\n`,
  );
}
