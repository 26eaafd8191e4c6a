/**
 * Fetch a running agent's scan history (GET /api/history) into a directory
 * as a recording (recording.json + scans.nrec), for `optimize suggest --url`.
 * The body is streamed to disk; the recording is then opened with the same
 * checks as any other (format, version, every frame's CRC), so a damaged or
 * hostile answer is an error naming the URL, never a wrong search.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { defaultConfig } from '../config/load.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { HISTORY_CONTENT_TYPE, HISTORY_HEADER } from '../server/history-api.js';
import { loadToken } from '../server/token.js';
import { HEADER_FILE, type RecordingHeader, SCANS_FILE } from '../sources/recording/format.js';
import { RecordingReader } from '../sources/recording/reader.js';
import { baseUrl, expectOk, requestFailed } from './client.js';

const ROUTE = '/api/history';

function header(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

/**
 * Fetch `url`'s history into `dir` (which must exist and be empty). Returns
 * the recording's header; throws NrdotError with the CLI's exit codes: no
 * agent or a bad answer 1, a refused token 4, no history 1 with the agent's
 * reason.
 */
export async function fetchHistory(url: string, tokenFile: string | undefined, dir: string): Promise<RecordingHeader> {
  const env = defaultConfig().server.token_env;
  const token = loadToken({ file: tokenFile, env });
  if (token === undefined) {
    throw new NrdotError(
      ErrorCodes.USAGE,
      `--url: the agent serves its scan history only with its token: pass --token-file FILE${env ? ` or set ${env}` : ''}`,
    );
  }
  const base = baseUrl(url);
  const target = new URL(ROUTE, base);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(target, {
      headers: { authorization: `Bearer ${token}` },
      headersTimeout: 30_000,
      bodyTimeout: 60_000,
    });
  } catch (e) {
    throw requestFailed(e, target);
  }
  if (res.statusCode !== 200) {
    const text = await res.body.text();
    const ct = header(res.headers['content-type']) ?? '';
    if (res.statusCode === 404 && /keeps no scan history|no scan kept yet|does not scan|window is 0/.test(text)) {
      const msg = (JSON.parse(text) as { error: string }).error;
      throw new NrdotError(ErrorCodes.RUNTIME, `${base.origin}: ${msg}`);
    }
    expectOk({ status: res.statusCode, contentType: ct, text }, url, ROUTE);
  }
  const ct = header(res.headers['content-type']) ?? '';
  const encoded = header(res.headers[HISTORY_HEADER]);
  if (!ct.startsWith(HISTORY_CONTENT_TYPE) || !encoded) {
    await res.body.dump();
    throw new NrdotError(ErrorCodes.RUNTIME, `${target.href} did not answer a scan history: is it an nrdot agent?`);
  }
  let h: RecordingHeader;
  try {
    h = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as RecordingHeader;
  } catch {
    await res.body.dump();
    throw new NrdotError(ErrorCodes.RUNTIME, `${target.href}: the ${HISTORY_HEADER} header is not a recording header`);
  }
  fs.writeFileSync(path.join(dir, HEADER_FILE), `${JSON.stringify(h, null, 2)}\n`);
  const file = path.join(dir, SCANS_FILE);
  try {
    await pipeline(res.body, fs.createWriteStream(file, { flags: 'wx' }));
  } catch (e) {
    throw new NrdotError(ErrorCodes.RUNTIME, `${target.href}: the history stopped arriving: ${(e as Error).message}`);
  }
  // the same checks as a recording on disk (header, version, each frame's CRC): a damaged answer fails here
  try {
    RecordingReader.open(dir).close();
  } catch (e) {
    throw new NrdotError(ErrorCodes.RUNTIME, `${target.href}: the history does not read: ${(e as Error).message}`);
  }
  return h;
}
