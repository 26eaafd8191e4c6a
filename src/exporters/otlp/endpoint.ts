/**
 * OTLP/HTTP endpoint and header rules, apart from the sender (which loads
 * undici), so config validation can apply them without opening a socket.
 */
import { ErrorCodes, NrdotError } from '../../core/errors.js';

export const OTLP_METRICS_PATH = 'v1/metrics';
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE_BAD_RE = /[\r\n\0]/;

/**
 * The endpoint rule: a URL whose path is empty or ends in `/` is a base
 * endpoint and gets `v1/metrics` appended; any other path is the full
 * metrics endpoint. Throws TypeError when it is not an http(s) URL;
 * credentials in the URL are refused (use headers).
 */
export function resolveOtlpEndpoint(url: string): URL {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new TypeError(`scheme ${u.protocol.replace(/:$/, '')} is not supported (use http:// or https://)`);
  }
  if (u.username || u.password) {
    throw new TypeError('credentials in the URL are not supported; send them as headers (e.g. api-key)');
  }
  u.hash = '';
  if (u.pathname === '' || u.pathname.endsWith('/')) u.pathname = `${u.pathname}${OTLP_METRICS_PATH}`;
  return u;
}

/** The endpoint as it may appear in logs: origin and path, no query (it may carry a key). */
export function endpointLabel(u: URL): string {
  return `${u.origin}${u.pathname}`;
}

/**
 * Validate user headers and lower-case their names. Throws
 * NrdotError(BAD_EXPORT_SPEC) naming the header (never its value).
 */
export function normalizeHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    const problem = headerProblem(name, value);
    if (problem) throw new NrdotError(ErrorCodes.BAD_EXPORT_SPEC, `OTLP header "${name}": ${problem}`);
    out[name.toLowerCase()] = value;
  }
  return out;
}

/**
 * What is wrong with an HTTP request header, or undefined: the name must be
 * an RFC 9110 token, the value a string without CR, LF or NUL. Never quotes
 * the value (it may be a secret). The one rule for every header nrdot sends
 * (export_options.otlp.headers, control.notify, opamp.headers).
 */
export function headerProblem(name: string, value: unknown): string | undefined {
  if (!HEADER_NAME_RE.test(name)) return 'not a valid HTTP header name';
  if (typeof value !== 'string' || HEADER_VALUE_BAD_RE.test(value)) return 'a header value cannot hold CR, LF or NUL';
  return undefined;
}
