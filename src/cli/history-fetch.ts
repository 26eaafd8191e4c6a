/**
 * Fetch a running agent's scan history (GET /api/history) into a directory
 * as a recording (recording.json + scans.nrec), for `optimize suggest --url`.
 * The body is streamed to disk; the recording is then opened with the same
 * checks as any other (format, version, every frame's CRC), so a damaged or
 * hostile answer is an error naming the URL, never a wrong search.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { HISTORY_CONTENT_TYPE, HISTORY_HEADER } from '../server/history-api.js';
import { HEADER_FILE, type RecordingHeader, SCANS_FILE } from '../sources/recording/format.js';
import { RecordingReader } from '../sources/recording/reader.js';
import { agentToken, baseUrl, expectOk, firstHeader, requestFailed } from './client.js';

const ROUTE = '/api/history';
/** the most an agent may hold (scan.history.max_mib at most 4096) and its file header */
const MAX_HISTORY_BYTES = 4096 * 1024 * 1024 + 16;

/**
 * Fetch `url`'s history into `dir` (which must exist and be empty). Returns
 * the recording's header; throws NrdotError with the CLI's exit codes: no
 * agent or a bad answer 1, a refused token 4, no history 1 with the agent's
 * reason.
 */
export async function fetchHistory(url: string, tokenFile: string | undefined, dir: string): Promise<RecordingHeader> {
  const { token, howTo } = agentToken(tokenFile);
  if (token === undefined) {
    throw new NrdotError(ErrorCodes.USAGE, `--url: the agent serves its scan history only with its token: ${howTo}`);
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
    const ct = firstHeader(res.headers['content-type']) ?? '';
    if (res.statusCode === 404 && ct.startsWith('application/json')) {
      // the route exists but the agent keeps no history: its reason, as it gave it
      let msg: unknown;
      try {
        msg = (JSON.parse(text) as { error?: unknown }).error;
      } catch {
        // not an nrdot answer: expectOk below says so
      }
      if (typeof msg === 'string' && !/^no such path/.test(msg)) {
        throw new NrdotError(ErrorCodes.RUNTIME, `${base.origin}: ${msg.slice(0, 300)}`);
      }
    }
    expectOk({ status: res.statusCode, contentType: ct, text }, url, ROUTE);
  }
  const ct = firstHeader(res.headers['content-type']) ?? '';
  const encoded = firstHeader(res.headers[HISTORY_HEADER]);
  if (!ct.startsWith(HISTORY_CONTENT_TYPE) || !encoded) {
    await res.body.dump();
    throw new NrdotError(ErrorCodes.RUNTIME, `${target.href} did not answer a scan history: is it an nrdot agent?`);
  }
  let h: RecordingHeader;
  try {
    h = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as RecordingHeader;
    const so = h.scanOptions as Partial<RecordingHeader['scanOptions']> | undefined;
    if (typeof so !== 'object' || so === null || (so.detail !== 'all' && so.detail !== 'exported')) {
      throw new Error('no scanOptions');
    }
  } catch {
    await res.body.dump();
    throw new NrdotError(ErrorCodes.RUNTIME, `${target.href}: the ${HISTORY_HEADER} header is not a recording header`);
  }
  const declared = Number(firstHeader(res.headers['content-length']));
  if (Number.isFinite(declared) && declared > MAX_HISTORY_BYTES) {
    await res.body.dump();
    throw new NrdotError(
      ErrorCodes.RUNTIME,
      `${target.href}: a history of ${declared} bytes is more than scan.history.max_mib allows (${MAX_HISTORY_BYTES})`,
    );
  }
  fs.writeFileSync(path.join(dir, HEADER_FILE), `${JSON.stringify(h, null, 2)}\n`, { mode: 0o600 });
  const file = path.join(dir, SCANS_FILE);
  let received = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      if (received > MAX_HISTORY_BYTES) done(new Error(`more than ${MAX_HISTORY_BYTES} bytes`));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(res.body, cap, fs.createWriteStream(file, { flags: 'wx', mode: 0o600 }));
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
