/**
 * GET /api/history: the agent's recent scans (scan.history) as a recording,
 * for `nrdot optimize suggest --url`. It holds every process's names, owners,
 * cgroups and command lines (as privacy.command_line lets them leave), so it
 * needs the bearer token, like the routes that change the agent, and failed
 * attempts count against the same per-address limit.
 *
 * The answer: `content-type: application/vnd.nrdot.recording`, the body is the
 * recording's scans file (scans.nrec), and the header `x-nrdot-recording` is
 * its recording.json, base64url-encoded JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../core/log.js';
import type { AuthLimiter } from './auth-limit.js';
import { sendError } from './respond.js';
import { checkBearer } from './token.js';
import type { AgentControl } from './types.js';

export const HISTORY_CONTENT_TYPE = 'application/vnd.nrdot.recording';
/** histories one server sends at once (each holds its snapshot's buffers until sent) */
const MAX_IN_FLIGHT = 2;
export const HISTORY_HEADER = 'x-nrdot-recording';

export interface HistoryApiDeps {
  control: AgentControl;
  token: string | undefined;
  limiter: AuthLimiter;
  logger: Logger;
  /** the server's count of histories being sent */
  sending: { count: number };
}

function answer(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): undefined {
  sendError(res, status, message, headers);
  return undefined;
}

export function getHistory(req: IncomingMessage, res: ServerResponse, d: HistoryApiDeps): undefined {
  const remote = req.socket.remoteAddress ?? 'unknown';
  const gate = d.limiter.check(remote);
  if (!gate.ok) {
    res.shouldKeepAlive = false;
    return answer(res, 429, `too many failed authentications from ${remote}; retry after ${gate.retryAfterSec} s`, {
      'retry-after': String(gate.retryAfterSec),
    });
  }
  const refuse = (status: number, message: string, headers: Record<string, string> = {}): undefined => {
    if (status === 401 || (status === 403 && d.token !== undefined)) d.limiter.failed(remote);
    d.logger.warn({ remote, status }, `GET /api/history refused: ${message}`);
    return answer(res, status, message, headers);
  };
  if (d.token === undefined) {
    return refuse(
      403,
      'the scan history is served only with a token configured (start the agent with NRDOT_TOKEN or a token file): it holds every process name and command line',
    );
  }
  const refused = checkBearer(req.headers.authorization, d.token);
  if (refused) return refuse(refused.status, refused.message, refused.headers);
  d.limiter.succeeded(remote);
  const h = d.control.history?.();
  if (!h) return answer(res, 404, 'this agent keeps no scan history');
  if (!h.snapshot) return answer(res, 404, h.off ?? 'this agent keeps no scan history');
  if (d.sending.count >= MAX_IN_FLIGHT) {
    res.shouldKeepAlive = false;
    return answer(res, 503, `the scan history is being sent to ${MAX_IN_FLIGHT} clients already; retry shortly`, {
      'retry-after': '5',
    });
  }
  const { header, chunks, bytes } = h.snapshot;
  res.writeHead(200, {
    'content-type': HISTORY_CONTENT_TYPE,
    'content-length': bytes,
    'cache-control': 'no-store',
    [HISTORY_HEADER]: Buffer.from(JSON.stringify(header), 'utf8').toString('base64url'),
  });
  if (req.method === 'HEAD') {
    res.end();
    return undefined;
  }
  // the history's own buffers, written as the client takes them (a slow reader holds this one snapshot, no more)
  d.sending.count++;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    d.sending.count--;
  };
  res.once('close', finish);
  pipeline(Readable.from(chunks, { objectMode: false }), res).then(finish, finish);
  return undefined;
}
