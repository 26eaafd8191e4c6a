/**
 * The position file of a lane, `pos.json`:
 *
 *   {"format":1,"lane":"critical","next":120,"end":131,"crc":305419896}
 *
 * `next` is the first un-acked seq (everything below was delivered), `end`
 * the lane's next seq when the file was written (every seq below it was
 * accepted), and `crc` a CRC32 of `lane next end`, so a changed digit is
 * caught rather than trusted. Files written before `end` and `crc` existed
 * hold only `next` and are still read.
 */
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { errnoOf } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { QueueIo } from './io.js';
import type { Lane } from './types.js';

export const POSITION_FILE = 'pos.json';

export type Position =
  | { kind: 'missing' }
  /** unreadable or corrupt (already logged) */
  | { kind: 'bad' }
  | { kind: 'ok'; next: number; end: number | undefined; file: string };

const crcOf = (lane: Lane, next: number, end: number) => zlib.crc32(`${lane} ${next} ${end}`) >>> 0;

export function encodePosition(lane: Lane, next: number, end: number): Uint8Array {
  const crc = crcOf(lane, next, end);
  return Buffer.from(`${JSON.stringify({ format: 1, lane, next, end, crc })}\n`, 'utf8');
}

const seqLike = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Read a lane's position file; a bad one is logged here (naming the file). */
export async function readPosition(io: QueueIo, dir: string, lane: Lane, log: Logger): Promise<Position> {
  const file = path.join(dir, POSITION_FILE);
  let text: string;
  try {
    text = Buffer.from(await io.readFile(file)).toString('utf8');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return { kind: 'missing' };
    log.warn(
      { file, err: String(e) },
      'queue position file unreadable; the lane is delivered again from its oldest segment',
    );
    return { kind: 'bad' };
  }
  try {
    const j = JSON.parse(text) as { format?: unknown; lane?: unknown; next?: unknown; end?: unknown; crc?: unknown };
    if (j.format === 1 && j.lane === lane && seqLike(j.next)) {
      if (j.end === undefined && j.crc === undefined) return { kind: 'ok', next: j.next, end: undefined, file };
      if (seqLike(j.end) && j.end >= j.next && j.crc === crcOf(lane, j.next, j.end)) {
        return { kind: 'ok', next: j.next, end: j.end, file };
      }
    }
  } catch {
    // reported below
  }
  log.warn({ file }, 'queue position file is corrupt; the lane is delivered again from its oldest segment');
  return { kind: 'bad' };
}
