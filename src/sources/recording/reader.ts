/**
 * Reads a recording. `openRecording` checks the header and walks every frame
 * of scans.nrec once (lengths and CRCs), so a newer format, a truncated file
 * or a damaged record is reported before anything runs, naming the file and
 * the record; the scans are then decoded one at a time, in order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import {
  decodeFileHeader,
  decodeRecord,
  FILE_HEADER_BYTES,
  FRAME_HEADER_BYTES,
  frameCrc,
  HEADER_FILE,
  MAX_RECORD_BYTES,
  RECORDING_FORMAT,
  RECORDING_VERSION,
  type RecordedScan,
  RecordingFormatError,
  type RecordingHeader,
  type Reference,
  referenceOf,
  SCANS_FILE,
} from './format.js';

function bad(message: string): NrdotError {
  return new NrdotError(ErrorCodes.RECORDING, message);
}

/** recording.json of `dir`, checked (format name, version, byte order). */
export function readHeader(dir: string): RecordingHeader {
  const file = path.join(dir, HEADER_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw bad(
        fs.existsSync(dir)
          ? `--recording ${dir}: ${file} is missing (not an nrdot recording; make one with nrdot record --out DIR)`
          : `--recording ${dir}: no such directory`,
      );
    }
    throw bad(`${file}: cannot read: ${(e as Error).message}`);
  }
  let h: Partial<RecordingHeader>;
  try {
    h = JSON.parse(text) as Partial<RecordingHeader>;
  } catch (e) {
    throw bad(`${file}: not JSON (${(e as Error).message}): not an nrdot recording header`);
  }
  if (typeof h !== 'object' || h === null || h.format !== RECORDING_FORMAT) {
    throw bad(`${file}: 'format' is not '${RECORDING_FORMAT}': not an nrdot recording header`);
  }
  if (typeof h.version !== 'number' || !Number.isInteger(h.version) || h.version < 1) {
    throw bad(`${file}: 'version' is not a format version`);
  }
  if (h.version > RECORDING_VERSION) {
    throw bad(
      `${file}: recording format version ${h.version} (written by nrdot ${h.nrdot ?? 'unknown'}) is newer than this nrdot reads (version ${RECORDING_VERSION}); replay it with a newer nrdot`,
    );
  }
  if (h.endianness !== 'LE') throw bad(`${file}: 'endianness' ${String(h.endianness)} is not LE`);
  return h as RecordingHeader;
}

interface FrameIndex {
  off: number;
  len: number;
}

/** A recording opened for replay: header, frame index, and a cursor over its scans. */
export class RecordingReader {
  readonly dir: string;
  readonly header: RecordingHeader;
  readonly file: string;
  private readonly frames: FrameIndex[];
  private fd: number | undefined;
  private cursor = 0;
  private ref: Reference | undefined;

  private constructor(dir: string, header: RecordingHeader, file: string, frames: FrameIndex[], fd: number) {
    this.dir = dir;
    this.header = header;
    this.file = file;
    this.frames = frames;
    this.fd = fd;
  }

  /** Open and check `dir`; throws NrdotError(RECORDING, exit 2) naming the file and record at fault. */
  static open(dirArg: string): RecordingReader {
    const dir = path.resolve(dirArg);
    const header = readHeader(dir);
    const file = path.join(dir, SCANS_FILE);
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw bad(`${file}: cannot open the scans of the recording: ${(e as Error).message}`);
    }
    try {
      const frames = indexFrames(fd, file);
      return new RecordingReader(dir, header, file, frames, fd);
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  }

  /** scans in the recording */
  get scans(): number {
    return this.frames.length;
  }

  /** index (from 0) of the scan `next()` returns */
  get position(): number {
    return this.cursor;
  }

  get done(): boolean {
    return this.cursor >= this.frames.length;
  }

  /** The next scan, or undefined at the end. Throws NrdotError(RECORDING) naming a record that does not decode. */
  next(): RecordedScan | undefined {
    if (this.fd === undefined) throw new Error(`recording ${this.dir}: next() after close()`);
    const f = this.frames[this.cursor];
    if (!f) return undefined;
    const payload = Buffer.allocUnsafe(f.len);
    fs.readSync(this.fd, payload, 0, f.len, f.off + FRAME_HEADER_BYTES);
    let scan: RecordedScan;
    try {
      scan = decodeRecord(payload, this.ref);
    } catch (e) {
      if (e instanceof RecordingFormatError)
        throw recordError(this.file, this.cursor, f.off, `is corrupt: ${e.message}`);
      throw e;
    }
    this.ref = referenceOf(scan.batch);
    this.cursor++;
    return scan;
  }

  /** Back to the first scan. */
  rewind(): void {
    this.cursor = 0;
    this.ref = undefined;
  }

  /** Safe twice. */
  close(): void {
    if (this.fd === undefined) return;
    fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

function recordError(file: string, index: number, off: number, why: string): NrdotError {
  return bad(`${file}: record ${index + 1} (scan ${index + 1}, at byte ${off}) ${why}`);
}

const CHUNK = 1 << 20;

/** Walk every frame once: lengths within the file, CRCs holding. */
function indexFrames(fd: number, file: string): FrameIndex[] {
  const size = fs.fstatSync(fd).size;
  const head = Buffer.alloc(FILE_HEADER_BYTES);
  const got = fs.readSync(fd, head, 0, FILE_HEADER_BYTES, 0);
  let version: number;
  try {
    version = decodeFileHeader(head.subarray(0, got));
  } catch (e) {
    throw bad(`${file}: ${(e as Error).message}`);
  }
  if (version > RECORDING_VERSION) {
    throw bad(
      `${file}: recording format version ${version} is newer than this nrdot reads (version ${RECORDING_VERSION}); replay it with a newer nrdot`,
    );
  }
  const frames: FrameIndex[] = [];
  const fh = Buffer.alloc(FRAME_HEADER_BYTES);
  const buf = Buffer.allocUnsafe(CHUNK);
  let off = FILE_HEADER_BYTES;
  while (off < size) {
    const k = frames.length;
    if (size - off < FRAME_HEADER_BYTES) {
      throw recordError(
        file,
        k,
        off,
        `is truncated: ${size - off} bytes of a frame header (the recorder was cut off?)`,
      );
    }
    fs.readSync(fd, fh, 0, FRAME_HEADER_BYTES, off);
    const len = fh.readUInt32LE(0);
    const crc = fh.readUInt32LE(4);
    if (len > MAX_RECORD_BYTES) throw recordError(file, k, off, `is corrupt: a length of ${len} bytes`);
    const end = off + FRAME_HEADER_BYTES + len;
    if (end > size) {
      throw recordError(
        file,
        k,
        off,
        `is truncated: its frame says ${len} bytes, the file ends after ${size - off - FRAME_HEADER_BYTES} (the recorder was cut off?)`,
      );
    }
    let c = frameCrc(fh.subarray(0, 4), Buffer.alloc(0));
    for (let p = off + FRAME_HEADER_BYTES; p < end; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, end - p), p);
      if (n <= 0) throw recordError(file, k, off, 'is truncated: the file ended while reading it');
      c = crcMore(buf.subarray(0, n), c);
      p += n;
    }
    if (c !== crc) throw recordError(file, k, off, 'is corrupt: its CRC does not match');
    frames.push({ off, len });
    off = end;
  }
  if (frames.length === 0) throw bad(`${file}: the recording holds no scans`);
  return frames;
}

function crcMore(b: Uint8Array, c: number): number {
  return zlib.crc32(b, c) >>> 0;
}
