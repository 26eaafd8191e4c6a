/**
 * The OpAMP agent as the run command starts it: identity from the state dir
 * and the config, the client, and the apply the agent passes
 * (ConfigLifecycle.applyConfig, src/agent/live-config.ts, which audits its
 * own outcomes); remote configs refused before they reach it are audited
 * here.
 */
import * as path from 'node:path';
import type { LoadedConfig } from '../../config/load.js';
import type { Logger } from '../../core/log.js';
import type { AuditLog } from '../../server/audit.js';
import type { SignaturePolicy } from '../config/signed.js';
import { type AgentHealth, type ApplyRemote, type EffectiveFile, OpampClient } from './client.js';
import type { OpampConfig } from './config.js';
import { describeAgent, loadInstanceUid, resolveRing, saveInstanceUid } from './identity.js';

export { OpampClient };

export interface StartOpampOptions {
  stateDir: string | undefined;
  logger: Logger;
  health: () => AgentHealth;
  effectiveConfig: () => EffectiveFile[];
  signaturePolicy: () => SignaturePolicy;
  /** the checked apply of the agent's config lifecycle */
  apply: ApplyRemote;
  /** poll interval in ms (from opamp.poll_interval) */
  pollIntervalMs: number;
  /** the agent's audit log: remote configs refused before they reach `apply` are audited here */
  audit?: AuditLog;
  /** wall clock for audit lines (default Date.now) */
  now?: () => number;
}

/** The effective config as OpAMP reports it: the file as written, under its base name. */
export function effectiveFiles(loaded: LoadedConfig, file: string | undefined): EffectiveFile[] {
  return [{ name: file ? path.basename(file) : 'nrdot.yaml', bytes: loaded.bytes, contentType: 'text/yaml' }];
}

/** A started OpAMP client, or undefined when opamp.endpoint is "". */
export function startOpamp(cfg: OpampConfig, o: StartOpampOptions): OpampClient | undefined {
  if (!cfg.endpoint) return undefined;
  const uid = loadInstanceUid(o.stateDir, o.logger);
  const ring = resolveRing(cfg);
  const who = `opamp:${new URL(cfg.endpoint).host}`;
  const audit = o.audit;
  const refused = (reason: string, hash: string | undefined) =>
    void audit?.append({
      time: new Date((o.now ?? Date.now)()).toISOString(),
      who,
      action: 'config.refused',
      source: 'opamp',
      ...(hash ? { hash } : {}),
      reason,
      outcome: 'refused',
    });
  const client = new OpampClient({
    endpoint: cfg.endpoint,
    headers: cfg.headers,
    instanceUid: uid,
    onInstanceUid: (u) => saveInstanceUid(o.stateDir, u, o.logger),
    description: describeAgent(uid, ring),
    pollIntervalMs: o.pollIntervalMs,
    health: o.health,
    effectiveConfig: o.effectiveConfig,
    apply: o.apply,
    signaturePolicy: o.signaturePolicy,
    onRefused: (e) => refused(e.reason, e.bodySha256),
    logger: o.logger,
  });
  client.start();
  o.logger.info({ endpoint: cfg.endpoint, ring }, 'opamp: reporting to the server');
  return client;
}
