/**
 * The agent's HTTP control server (node:http):
 *
 *   GET /metrics                 Prometheus text format 0.0.4 (?format=json: the registry's JSON form)
 *   GET /health                  200 {"status":"ok"} while the process serves
 *   GET /health/ready            200 once the agent is ready, else 503
 *   GET /api/status              the agent's status JSON
 *   GET /api/history             recent scans as a recording (bearer token; see history-api.ts)
 *   GET /api/profile             {"active","available"}
 *   PUT /api/profile             switch profiles (bearer token; see profile-api.ts)
 *   PUT /api/config              apply a config (bearer token; see config-api.ts)
 *   PUT /api/config/rollback     roll back to a kept version or a time (bearer token)
 *
 * HEAD works wherever GET does. The server times its own requests into the
 * histogram `nrdot.http.request.duration` (route, method, code).
 *
 * Against a hostile network (guard.ts): a connection cap that closes idle
 * connections to make room, so /health answers through a flood; headers
 * within 10 s, a whole request within 30 s, idle keep-alive closed after
 * 5 s; and requests whose Host is not a loopback or configured name are
 * refused with 403 (DNS rebinding).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Logger, silentLogger } from '../core/log.js';
import type { AuditLog } from './audit.js';
import { AuthLimiter, type AuthLimitOptions } from './auth-limit.js';
import { CONFIG_BODY_LIMIT, putConfig, putRollback } from './config-api.js';
import { connectionCap, guardConnections, hostChecker, hostRefusalLogger } from './guard.js';
import { getHistory } from './history-api.js';
import { formatHostPort, isLoopback, type ListenAddress, listenError, parseListen } from './listen.js';
import { auditBlocks, putProfile } from './profile-api.js';
import type { Registry } from './registry.js';
import { DEFAULT_BODY_LIMIT, sendError, sendJson, sendText } from './respond.js';
import type { AgentControl } from './types.js';

export const HTTP_REQUEST_DURATION = 'nrdot.http.request.duration';
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface ControlServerOptions {
  /** `HOST:PORT`; port 0 picks a free port */
  listen: string;
  control: AgentControl;
  registry: Registry;
  /** bearer token for PUT /api/profile; without one, profile changes are refused */
  token?: string;
  /** who holds the token, the audit's "who" (tokenIdentity(); default 'token') */
  tokenIdentity?: string;
  /** rate limit of failed authentications per client address (auth-limit.ts) */
  authLimit?: AuthLimitOptions;
  /** the agent's audit log (one writer per file): every profile-change request is appended to it */
  audit?: AuditLog;
  logger?: Logger;
  /** largest request body accepted (default 64 KiB) */
  bodyLimit?: number;
  /** largest PUT /api/config body (a config in base64; default 1 MiB) */
  configBodyLimit?: number;
  /** monotonic milliseconds for request latency (default performance.now) */
  now?: () => number;
  /** wall clock for audit lines (default Date.now) */
  wallClock?: () => number;
  /** connections at once (default 64; capped by the fd limit) */
  maxConnections?: number;
  /** Host names served besides loopback names, IP literals and this host's name (server.allowed_hosts) */
  allowedHosts?: readonly string[];
}

