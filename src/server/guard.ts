/**
 * What both HTTP servers (the control server and the OTLP receiver) do
 * against a hostile network:
 *
 * - a connection cap, sized from the configured `max_connections` and the
 *   process's file descriptor limit so that a flood can never take the fds
 *   /health and the exporters need. At the cap, the oldest connections with
 *   no request in flight (idle keep-alive, or a client that never sent its
 *   headers) are closed to make room, so a real client still gets in; only
 *   when every connection is busy is the new one refused. One warning when
 *   the cap is first reached (per streak), one info line when it eases.
 * - accept errors (EMFILE when something else took the fds) logged once per
 *   minute instead of crashing or going silent.
 * - a Host check against DNS rebinding: a web page on evil.example whose
 *   name resolves to 127.0.0.1 makes the browser send `Host: evil.example`,
 *   so requests are answered only for loopback names (localhost,
 *   *.localhost), IP literals (a page can only send those from its own
 *   origin), this host's name, and `allowed_hosts` (exact names, `.suffix`
 *   for a domain and its subdomains, or `*` for any).
 *
 * The timeouts live with each server (they differ); see http.ts and
 * receiver/server.ts.
 */
import * as fs from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { isIP, type Socket } from 'node:net';
import * as os from 'node:os';
import type { Logger } from '../core/log.js';

/** fds kept for everything but the servers (libuv, logs, queue files, exporter sockets, workers). */
const FD_RESERVE = 96;

/** The soft RLIMIT_NOFILE of this process (from /proc/self/limits), or undefined when unknown or unlimited. */
export function fdSoftLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The connection cap: the configured value, but never more than `share` of
 * the fds left after the reserve (at least 8), so both servers together stay
 * within the limit.
 */
export function connectionCap(configured: number, share: number, softLimit = fdSoftLimit()): number {
  if (softLimit === undefined) return configured;
  return Math.max(8, Math.min(configured, Math.floor((softLimit - FD_RESERVE) * share)));
}

export interface GuardOptions {
  /** 'control server' or 'otlp receiver', in log lines */
  name: string;
  /** connections at once (already capped by connectionCap) */
  maxConnections: number;
  logger: Logger;
  now?: () => number;
}

export interface ConnectionStats {
  open: number;
  max: number;
  /** idle connections closed to make room */
  shed: number;
  /** new connections refused because every open one was busy */
  refused: number;
}

export interface ConnectionGuard {
  stats(): ConnectionStats;
  /**
   * For shutdown, after server.close(): close every connection with no
   * request in flight now, and the others once their answer is sent. (Node's
   * closeIdleConnections() leaves connections that never sent a request, so
   * one silent client would hold close() forever.)
   */
  closeIdle(): void;
}

/** Enforce the cap on `server`. */
export function guardConnections(server: Server, o: GuardOptions): ConnectionGuard {
  const now = o.now ?? Date.now;
  const open = new Set<Socket>(); // insertion order = age
  const busy = new Set<Socket>();
  let shed = 0;
  let refused = 0;
  let streak: { shed: number; refused: number } | undefined;
  let lastAcceptLog = Number.NEGATIVE_INFINITY;
  let acceptErrors = 0;
  let closing = false;

  server.on('request', (req: IncomingMessage, res) => {
    const s = req.socket;
    busy.add(s);
    if (closing) res.shouldKeepAlive = false;
    res.once('close', () => {
      busy.delete(s);
      if (closing) s.destroySoon();
    });
  });
  server.on('connection', (sock: Socket) => {
    open.add(sock);
    sock.once('close', () => {
      open.delete(sock);
      busy.delete(sock);
      if (streak && open.size < o.maxConnections * 0.75) {
        o.logger.info(
          { server: o.name, open: open.size, maxConnections: o.maxConnections, ...streak },
          `${o.name}: connections below the limit again`,
        );
        streak = undefined;
      }
    });
    if (open.size <= o.maxConnections) return;
    if (!streak) {
      streak = { shed: 0, refused: 0 };
      o.logger.warn(
        { server: o.name, maxConnections: o.maxConnections, fdLimit: fdSoftLimit() },
        `${o.name}: connection limit reached; closing the oldest idle connections to make room (a flood or a leaking client?)`,
      );
    }
    for (const old of open) {
      if (open.size <= o.maxConnections) break;
      if (old === sock || busy.has(old)) continue;
      open.delete(old);
      old.destroy();
      shed++;
      streak.shed++;
    }
    if (open.size > o.maxConnections) {
      open.delete(sock);
      sock.destroy();
      refused++;
      streak.refused++;
    }
  });
  server.on('error', (e: NodeJS.ErrnoException) => {
    // after listen, only accept() errors arrive here (EMFILE, ENFILE, ENOMEM)
    acceptErrors++;
    if (now() - lastAcceptLog < 60_000) return;
    lastAcceptLog = now();
    o.logger.error(
      { server: o.name, err: e.message, code: e.code, open: open.size, fdLimit: fdSoftLimit(), acceptErrors },
      `${o.name}: cannot accept connections (${e.code ?? 'error'}); out of file descriptors?`,
    );
  });
  return {
    stats: () => ({ open: open.size, max: o.maxConnections, shed, refused }),
    closeIdle() {
      closing = true;
      for (const s of open) if (!busy.has(s)) s.destroy();
    },
  };
}

/** The host part of a Host header (`[::1]:9464` → `::1`), lower-case, without a trailing dot. */
export function hostName(header: string): string {
  let h = header.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end > 0 ? h.slice(1, end) : h;
  } else {
    const colon = h.lastIndexOf(':');
    if (colon >= 0 && h.indexOf(':') === colon) h = h.slice(0, colon);
  }
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/**
 * A Host check: returns undefined when the request may be served, else the
 * name it was refused for. A request without Host (HTTP/1.0) is served.
 */
export function hostChecker(allowed: readonly string[]): (req: IncomingMessage) => string | undefined {
  const names = new Set<string>(['localhost']);
  const suffixes = ['.localhost'];
  let any = false;
  const self = os.hostname().toLowerCase();
  if (self) {
    names.add(self);
    names.add(self.split('.')[0]!);
  }
  for (const a of allowed) {
    const n = a.trim().toLowerCase();
    if (n === '*') any = true;
    else if (n.startsWith('.')) suffixes.push(n);
    else if (n) names.add(hostName(n));
  }
  return (req) => {
    if (any) return undefined;
    const raw = req.headers.host;
    if (raw === undefined || raw === '') return undefined;
    const h = hostName(raw);
    if (names.has(h) || isIP(h) !== 0) return undefined;
    for (const s of suffixes) if (h.endsWith(s) || h === s.slice(1)) return undefined;
    return h;
  };
}

/** Logs refused Host names at most once per minute per name (a rebinding page retries). */
export function hostRefusalLogger(name: string, key: string, logger: Logger, now: () => number = Date.now) {
  const last = new Map<string, number>();
  let refused = 0;
  return {
    note(host: string, remote: string | undefined): void {
      refused++;
      const t = last.get(host);
      if (t !== undefined && now() - t < 60_000) return;
      if (last.size > 1000) last.clear();
      last.set(host, now());
      logger.warn(
        { server: name, host, remote, refusedTotal: refused },
        `${name}: refused a request for Host '${host}' (not a loopback or configured name; DNS rebinding?); allow it with ${key}`,
      );
    },
    get refused() {
      return refused;
    },
  };
}
