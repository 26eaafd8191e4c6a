/** `--listen HOST:PORT` values and what the operating system says about them. */
import { ErrorCodes, errnoOf, NrdotError } from '../core/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * `127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:0` (port 0: the system picks a
 * free port). `off` gives null. Anything else is a usage error naming the
 * value.
 */
export function parseListen(spec: string, flag = '--listen'): ListenAddress | null {
  const s = spec.trim();
  if (s === 'off') return null;
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]\s]+):(\d+)$/.exec(s);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port > 65535) {
    throw new NrdotError(
      ErrorCodes.USAGE,
      `${flag} expects HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464, 0.0.0.0:9464; port 0 picks a free port) or off, got '${spec}'`,
    );
  }
  return { host: m[1]!, port };
}

/** Only this machine can reach the address. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

/** `host:port`, bracketing an IPv6 address. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A listen failure as an error that names the address and what to do. */
export function listenError(e: unknown, addr: ListenAddress, flag = '--listen'): NrdotError {
  const where = formatHostPort(addr.host, addr.port);
  const code = errnoOf(e);
  let why: string;
  switch (code) {
    case 'EADDRINUSE':
      why = `the address is already in use (another nrdot agent?); pick another with ${flag} HOST:PORT, or ${flag} off`;
      break;
    case 'EACCES':
      why = 'permission denied (ports below 1024 need privileges)';
      break;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      why = 'no such local address on this host';
      break;
    default:
      why = code ?? String(e);
  }
  return new NrdotError(ErrorCodes.RUNTIME, `cannot listen on ${where}: ${why}`, { cause: e });
}