export interface ControlServer {
  /** `http://HOST:PORT` with the port actually bound */
  url: string;
  address: ListenAddress;
  /** stop accepting, let requests in flight finish (up to 2 s), then close; safe to call twice */
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>;

export async function startControlServer(o: ControlServerOptions): Promise<ControlServer> {
  const addr = parseListen(o.listen);
  if (!addr) throw new Error("startControlServer: listen is 'off'; do not start the server");
  const logger = o.logger ?? silentLogger;
  const now = o.now ?? (() => performance.now());
  const { control, registry } = o;
  const audit = o.audit;
  const latency = registry.histogram(HTTP_REQUEST_DURATION, 'Time to answer a request to the control server.', {
    unit: 's',
    labelNames: ['route', 'method', 'code'],
  });
  const limiter = new AuthLimiter({ now: o.wallClock, ...o.authLimit });
  const profileDeps = {
    control,
    token: o.token,
    identity: o.tokenIdentity ?? 'token',
    limiter,
    audit,
    logger,
    bodyLimit: o.bodyLimit ?? DEFAULT_BODY_LIMIT,
    wallClock: o.wallClock ?? Date.now,
  };
  const configDeps = { ...profileDeps, bodyLimit: o.configBodyLimit ?? CONFIG_BODY_LIMIT };
  const historyDeps = { control, token: o.token, limiter, logger, sending: { count: 0 } };
  // a block's summary line is written soon after it ends, even if no request comes
  const blocks = setInterval(() => {
    auditBlocks(profileDeps).catch((e) => logger.error({ err: e }, 'could not audit a rate-limit block'));
  }, limiter.windowMs);
  blocks.unref();
  const families = control.processFamilies?.bind(control);
  const uncollect = families ? registry.collect(() => families()) : () => {};

  const routes: Record<string, Partial<Record<'GET' | 'PUT', Handler>>> = {
    '/metrics': {
      GET: (_req, res, url) => {
        if (url.searchParams.get('format') === 'json') sendJson(res, 200, registry.toJSON());
        else sendText(res, 200, PROMETHEUS_CONTENT_TYPE, registry.render());
      },
    },
    '/health': { GET: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
    '/health/ready': {
      GET: (_req, res) =>
        control.ready() ? sendJson(res, 200, { status: 'ready' }) : sendJson(res, 503, { status: 'not ready' }),
    },
    '/api/status': { GET: (_req, res) => sendJson(res, 200, control.status()) },
    '/api/history': { GET: (req, res) => getHistory(req, res, historyDeps) },
    '/api/profile': {
      GET: (_req, res) => sendJson(res, 200, control.profile()),
      PUT: (req, res) => putProfile(req, res, profileDeps),
    },
    '/api/config': { PUT: (req, res) => putConfig(req, res, configDeps) },
    '/api/config/rollback': { PUT: (req, res) => putRollback(req, res, configDeps) },
  };

  const checkHost = hostChecker(o.allowedHosts ?? []);
  const hostLog = hostRefusalLogger('control server', 'server.allowed_hosts', logger);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const started = now();
    const url = new URL(req.url ?? '/', 'http://nrdot.invalid');
    const badHost = checkHost(req);
    const table = !badHost && Object.hasOwn(routes, url.pathname) ? routes[url.pathname] : undefined;
    const route = badHost ? 'refused_host' : table ? url.pathname : 'unmatched';
    const method = req.method ?? 'GET';
    res.once('finish', () => {
      latency.record((now() - started) / 1000, { route, method, code: String(res.statusCode) });
    });
    if (badHost) {
      hostLog.note(badHost, req.socket.remoteAddress);
      return sendError(res, 403, `Host '${badHost}' is not served here; add it to server.allowed_hosts`);
    }
    if (!table) return sendError(res, 404, `no such path: ${url.pathname}`);
    const key = method === 'HEAD' ? 'GET' : method;
    const handler = key === 'GET' || key === 'PUT' ? table[key] : undefined;
    if (!handler) {
      const allow = Object.keys(table).flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m]));
      return sendError(res, 405, `${method} is not allowed on ${url.pathname}; allowed: ${allow.join(', ')}`, {
        allow: allow.join(', '),
      });
    }
    await handler(req, res, url);
  };

  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      logger.error({ err: e, path: req.url, method: req.method }, 'control server request failed');
      if (!res.headersSent) sendError(res, 500, `internal error: ${(e as Error)?.message ?? String(e)}`);
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.timeout = 30_000; // a socket with no traffic at all

  await new Promise<void>((resolve, reject) => {
    const onError = (e: unknown) => reject(listenError(e, addr));
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const connections = guardConnections(server, {
    name: 'control server',
    maxConnections: connectionCap(o.maxConnections ?? 64, 0.25),
    logger,
  });

  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const url = `http://${formatHostPort(address.host, address.port)}`;
  logger.debug({ url, profileChanges: o.token !== undefined, auditLog: audit?.file }, 'control server listening');
  if (!isLoopback(addr.host)) {
    logger.warn(
      { listen: formatHostPort(addr.host, address.port) },
      'control server listens on a non-loopback address: anyone who can reach it can read /metrics and /api/status (profile changes still need the token)',
    );
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    address,
    close() {
      closing ??= new Promise<void>((resolve) => {
        uncollect();
        clearInterval(blocks);
        const force = setTimeout(() => server.closeAllConnections(), 2000);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          // blocks still running at exit get their summary line too
          auditBlocks(profileDeps, true).then(resolve, (e) => {
            logger.error({ err: e }, 'could not audit a rate-limit block');
            resolve();
          });
        });
        connections.closeIdle();
      });
      return closing;
    },
  };
}
