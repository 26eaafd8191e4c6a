/**
 * PUT /api/profile: switch the cost profile, guarded by a bearer token.
 * Every attempt, granted or refused, goes to the audit log and the log.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { AuditEntry, AuditLog, AuditOutcome } from './audit.js';
import { BodyTooLarge, readBody, sendError, sendJson } from './respond.js';
import { tokenMatches } from './token.js';
import type { AgentControl } from './types.js';

export interface ProfileApiDeps {
  control: AgentControl;
  token: string | undefined;
  audit: AuditLog | undefined;
  logger: Logger;
  bodyLimit: number;
  /** wall clock for audit lines (ms since the epoch) */
  wallClock: () => number;
}

/** `alice@127.0.0.1` or `127.0.0.1`: the remote address, with the X-Nrdot-User header when sent. */
export function whoOf(req: IncomingMessage): string {
  const addr = req.socket.remoteAddress ?? 'unknown';
  const raw = req.headers['x-nrdot-user'];
  const user = (Array.isArray(raw) ? raw[0] : raw)
    ?.replace(/[^\x21-\x7e]/g, '')
    .replace(/@/g, '_')
    .slice(0, 64);
  return user ? `${user}@${addr}` : addr;
}

function unknownProfileMessage(name: string, available: string[]): string {
  return `unknown profile '${name}'; valid profiles: ${available.join(', ')}`;
}

export async function putProfile(req: IncomingMessage, res: ServerResponse, d: ProfileApiDeps): Promise<void> {
  const who = whoOf(req);
  const current = d.control.profile().active;
  const finish = async (
    status: number,
    outcome: AuditOutcome,
    message: string | undefined,
    extra: Partial<AuditEntry> = {},
    headers: Record<string, string> = {},
  ) => {
    const entry: AuditEntry = {
      time: new Date(d.wallClock()).toISOString(),
      who,
      action: 'profile.set',
      before: current,
      after: current,
      outcome,
      status,
      ...extra,
    };
    if (d.audit) await d.audit.append(entry);
    if (outcome === 'ok') d.logger.info({ audit: entry }, 'profile changed over the HTTP API');
    else d.logger.warn({ audit: entry }, `profile change refused: ${message}`);
    if (outcome === 'ok') sendJson(res, status, { before: entry.before, after: entry.after });
    else sendError(res, status, message ?? outcome, headers);
  };

  if (d.token === undefined) {
    return finish(
      403,
      'disabled',
      'profile changes are disabled: no token configured (start the agent with NRDOT_TOKEN or a token file)',
    );
  }
  const auth = req.headers.authorization;
  if (!auth) {
    return finish(
      401,
      'unauthorized',
      'missing bearer token: send Authorization: Bearer <token>',
      {},
      {
        'www-authenticate': 'Bearer realm="nrdot"',
      },
    );
  }
  const m = /^Bearer +(.+?) *$/i.exec(auth);
  if (!m) {
    return finish(
      401,
      'unauthorized',
      'the Authorization header must be Bearer <token>',
      {},
      {
        'www-authenticate': 'Bearer realm="nrdot", error="invalid_request"',
      },
    );
  }
  if (!tokenMatches(m[1]!, d.token)) {
    return finish(403, 'forbidden', 'wrong token');
  }

  let body: Buffer;
  try {
    body = await readBody(req, d.bodyLimit);
  } catch (e) {
    if (e instanceof BodyTooLarge) {
      res.shouldKeepAlive = false;
      return finish(413, 'too_large', `request body larger than ${e.limit} bytes`, {}, { connection: 'close' });
    }
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return finish(400, 'invalid', `body is not valid JSON: ${(e as Error).message}`);
  }
  const o = parsed as { profile?: unknown; reason?: unknown } | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o) || typeof o.profile !== 'string' || !o.profile) {
    return finish(400, 'invalid', 'body must be a JSON object {"profile": NAME, "reason": TEXT (optional)}');
  }
  if (o.reason !== undefined && typeof o.reason !== 'string') {
    return finish(400, 'invalid', '"reason" must be a string', { requested: o.profile });
  }
  const requested = o.profile;
  const reason = o.reason ? o.reason : undefined;
  const asked = { requested, ...(reason ? { reason } : {}) };
  const available = d.control.profile().available;
  if (!available.includes(requested)) {
    return finish(400, 'unknown_profile', unknownProfileMessage(requested, available), asked);
  }
  let result: { before: string; after: string };
  try {
    result = d.control.setProfile(requested, { who, ...(reason ? { reason } : {}) });
  } catch (e) {
    if (e instanceof NrdotError && e.code === ErrorCodes.UNKNOWN_PROFILE) {
      return finish(400, 'unknown_profile', unknownProfileMessage(requested, d.control.profile().available), asked);
    }
    d.logger.error({ err: e }, 'setProfile failed');
    return finish(500, 'error', `the agent could not switch profiles: ${(e as Error).message}`, asked);
  }
  return finish(200, 'ok', undefined, { ...asked, before: result.before, after: result.after });
}
