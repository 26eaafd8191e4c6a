/**
 * HTTP client for the commands that talk to a running agent (status,
 * metrics, profile, config apply, rollback). Turns connection failures and refusals into NrdotErrors
 * with the exit codes of the CLI: no agent → 1, 400 → 2, 401/403 → 4.
 */
import * as os from 'node:os';
import { request } from 'undici';
import { defaultConfig } from '../config/load.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { formatHostPort, parseListen } from '../server/listen.js';
import { loadToken } from '../server/token.js';

/**
 * `--url`, or the address the agent listens on by default: `server.listen`
 * of the embedded config (a wildcard address is reached over loopback).
 */
export function agentUrl(url: string | undefined): string {
  if (url !== undefined) return url;
  const listen = defaultConfig().server.listen;
  const addr = parseListen(listen, 'server.listen');
  if (!addr || addr.port === 0) {
    throw new NrdotError(ErrorCodes.USAGE, `pass --url: the default server.listen is ${listen}, which names no port`);
  }
  const host = addr.host === '0.0.0.0' ? '127.0.0.1' : addr.host === '::' ? '::1' : addr.host;
  return `http://${formatHostPort(host, addr.port)}`;
}

export interface AgentReply {
  status: number;
  contentType: string;
  text: string;
}

export interface AgentRequest {
  method?: 'GET' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

export function baseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new NrdotError(ErrorCodes.USAGE, `--url expects http://HOST:PORT, got '${url}'`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new NrdotError(ErrorCodes.USAGE, `--url expects http://HOST:PORT, got '${url}'`);
  }
  return u;
}

/** The errno of a connection failure, looking through AggregateError and causes. */
function connectCode(e: unknown): string | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [e];
  while (queue.length > 0) {
    const x = queue.shift();
    if (!x || typeof x !== 'object' || seen.has(x)) continue;
    seen.add(x);
    const code = (x as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return code;
    queue.push((x as { cause?: unknown }).cause, ...((x as { errors?: unknown[] }).errors ?? []));
  }
  return undefined;
}

const NOT_ANSWERING = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** One request to the agent at `url` (the control server's origin). */
export async function agentRequest(url: string, path: string, opts: AgentRequest = {}): Promise<AgentReply> {
  const base = baseUrl(url);
  const target = new URL(path, base);
  const timeout = opts.timeoutMs ?? 10_000;
  try {
    const res = await request(target, {
      method: opts.method ?? 'GET',
      headers: opts.headers,
      body: opts.body,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const text = await res.body.text();
    return { status: res.statusCode, contentType: firstHeader(res.headers['content-type']) ?? '', text };
  } catch (e) {
    throw requestFailed(e, target);
  }
}

/** A request that got no answer: no agent at the address (exit 1, saying so), or why it failed. */
export function requestFailed(e: unknown, target: URL): NrdotError {
  const code = connectCode(e);
  if (code && NOT_ANSWERING.has(code)) {
    return new NrdotError(
      ErrorCodes.RUNTIME,
      `no nrdot agent answering at ${target.origin} (is \`nrdot run\` running with --listen?) (${code})`,
      { cause: e },
    );
  }
  return new NrdotError(ErrorCodes.RUNTIME, `request to the agent at ${target.href} failed: ${(e as Error).message}`, {
    cause: e,
  });
}

/** The first value of a response header (undici gives a list for a repeated one). */
export function firstHeader(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/**
 * The agent's token for a command (`--token-file`, or the variable
 * `server.token_env` names), and how to give one (for messages).
 */
export function agentToken(tokenFile: string | undefined): { token: string | undefined; howTo: string } {
  const env = defaultConfig().server.token_env;
  return { token: loadToken({ file: tokenFile, env }), howTo: `pass --token-file FILE${env ? ` or set ${env}` : ''}` };
}

/** The server's `{"error": ...}` message, or the start of the body. */
export function serverMessage(reply: AgentReply): string {
  try {
    const o = JSON.parse(reply.text) as { error?: unknown };
    if (typeof o?.error === 'string') return o.error;
  } catch {
    // not JSON
  }
  return reply.text.trim().slice(0, 200) || `HTTP ${reply.status}`;
}

/** Throws for anything but 2xx: 400 is exit 2, 401/403 exit 4, the rest exit 1. */
export function expectOk(reply: AgentReply, url: string, path: string): AgentReply {
  if (reply.status >= 200 && reply.status < 300) return reply;
  const msg = serverMessage(reply);
  if (reply.status === 401 || reply.status === 403) {
    throw new NrdotError(ErrorCodes.REFUSED, `the agent refused: ${msg} (HTTP ${reply.status})`);
  }
  if (reply.status === 400) {
    const code = /unknown profile/.test(msg) ? ErrorCodes.UNKNOWN_PROFILE : ErrorCodes.USAGE;
    throw new NrdotError(code, `the agent rejected the request: ${msg}`);
  }
  if (reply.status === 404) {
    throw new NrdotError(ErrorCodes.RUNTIME, `${url} answered 404 for ${path}: is it an nrdot agent?`);
  }
  throw new NrdotError(ErrorCodes.RUNTIME, `the agent answered HTTP ${reply.status} for ${path}: ${msg}`);
}

export async function agentJson<T>(url: string, path: string, opts: AgentRequest = {}): Promise<T> {
  const reply = expectOk(await agentRequest(url, path, opts), url, path);
  try {
    return JSON.parse(reply.text) as T;
  } catch {
    throw new NrdotError(ErrorCodes.RUNTIME, `${url}${path} did not answer JSON: is it an nrdot agent?`);
  }
}

function localUser(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined; // no user name: the agent records the address alone
  }
}

/**
 * A PUT that changes the running agent (`profile set`, `config apply`,
 * `rollback`): JSON `body`, the agent's token (`--token-file`, or the
 * variable `server.token_env` names), the local user as X-Nrdot-User. A 401
 * sent without a token says how to give one.
 */
export async function putToAgent<T>(
  url: string | undefined,
  route: string,
  body: unknown,
  tokenFile: string | undefined,
): Promise<T> {
  const { token, howTo } = agentToken(tokenFile);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const user = localUser();
  if (user) headers['x-nrdot-user'] = user;
  try {
    return await agentJson<T>(agentUrl(url), route, { method: 'PUT', headers, body: JSON.stringify(body) });
  } catch (e) {
    if (token === undefined && e instanceof NrdotError && /HTTP 401/.test(e.message)) {
      throw new NrdotError(e.code, `${e.message}; ${howTo}`);
    }
    throw e;
  }
}
