/**
 * PUT /api/profile: switch the cost profile, guarded by a bearer token.
 * Every attempt, granted or refused, goes to the audit log and the log,
 * except attempts from an address blocked for failing too often
 * (auth-limit.ts): those get 429 and one summary line per block. The audit's
 * "who" is the token's identity; the X-Nrdot-User header is only recorded,
 * as `claimed_by`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { positiveDurationMs } from '../config/duration.js';
import { unknownProfile } from '../config/unknown-profile.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { AuditEntry, AuditLog, AuditOutcome } from './audit.js';
import type { AuthLimiter } from './auth-limit.js';
import { BodyTooLarge, readBody, sendError, sendJson } from './respond.js';
import { checkBearer } from './token.js';
import type { AgentControl } from './types.js';

export interface ProfileApiDeps {
  control: AgentControl;
  token: string | undefined;
  /** who holds the token (tokenIdentity()), the audit's "who" for granted requests */
  identity: string;
  limiter: AuthLimiter;
  audit: AuditLog | undefined;
  logger: Logger;
  bodyLimit: number;
  /** wall clock for audit lines (ms since the epoch) */
  wallClock: () => number;
}

/** The X-Nrdot-User header, printable ASCII, at most 64 characters: what the client claims, unverified. */
export function claimedBy(req: IncomingMessage): string | undefined {
  const raw = req.headers['x-nrdot-user'];
  const user = (Array.isArray(raw) ? raw[0] : raw)?.replace(/[^\x21-\x7e]/g, '').slice(0, 64);
  return user || undefined;
}

export const UNAUTHENTICATED = 'unauthenticated';

/** One audit line per rate-limit block that ended: how many attempts it refused. */
export async function auditBlocks(
  d: Pick<ProfileApiDeps, 'limiter' | 'audit' | 'wallClock' | 'control' | 'logger'>,
  all = false,
): Promise<void> {
  for (const b of d.limiter.ended(all)) {
    const current = d.control.profile().active;
    const entry: AuditEntry = {
      time: new Date(d.wallClock()).toISOString(),
      who: UNAUTHENTICATED,
      remote: b.remote,
      action: 'profile.set',
      before: current,
      after: current,
      outcome: 'rate_limited',
      status: 429,
      count: b.refused,
      from: new Date(b.fromMs).toISOString(),
      until: new Date(b.untilMs).toISOString(),
    };
    if (d.audit) await d.audit.append(entry);
    d.logger.warn(
      { audit: entry },
      `${b.refused} profile change attempts from ${b.remote} refused while it was blocked`,
    );
  }
}

export async function putProfile(req: IncomingMessage, res: ServerResponse, d: ProfileApiDeps): Promise<void> {
  const remote = req.socket.remoteAddress ?? 'unknown';
  const claimed = claimedBy(req);
  let who = UNAUTHENTICATED;
  const current = d.control.profile().active;
  await auditBlocks(d);
  const gate = d.limiter.check(remote);
  if (!gate.ok) {
    if (gate.firstRefusal) {
      d.logger.warn(
        { remote, retryAfterSec: gate.retryAfterSec, maxFailures: d.limiter.maxFailures },
        'too many failed authentications from one address: its profile change requests are refused for a while (one audit line when the block ends)',
      );
    }
    res.shouldKeepAlive = false;
    sendError(res, 429, `too many failed authentications from ${remote}; retry after ${gate.retryAfterSec} s`, {
      'retry-after': String(gate.retryAfterSec),
    });
    return;
  }
  const finish = async (
    status: number,
    outcome: AuditOutcome,
    message: string | undefined,
    extra: Partial<AuditEntry> = {},
    headers: Record<string, string> = {},
  ) => {
    if (outcome === 'unauthorized' || outcome === 'forbidden') d.limiter.failed(remote);
    const entry: AuditEntry = {
      time: new Date(d.wallClock()).toISOString(),
      who,
      remote,
      ...(claimed ? { claimed_by: claimed } : {}),
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
  const refused = checkBearer(req.headers.authorization, d.token);
  if (refused) return finish(refused.status, refused.outcome, refused.message, {}, refused.headers);
  who = d.identity;
  d.limiter.succeeded(remote);

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
  const o = parsed as { profile?: unknown; reason?: unknown; expires_in?: unknown } | null;
  if (typeof o !== 'object' || o === null || Array.isArray(o) || typeof o.profile !== 'string' || !o.profile) {
    return finish(
      400,
      'invalid',
      'body must be a JSON object {"profile": NAME, "reason": TEXT (optional), "expires_in": DURATION (optional)}',
    );
  }
  const expiresInMs = o.expires_in === undefined ? undefined : positiveDurationMs(o.expires_in);
  if (o.expires_in !== undefined && expiresInMs === undefined) {
    return finish(400, 'invalid', '"expires_in" must be a duration like 30m or 2h', { requested: o.profile });
  }
  if (o.reason !== undefined && typeof o.reason !== 'string') {
    return finish(400, 'invalid', '"reason" must be a string', { requested: o.profile });
  }
  const requested = o.profile;
  const reason = o.reason ? o.reason : undefined;
  const asked = { requested, ...(reason ? { reason } : {}) };
  const available = d.control.profile().available;
  if (!available.includes(requested)) {
    return finish(400, 'unknown_profile', unknownProfile(requested, available, '').message, asked);
  }
  let result: { before: string; after: string };
  try {
    result = d.control.setProfile(requested, {
      who: claimed ? `${who} (claimed by ${claimed})` : who,
      ...(reason ? { reason } : {}),
      ...(expiresInMs !== undefined ? { expiresInMs } : {}),
    });
  } catch (e) {
    if (e instanceof NrdotError && e.code === ErrorCodes.UNKNOWN_PROFILE) {
      return finish(
        400,
        'unknown_profile',
        unknownProfile(requested, d.control.profile().available, '').message,
        asked,
      );
    }
    d.logger.error({ err: e }, 'setProfile failed');
    return finish(500, 'error', `the agent could not switch profiles: ${(e as Error).message}`, asked);
  }
  return finish(200, 'ok', undefined, { ...asked, before: result.before, after: result.after });
}
