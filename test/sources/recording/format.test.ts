/**
 * The recording files: what is written decodes to what was scanned (columns
 * exact, owners, host files), unchanged processes cost next to nothing, and
 * every kind of bad recording is refused with exit 2 naming the file and the
 * record: newer format (header or scans file), truncated, corrupt, not a
 * recording, empty; a recording is never written over anything.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, EXIT_USAGE, NrdotError } from '../../../src/core/errors.js';
import { generateHost } from '../../../src/harness/synth/index.js';
import type { ProcessBatch } from '../../../src/sources/batch.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import {
  HEADER_FILE,
  RECORDING_VERSION,
  Recorder,
  RecordingEnded,
  RecordingReader,
  RecordingWriter,
  ReplayScanner,
  SCANS_FILE,
} from '../../../src/sources/recording/index.js';
import type { ProcessScanner, ScanOptions } from '../../../src/sources/scanner.js';
import { mkTmp, rmTmp } from '../../helpers/synth.js';
import { batchJson } from '../native-helpers.js';

let tmp: string;
let root: string;
let good: string;
const scanned: ProcessBatch[] = [];
const recordSizes: number[] = [];

/** The TypeScript reader, keeping a copy of every batch it returns. */
function keeping(procRoot: string): ProcessScanner {
  const r = new ProcfsReader({ procRoot });
  return {
    backend: r.backend,
    procRoot: r.procRoot,
    scan: (o?: ScanOptions) => {
      const b = r.scan(o);
      scanned.push(b);
      return b;
    },
    close: () => r.close(),
  };
}

beforeAll(async () => {
  tmp = mkTmp('nrdot-recording-');
  root = path.join(tmp, 'host');
  await generateHost({ out: root, processes: 300, seed: 9 });
  good = path.join(tmp, 'good');
  const rec = new Recorder({ out: good, scanner: keeping(root), intervalMs: 10_000 });
  for (let k = 0; k < 3; k++) recordSizes.push((await rec.scanOnce()).bytes);
  rec.close();
  rec.close(); // safe twice
});
afterAll(() => rmTmp(tmp));

/** A copy of the good recording to damage. */
function copy(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(good, dir, { recursive: true });
  return dir;
}

function refused(dir: string): NrdotError {
  try {
    const r = ReplayScanner.open(dir);
    for (;;) r.scan();
  } catch (e) {
    expect(e).toBeInstanceOf(NrdotError);
    // the clean end of a replay is not a refusal: damage must be found before it
    expect(e).not.toBeInstanceOf(RecordingEnded);
    const err = e as NrdotError;
    expect(err.code).toBe(ErrorCodes.RECORDING);
    expect(err.exitCode).toBe(EXIT_USAGE);
    return err;
  }
}

/** Offsets of each frame in a scans file. */
function frames(file: string): { off: number; len: number }[] {
  const b = fs.readFileSync(file);
  const out: { off: number; len: number }[] = [];
  for (let off = 16; off < b.length; ) {
    const len = b.readUInt32LE(off);
    out.push({ off, len });
    off += 8 + len;
  }
  return out;
}

describe('what is recorded', () => {
  it('decodes to the scanned batches, column for column, with owners and host files', () => {
    const r = RecordingReader.open(good);
    try {
      expect(r.header).toMatchObject({ format: 'nrdot-recording', version: 1, complete: true, scans: 3 });
      expect(r.header.hostname).toBe(scanned[0]!.host.hostname);
      for (let k = 0; k < 3; k++) {
        const s = r.next()!;
        expect(batchJson(s.batch)).toEqual(batchJson(scanned[k]!));
        expect(s.batch.scannedAtMs).toBe(scanned[k]!.scannedAtMs);
        expect(s.batch.freshOwner).toHaveLength(scanned[k]!.freshRows.length);
        expect(Object.keys(s.hostFiles).sort()).toEqual(['loadavg', 'meminfo', 'stat', 'uptime']);
        expect(s.hostFiles.uptime).toBe(fs.readFileSync(path.join(root, 'uptime'), 'latin1'));
      }
      expect(r.next()).toBeUndefined();
      expect(r.done).toBe(true);
    } finally {
      r.close();
      r.close();
    }
  });

  it('a scan of unchanged processes costs a fraction of the first one', () => {
    // the first scan carries every string; the later ones only the XOR of unchanged columns (zeros)
    expect(recordSizes[1]!).toBeLessThan(recordSizes[0]! / 5);
  });

  it('is never written over anything', () => {
    expect(() => new RecordingWriter({ dir: good, procRoot: root, backend: 'ts', intervalMs: 1000 })).toThrow(
      /--out .*good: the directory is not empty/,
    );
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x');
    expect(() => new RecordingWriter({ dir: file, procRoot: root, backend: 'ts', intervalMs: 1000 })).toThrow(
      /not a directory/,
    );
  });
});

