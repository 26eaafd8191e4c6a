/** `nrdot profile get|set`: read or switch the running agent's cost profile. */
import { agentJson, agentUrl, putToAgent } from './client.js';

export interface ProfileGetOpts {
  url?: string;
  json?: boolean;
}

export interface ProfileSetOpts {
  url?: string;
  reason?: string;
  /** --for (durationArg): the override expires after this long, ms */
  for?: number;
  tokenFile?: string;
}

export async function profileGetCommand(o: ProfileGetOpts): Promise<void> {
  const p = await agentJson<{ active: string; available: string[] }>(agentUrl(o.url), '/api/profile');
  process.stdout.write(
    o.json ? `${JSON.stringify(p)}\n` : `${p.active}\n(available: ${(p.available ?? []).join(', ')})\n`,
  );
}

export async function profileSetCommand(name: string, o: ProfileSetOpts): Promise<void> {
  const body = {
    profile: name,
    ...(o.reason ? { reason: o.reason } : {}),
    ...(o.for !== undefined ? { expires_in: `${o.for}ms` } : {}),
  };
  const r = await putToAgent<{ before: string; after: string }>(o.url, '/api/profile', body, o.tokenFile);
  process.stdout.write(
    r.before === r.after ? `profile ${r.after} (unchanged)\n` : `profile ${r.before} -> ${r.after}\n`,
  );
}
