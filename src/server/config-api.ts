/**
 * PUT /api/config            apply a config:  {"config_base64": ..., "signature"?: ..., "reason"?: ..., "file"?: ...}
 * PUT /api/config/rollback   roll back:       {"version": N} | {"timestamp": "ISO 8601"}, "reason"?: ...
 *
 * Both need the bearer token (as PUT /api/profile) and hand the request to
 * the agent's `applyConfig` / `rollbackConfig` (src/control/config/apply.ts),
 * which runs the checked apply and audits its outcome. Until the agent
 * provides them (hot reload), the answer is 501 with a message saying so.
 * This route audits only what never reaches the agent: refused tokens, bad
 * bodies, 501. The config text itself is never logged or audited.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ConfigApplyResult } from '../control/config/apply.js';
import type { Logger } from '../core/log.js';
import type { AuditLog, ConfigAuditEntry } from './audit.js';
import { claimedBy, UNAUTHENTICATED } from './profile-api.js';
import { BodyTooLarge, readBody, sendError, sendJson } from './respond.js';
import { checkBearer } from './token.js';
import type { AgentControl } from './types.js';

export interface ConfigApiDeps {
  control: AgentControl;
  token: string | undefined;
  /** who holds the token (tokenIdentity()): the audit's "who" once the token matched */
  identity: string;
  audit: AuditLog | undefined;
  logger: Logger;
  /** largest body accepted: a config in base64 (default 1 MiB) */
  bodyLimit: number;
  wallClock: () => number;
}

export const CONFIG_BODY_LIMIT = 1 << 20;

type Action = 'config.apply' | 'config.rollback';

/** HTTP status for an applier's answer: refused is the caller's config (400), the rest the agent's (409). */
export function statusOf(r: ConfigApplyResult): number {
  if (r.ok) return 200;
  return r.outcome === 'refused' ? 400 : 409;
}

async function refuse(
  req: IncomingMessage,
  res: ServerResponse,
  d: ConfigApiDeps,
  action: Action,
  status: number,
  outcome: ConfigAuditEntry['outcome'],
  message: string,
  headers: Record<string, string> = {},
): Promise<void> {
  const authenticated = status !== 401 && status !== 403;
  const claimed = claimedBy(req);
  const entry: ConfigAuditEntry = {
    time: new Date(d.wallClock()).toISOString(),
    who: authenticated ? d.identity : UNAUTHENTICATED,
    ...(claimed ? { claimed_by: claimed } : {}),
    action,
    source: action === 'config.apply' ? 'api' : 'rollback',
    reason: message,
    outcome,
    status,
  };
  if (d.audit) await d.audit.append(entry);
  d.logger.warn({ audit: entry }, `${action} refused: ${message}`);
  sendError(res, status, message, headers);
}

/** Token and body checks shared by both routes; the parsed JSON object, or undefined once answered. */
async function admit(
  req: IncomingMessage,
  res: ServerResponse,
  d: ConfigApiDeps,
  action: Action,
): Promise<Record<string, unknown> | undefined> {
  if (d.token === undefined) {
    await refuse(
      req,
      res,
      d,
      action,
      403,
      'disabled',
      'config changes are disabled: no token configured (start the agent with NRDOT_TOKEN or a token file)',
    );
    return undefined;
  }
  const refused = checkBearer(req.headers.authorization, d.token);
  if (refused) {
    await refuse(req, res, d, action, refused.status, refused.outcome, refused.message, refused.headers);
    return undefined;
  }
  let body: Buffer;
  try {
    body = await readBody(req, d.bodyLimit);
  } catch (e) {
    if (e instanceof BodyTooLarge) {
      res.shouldKeepAlive = false;
      await refuse(req, res, d, action, 413, 'too_large', `request body larger than ${e.limit} bytes`, {
        connection: 'close',
      });
      return undefined;
    }
    throw e;
  }
  let o: unknown;
  try {
    o = JSON.parse(body.toString('utf8'));
  } catch (e) {
    await refuse(req, res, d, action, 400, 'invalid', `body is not valid JSON: ${(e as Error).message}`);
    return undefined;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) {
    await refuse(req, res, d, action, 400, 'invalid', 'body must be a JSON object');
    return undefined;
  }
  const reason = (o as { reason?: unknown }).reason;
  if (reason !== undefined && typeof reason !== 'string') {
    await refuse(req, res, d, action, 400, 'invalid', '"reason" must be a string');
    return undefined;
  }
  return o as Record<string, unknown>;
}

const NOT_YET =
  'this agent cannot change its config while running yet (hot reload is not wired into the engine): restart it with the new config';

function answer(res: ServerResponse, r: ConfigApplyResult): void {
  if (r.ok) sendJson(res, 200, r);
  else sendJson(res, statusOf(r), r);
}

export async function putConfig(req: IncomingMessage, res: ServerResponse, d: ConfigApiDeps): Promise<void> {
  const o = await admit(req, res, d, 'config.apply');
  if (!o) return;
  const b64 = o.config_base64;
  if (typeof b64 !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) {
    return refuse(req, res, d, 'config.apply', 400, 'invalid', '"config_base64" must be the config file in base64');
  }
  for (const k of ['signature', 'file'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'string') {
      return refuse(req, res, d, 'config.apply', 400, 'invalid', `"${k}" must be a string`);
    }
  }
  if (!d.control.applyConfig) return refuse(req, res, d, 'config.apply', 501, 'unavailable', NOT_YET);
  const r = await d.control.applyConfig({
    bytes: Buffer.from(b64, 'base64'),
    ...(typeof o.signature === 'string' ? { signature: { text: o.signature, where: 'the "signature" field' } } : {}),
    source: 'api',
    who: d.identity,
    ...(typeof o.reason === 'string' && o.reason ? { why: o.reason } : {}),
    ...(typeof o.file === 'string' && o.file ? { file: o.file } : {}),
  });
  answer(res, r);
}

export async function putRollback(req: IncomingMessage, res: ServerResponse, d: ConfigApiDeps): Promise<void> {
  const o = await admit(req, res, d, 'config.rollback');
  if (!o) return;
  let to: { version: number } | { timeMs: number };
  if (o.version !== undefined && o.timestamp === undefined) {
    if (typeof o.version !== 'number' || !Number.isInteger(o.version) || o.version < 1) {
      return refuse(req, res, d, 'config.rollback', 400, 'invalid', '"version" must be a whole number >= 1');
    }
    to = { version: o.version };
  } else if (o.timestamp !== undefined && o.version === undefined) {
    const t = typeof o.timestamp === 'string' ? Date.parse(o.timestamp) : Number.NaN;
    if (!Number.isFinite(t) || !/(Z|[+-]\d{2}:?\d{2})$/i.test(String(o.timestamp))) {
      return refuse(
        req,
        res,
        d,
        'config.rollback',
        400,
        'invalid',
        '"timestamp" must be an ISO 8601 time with a zone, e.g. 2026-12-01T10:30:00Z',
      );
    }
    to = { timeMs: t };
  } else {
    return refuse(req, res, d, 'config.rollback', 400, 'invalid', 'give exactly one of "version" and "timestamp"');
  }
  if (!d.control.rollbackConfig) return refuse(req, res, d, 'config.rollback', 501, 'unavailable', NOT_YET);
  const r = await d.control.rollbackConfig({
    to,
    who: d.identity,
    ...(typeof o.reason === 'string' && o.reason ? { why: o.reason } : {}),
  });
  answer(res, r);
}
