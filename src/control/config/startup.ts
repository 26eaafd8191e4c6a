/**
 * The config at start: loaded (signature, references, schema) and, when it is
 * refused for its signature, an audit line. The refusal goes to the audit log
 * of the embedded default config, not the one the refused file names: nothing
 * a config says is acted upon before its signature is checked.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { configsDir, DEFAULT_CONFIG_FILE, type LoadedConfig, loadConfig, readYamlFile } from '../../config/load.js';
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/log.js';
import { AuditLog, type ConfigAuditEntry } from '../../server/audit.js';
import { ConfigHistory, type VersionMeta } from './history/store.js';

/** `alice@localhost`: the user running this process (the uid when it has no name). */
export function localWho(): string {
  try {
    return `${os.userInfo().username}@localhost`;
  } catch {
    return `uid${process.getuid?.() ?? '?'}@localhost`;
  }
}

/** server.audit_log of the embedded default config (resolved from the working directory), or undefined. */
export function defaultAuditLog(): string | undefined {
  const d = readYamlFile(path.join(configsDir(), DEFAULT_CONFIG_FILE)) as { server?: { audit_log?: unknown } };
  const f = d.server?.audit_log;
  return typeof f === 'string' && f ? path.resolve(f) : undefined;
}

export interface StartConfigDeps {
  logger?: Logger;
  /** wall clock for the audit line (default Date.now) */
  wallClock?: () => number;
  /** where a refusal is audited (default: the embedded default's server.audit_log) */
  auditLog?: string;
}

/** loadConfig for `nrdot run`: a config refused for its signature leaves an audit line, then exits 2. */
export async function loadStartConfig(file: string | undefined, deps: StartConfigDeps = {}): Promise<LoadedConfig> {
  try {
    return loadConfig(file);
  } catch (e) {
    if (e instanceof NrdotError && e.code === ErrorCodes.CONFIG_SIGNATURE && file) {
      const auditFile = deps.auditLog ?? defaultAuditLog();
      if (auditFile) {
        const entry: ConfigAuditEntry = {
          time: new Date((deps.wallClock ?? Date.now)()).toISOString(),
          who: localWho(),
          action: 'config.refused',
          source: 'start',
          config: path.resolve(file),
          reason: e.message,
          outcome: 'refused',
        };
        await new AuditLog(auditFile, deps.logger ?? silentLogger).append(entry);
      }
    }
    throw e;
  }
}

export interface StartRecordOptions {
  /** --state-dir or state_dir; nothing is recorded without one */
  stateDir: string | undefined;
  /** config_history.max_versions */
  maxVersions: number;
  logger: Logger;
  /** the agent's audit log (server.audit_log of the verified config); absent = none */
  audit?: AuditLog;
  wallClock?: () => number;
}

/**
 * Record the config a run started with as a history version (source
 * "start"), unless it is the version already in effect (a restart with the
 * same bytes adds nothing). A history that cannot be written is a warning:
 * the agent runs without it.
 */
export async function recordStartVersion(
  loaded: LoadedConfig,
  file: string | undefined,
  o: StartRecordOptions,
): Promise<VersionMeta | undefined> {
  if (!o.stateDir) return undefined;
  const now = o.wallClock ?? Date.now;
  let v: VersionMeta;
  try {
    const h = ConfigHistory.inStateDir(path.resolve(o.stateDir), { maxVersions: o.maxVersions, logger: o.logger, now });
    const cur = h.current();
    if (cur && cur.hash === loaded.hash && cur.result === 'applied') return cur;
    v = h.record({
      bytes: loaded.bytes,
      source: 'start',
      who: localWho(),
      ...(file ? { file: path.resolve(file) } : {}),
      ...(loaded.signature.keyId ? { keyId: loaded.signature.keyId, signature: loaded.signature.text } : {}),
    });
  } catch (e) {
    o.logger.warn({ err: (e as Error).message, stateDir: o.stateDir }, 'could not record the config in the history');
    return undefined;
  }
  o.logger.info({ version: v.version, hash: v.hash, keyId: v.keyId }, 'config recorded in the history');
  if (o.audit) {
    const entry: ConfigAuditEntry = {
      time: new Date(now()).toISOString(),
      who: v.who,
      action: 'config.apply',
      source: 'start',
      ...(v.file ? { config: v.file } : {}),
      hash: v.hash,
      version: v.version,
      ...(v.keyId ? { keyId: v.keyId } : {}),
      outcome: 'ok',
    };
    await o.audit.append(entry);
  }
  return v;
}