describe('bad recordings: exit 2 naming the file and the record', () => {
  it('a newer format in recording.json', () => {
    const dir = copy('newer-header');
    const file = path.join(dir, HEADER_FILE);
    const h = JSON.parse(fs.readFileSync(file, 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...h, version: 7, nrdot: '9.0.0' }));
    const e = refused(dir);
    expect(e.message).toContain(file);
    expect(e.message).toMatch(/format version 7 \(written by nrdot 9\.0\.0\) is newer than this nrdot reads/);
  });

  it('a newer format in scans.nrec', () => {
    const dir = copy('newer-scans');
    const file = path.join(dir, SCANS_FILE);
    const b = fs.readFileSync(file);
    b.writeUInt32LE(RECORDING_VERSION + 1, 8);
    fs.writeFileSync(file, b);
    const e = refused(dir);
    expect(e.message).toContain(file);
    expect(e.message).toMatch(new RegExp(`format version ${RECORDING_VERSION + 1} is newer`));
  });

  it('a truncated last record', () => {
    const dir = copy('truncated');
    const file = path.join(dir, SCANS_FILE);
    const f = frames(file);
    fs.truncateSync(file, fs.statSync(file).size - 10);
    const e = refused(dir);
    expect(e.message).toContain(`${file}: record 3 (scan 3, at byte ${f[2]!.off}) is truncated`);
  });

  it('a record cut inside its frame header', () => {
    const dir = copy('torn-header');
    const file = path.join(dir, SCANS_FILE);
    const f = frames(file);
    fs.truncateSync(file, f[2]!.off + 3);
    expect(refused(dir).message).toMatch(/record 3 .* is truncated: 3 bytes of a frame header/);
  });

  it('a damaged byte inside a record', () => {
    const dir = copy('corrupt');
    const file = path.join(dir, SCANS_FILE);
    const f = frames(file);
    const b = fs.readFileSync(file);
    b[f[1]!.off + 8 + Math.floor(f[1]!.len / 2)]! ^= 0x5a;
    fs.writeFileSync(file, b);
    const e = refused(dir);
    expect(e.message).toContain(`${file}: record 2 (scan 2, at byte ${f[1]!.off}) is corrupt: its CRC does not match`);
  });

  it('a record whose frame holds but whose content does not decode', () => {
    const dir = copy('bad-content');
    const file = path.join(dir, SCANS_FILE);
    const f = frames(file);
    const b = fs.readFileSync(file);
    // replace record 1's payload with gzip of garbage, with a correct frame around it
    const payload = zlib.gzipSync(Buffer.from([1, 0, 0, 0, 0x7b]));
    const head = Buffer.alloc(8);
    head.writeUInt32LE(payload.length, 0);
    head.writeUInt32LE(zlib.crc32(payload, zlib.crc32(head.subarray(0, 4))) >>> 0, 4);
    fs.writeFileSync(file, Buffer.concat([b.subarray(0, f[0]!.off), head, payload, b.subarray(f[1]!.off)]));
    const e = refused(dir);
    expect(e.message).toMatch(/record 1 \(scan 1, at byte 16\) is corrupt: (meta|body)/);
  });

  it('not a recording, no such directory, no scans', () => {
    expect(refused(path.join(tmp, 'nowhere')).message).toMatch(/--recording .*nowhere: no such directory/);
    expect(refused(root).message).toMatch(/recording\.json is missing \(not an nrdot recording/);
    const notJson = copy('not-json');
    fs.writeFileSync(path.join(notJson, HEADER_FILE), '{');
    expect(refused(notJson).message).toMatch(/recording\.json: not JSON/);
    const other = copy('other-format');
    fs.writeFileSync(path.join(other, HEADER_FILE), JSON.stringify({ format: 'something-else', version: 1 }));
    expect(refused(other).message).toMatch(/'format' is not 'nrdot-recording'/);
    const magic = copy('bad-magic');
    fs.writeFileSync(path.join(magic, SCANS_FILE), 'NOTAREC!');
    expect(refused(magic).message).toMatch(/scans\.nrec: short file header|scans\.nrec: bad magic/);
    const empty = copy('empty');
    fs.writeFileSync(path.join(empty, SCANS_FILE), fs.readFileSync(path.join(good, SCANS_FILE)).subarray(0, 16));
    expect(refused(empty).message).toMatch(/scans\.nrec: the recording holds no scans/);
  });
});
