/** `nrdot profile get|set`: read or switch the running agent's cost profile. */
import * as os from 'node:os';
import { defaultConfig } from '../config/load.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { loadToken } from '../server/token.js';
import { agentJson, agentUrl } from './client.js';

export interface ProfileGetOpts {
  url?: string;
  json?: boolean;
}

export interface ProfileSetOpts {
  url?: string;
  reason?: string;
  /** --for: the override expires after this long */
  for?: string;
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
  if (o.for !== undefined && !/^\d+(\.\d+)?(ms|s|m|h)$/.test(o.for)) {
    throw new NrdotError(ErrorCodes.USAGE, `--for: expected a duration like 30m or 2h, got '${o.for}'`);
  }
  const body = JSON.stringify({
    profile: name,
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.for ? { expires_in: o.for } : {}),
  });
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
