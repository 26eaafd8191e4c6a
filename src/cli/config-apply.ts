/**
 * Commands that change a running agent's config through its control server:
 *
 *   nrdot config apply FILE [--reason R]            PUT /api/config (FILE.sig travels with it)
 *   nrdot rollback --to-version V | --to-timestamp T  PUT /api/config/rollback
 *   nrdot rollback ... --dry-run [--state-dir D]      only say which kept version that is
 *
 * Both need the agent's token (--token-file or NRDOT_TOKEN, as `profile set`).
 * --to-timestamp is read in this machine's local time unless it names a zone
 * and sent to the agent as an absolute time.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ConfigApplyResult } from '../control/config/apply.js';
import { locateStateDir } from '../control/config/history/locate.js';
import { ConfigHistory, type StoredVersion } from '../control/config/history/store.js';
import { parseTimestamp } from '../control/config/history/timestamp.js';
import { readSignatureFile } from '../control/config/signed.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { createLogger } from '../core/log.js';
import { putToAgent } from './client.js';
import { localTime } from './config-history.js';

interface AgentOpts {
  url?: string;
  reason?: string;
  tokenFile?: string;
}

function put(o: AgentOpts, route: string, body: unknown): Promise<ConfigApplyResult> {
  return putToAgent<ConfigApplyResult>(o.url, route, body, o.tokenFile);
}

function report(r: ConfigApplyResult): void {
  if (!r.ok) throw new NrdotError(ErrorCodes.RUNTIME, `the agent did not apply it (${r.outcome}): ${r.error}`);
  const v = r.version !== undefined ? ` as v${r.version}` : '';
  const from = r.restoredFrom !== undefined ? ` (the bytes of v${r.restoredFrom})` : '';
  const key = r.keyId ? `, signed by key ${r.keyId}` : '';
  process.stdout.write(
    r.outcome === 'unchanged'
      ? `unchanged: the agent already runs this config (sha256:${r.hash.slice(0, 12)})\n`
      : `applied${v}${from}: sha256:${r.hash.slice(0, 12)}${key}\n`,
  );
}

export async function configApplyCommand(file: string, o: AgentOpts): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    throw new NrdotError(ErrorCodes.CONFIG_READ, `${file}: cannot read config: ${(e as Error).message}`);
  }
  const sig = readSignatureFile(file);
  report(
    await put(o, '/api/config', {
      config_base64: bytes.toString('base64'),
      file: path.resolve(file),
      ...(sig ? { signature: sig.text } : {}),
      ...(o.reason ? { reason: o.reason } : {}),
    }),
  );
}

interface RollbackOpts extends AgentOpts {
  toVersion?: number;
  toTimestamp?: string;
  dryRun?: boolean;
  stateDir?: string;
  config?: string;
}

/** The kept version a rollback target names, from the local history. */
export function lookUp(h: ConfigHistory, o: RollbackOpts): StoredVersion {
  if (o.toVersion !== undefined) return h.get(o.toVersion);
  return h.effectiveAt(parseTimestamp(o.toTimestamp!));
}

export async function rollbackCommand(o: RollbackOpts): Promise<void> {
  if ((o.toVersion === undefined) === (o.toTimestamp === undefined)) {
    throw new NrdotError(
      ErrorCodes.USAGE,
      'give exactly one of --to-version V and --to-timestamp "YYYY-MM-DD HH:MM:SS"',
    );
  }
  const timeMs = o.toTimestamp !== undefined ? parseTimestamp(o.toTimestamp) : undefined;
  if (o.dryRun) {
    const h = ConfigHistory.inStateDir(locateStateDir(o), { logger: createLogger('warn') });
    const v = lookUp(h, o);
    const note = v.result === 'rolled_back' ? ` (it was rolled back later: ${v.error ?? 'health check'})` : '';
    process.stdout.write(
      `would restore v${v.version}: applied ${localTime(v.timeMs)} (${v.source} by ${v.who}), sha256:${v.hash.slice(0, 12)}, ${v.size} bytes${note}\n`,
    );
    return;
  }
  report(
    await put(o, '/api/config/rollback', {
      ...(o.toVersion !== undefined ? { version: o.toVersion } : { timestamp: new Date(timeMs!).toISOString() }),
      ...(o.reason ? { reason: o.reason } : {}),
    }),
  );
}
