/**
 * The agent's scan history (src/sources/recording/history.ts): what it
 * serves reads back, scan for scan, as what the scanner returned (over a
 * changing synthetic host, with rows not read in detail, and after whole
 * segments left the front); it stays within its window and byte cap; command
 * lines are kept only as privacy.command_line lets them leave; and a byte
 * flipped anywhere in what it serves is refused by the reader, or changes
 * nothing it decodes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { advanceHost, generateHost } from '../../../src/harness/synth/index.js';
import { type ProcessBatch, UNKNOWN } from '../../../src/sources/batch.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { COLUMNS, HEADER_FILE, SCANS_FILE } from '../../../src/sources/recording/format.js';
import {
  type HistoryPolicy,
  HistoryScanner,
  type HistorySnapshot,
  ScanHistory,
} from '../../../src/sources/recording/history.js';
import { RecordingReader } from '../../../src/sources/recording/reader.js';
import { ReplayScanner } from '../../../src/sources/recording/replay.js';
import { CommandLinePrivacy } from '../../../src/util/privacy.js';
import { mkTmp, rmTmp } from '../../helpers/synth.js';

let tmp: string;
let host: string;
beforeAll(async () => {
  tmp = mkTmp('nrdot-history-');
  host = path.join(tmp, 'host');
  await generateHost({ out: host, processes: 300, seed: 41, shape: 'mixed' });
}, 60_000);
afterAll(() => rmTmp(tmp));
afterEach(() => {
  vi.useRealTimers();
});

const T0 = Date.UTC(2026, 5, 1, 8);
const KEEP = new CommandLinePrivacy('keep');

/** A copy of what a scan returned (the scanner reuses nothing here, but the test must not depend on it). */
function copyOf(b: ProcessBatch): ProcessBatch {
  const c = { ...b, freshName: [...b.freshName], freshCmdline: [...b.freshCmdline] };
  for (const [f] of COLUMNS) (c as Record<string, unknown>)[f] = b[f].slice(0, b.count);
  return c;
}

function writeSnapshot(s: HistorySnapshot, dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, HEADER_FILE), JSON.stringify(s.header));
  fs.writeFileSync(path.join(dir, SCANS_FILE), Buffer.concat(s.chunks));
}

/** Scan a changing host `n` times (10 s apart on a fake clock), detail for a pseudo-random half of the rows. */
async function scanInto(
  history: ScanHistory,
  n: number,
  seed: number,
  /** a reader the caller owns (kept open); default a new one, closed at the end */
  given?: ProcfsReader,
): Promise<ProcessBatch[]> {
  vi.useFakeTimers({ toFake: ['Date'] });
  const reader = given ?? new ProcfsReader({ procRoot: host });
  const scans: ProcessBatch[] = [];
  let x = seed;
  let detail: number[] | undefined;
  try {
    for (let k = 0; k < n; k++) {
      vi.setSystemTime(T0 + k * 10_000);
      const b = reader.scan(detail ? { detail } : {});
      history.append(b, { uptime: `${k}.00 0.00\n` });
      scans.push(copyOf(b));
      detail = [];
      for (let i = 0; i < b.count; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        if ((x >>> 16) % 2 === 0) detail.push(b.pid[i]!);
      }
      await advanceHost({ dir: host, seconds: 10, anomalies: k % 5 === 2 ? 1 : 0, churn: 0.05 });
    }
  } finally {
    if (!given) reader.close();
  }
  return scans;
}

function historyOf(windowMs: number, maxBytes: number, privacy = KEEP): ScanHistory {
  return new ScanHistory(
    { windowMs, maxBytes },
    { procRoot: host, backend: 'ts' },
    (uid) => `user${uid}`,
    () => ({ privacy, detail: 'exported', bounded: false }),
    () => 10_000,
  );
}

describe('ScanHistory', () => {
  it('serves the scans it holds exactly as the scanner returned them, after whole segments left the front', async () => {
    const history = historyOf(80_000, 64 << 20);
    const scans = await scanInto(history, 24, 7);
    const snap = history.snapshot()!;
    const st = history.stats;
    // 24 scans 10 s apart; segments start every window/8 = 10 s, and those wholly older than the window left
    expect(st.scans).toBeLessThan(24);
    expect(st.toMs! - st.fromMs!).toBeGreaterThanOrEqual(80_000 - 10_000);
    expect(st.toMs! - st.fromMs!).toBeLessThanOrEqual(80_000);
    expect(snap.header.scans).toBe(st.scans);
    expect(snap.header.version).toBe(2);
    expect(snap.header.source).toBe('agent');
    expect(snap.header.scanOptions.detail).toBe('exported');

    const dir = path.join(tmp, 'served');
    writeSnapshot(snap, dir);
    const r = RecordingReader.open(dir);
    expect(r.scans).toBe(st.scans);
    const first = scans.length - r.scans;
    const strings = new Map<number, string>();
    let detailless = 0;
    for (let k = 0; k < r.scans; k++) {
      const got = r.next()!.batch;
      const want = scans[first + k]!;
      expect(got.count, `scan ${first + k}`).toBe(want.count);
      expect(got.scannedAtMs).toBe(want.scannedAtMs);
      for (const [f] of COLUMNS) {
        const a = Array.from(got[f].subarray(0, got.count));
        const b = Array.from(want[f].subarray(0, want.count));
        if (f === 'uid') {
          // a key record names the uid read when the process was new where this scan did not read it
          for (let i = 0; i < b.length; i++) if (b[i] !== UNKNOWN) expect(a[i], `uid row ${i}`).toBe(b[i]);
        } else {
          expect(a, `${f} of scan ${first + k}`).toEqual(b);
        }
      }
      for (let i = 0; i < want.count; i++)
        if (want.readBytes[i] === UNKNOWN && want.volCtx[i] === UNKNOWN) detailless++;
      // every row's identity has its strings, from this record or one before it
      for (let j = 0; j < got.freshRows.length; j++) strings.set(got.pid[got.freshRows[j]!]!, got.freshCmdline[j]!);
      for (let i = 0; i < got.count; i++) expect(strings.has(got.pid[i]!), `strings of pid ${got.pid[i]}`).toBe(true);
    }
    r.close();
    expect(detailless).toBeGreaterThan(100);
    // and it replays as a scan source, counting the detail it lacks when asked for it
    const replay = ReplayScanner.open(dir);
    for (let k = 0; k < replay.scans; k++) replay.scan();
    expect(replay.detailAsked).toBeGreaterThan(0);
    expect(replay.detailMissing).toBeGreaterThan(0);
    expect(replay.detailMissing).toBeLessThan(replay.detailAsked);
    replay.close();
  }, 120_000);

  it('stays within its byte cap, dropping the oldest segments first', async () => {
    const history = historyOf(3_600_000, 64 << 10);
    await scanInto(history, 20, 3);
    const st = history.stats;
    expect(st.bytes).toBeLessThanOrEqual(64 << 10);
    expect(st.scans).toBeGreaterThan(0);
    expect(st.scans).toBeLessThan(20);
    expect(st.toMs).toBe(T0 + 19 * 10_000);
  }, 120_000);

  it('under memory pressure it gives up what it holds and keeps nothing, then starts again from a key record', async () => {
    const history = historyOf(3_600_000, 64 << 20);
    // one scanner throughout, as in the agent: after the first scan only new processes come with their strings
    const reader = new ProcfsReader({ procRoot: host });
    await scanInto(history, 3, 13, reader);
    expect(history.stats.scans).toBe(3);
    history.pause();
    expect(history.stats).toMatchObject({ scans: 0, bytes: 0, paused: 'memory' });
    expect(history.snapshot()).toBeUndefined();
    await scanInto(history, 2, 13, reader);
    expect(history.stats.scans).toBe(0);
    history.resume();
    const scans = await scanInto(history, 2, 13, reader);
    reader.close();
    expect(history.stats.scans).toBe(2);
    const dir = path.join(tmp, 'resumed');
    writeSnapshot(history.snapshot()!, dir);
    const r = RecordingReader.open(dir);
    // every row of the scan is in the key record, with its strings (most came before the pause)
    const first = r.next()!.batch;
    expect(first.count).toBe(scans[0]!.count);
    expect(first.freshRows.length).toBe(scans[0]!.count);
    expect(scans[0]!.freshRows.length).toBeLessThan(scans[0]!.count / 2);
    expect(r.next()!.batch.count).toBe(scans[1]!.count);
    r.close();
  }, 120_000);

  it('a privacy or scan change (a reload) drops what was held under the old one: no raw command line is served after it', async () => {
    const policy: HistoryPolicy = { privacy: KEEP, detail: 'all', bounded: false };
    const history = new ScanHistory(
      { windowMs: 3_600_000, maxBytes: 64 << 20 },
      { procRoot: host, backend: 'ts' },
      (uid) => `user${uid}`,
      () => policy,
      () => 10_000,
    );
    const reader = new ProcfsReader({ procRoot: host });
    const before = await scanInto(history, 3, 19, reader);
    expect(history.snapshot()!.header).toMatchObject({ commandLine: 'keep', scanOptions: { detail: 'all' } });
    policy.privacy = new CommandLinePrivacy('hash', Buffer.alloc(32, 3));
    policy.detail = 'exported';
    await scanInto(history, 2, 19, reader);
    reader.close();
    const snap = history.snapshot()!;
    // only the scans taken under the new policy, from a key record that names every row
    expect(snap.header).toMatchObject({ scans: 2, commandLine: 'hash', scanOptions: { detail: 'exported' } });
    const dir = path.join(tmp, 'reloaded');
    writeSnapshot(snap, dir);
    const r = RecordingReader.open(dir);
    const first = r.next()!.batch;
    r.close();
    expect(first.freshRows.length).toBe(first.count);
    const raw = before[0]!.freshCmdline.filter((c) => c.includes(' ') && c.length > 12);
    expect(raw.length).toBeGreaterThan(20);
    for (const c of raw) expect(first.freshCmdline.includes(c), c).toBe(false);
  }, 120_000);

  it('a failure of its own empties it and says why', async () => {
    const history = historyOf(3_600_000, 64 << 20);
    await scanInto(history, 2, 23);
    history.fail('the scan history failed and is off until restart: boom');
    expect(history.stats).toMatchObject({ scans: 0, bytes: 0, failed: expect.stringMatching(/boom/) });
    expect(history.snapshot()).toBeUndefined();
    await scanInto(history, 1, 23);
    expect(history.snapshot()).toBeUndefined();
  }, 60_000);

  it('wrapped around a scanner, its failure never fails a scan: it is emptied, off, and reported once', async () => {
    let calls = 0;
    const history = new ScanHistory(
      { windowMs: 3_600_000, maxBytes: 64 << 20 },
      { procRoot: host, backend: 'ts' },
      (uid) => `user${uid}`,
      () => {
        calls++;
        if (calls === 2) throw new Error('boom');
        return { privacy: KEEP, detail: 'all', bounded: false };
      },
      () => 10_000,
    );
    const errors: unknown[] = [];
    const scanner = new HistoryScanner(
      new ProcfsReader({ procRoot: host }),
      history,
      () => ({}),
      (e) => errors.push(e),
    );
    try {
      for (let k = 0; k < 3; k++) expect((await scanner.scan()).count).toBeGreaterThan(100);
    } finally {
      scanner.close();
    }
    expect(errors).toHaveLength(1);
    expect(history.failed).toMatch(/off until restart: boom/);
    expect(history.snapshot()).toBeUndefined();
    expect(calls).toBe(2);
  }, 60_000);

  it('keeps command lines only as privacy.command_line lets them leave the host', async () => {
    const salt = Buffer.alloc(32, 7);
    for (const mode of ['hash', 'drop', 'executable'] as const) {
      const history = historyOf(3_600_000, 64 << 20, new CommandLinePrivacy(mode, mode === 'hash' ? salt : undefined));
      const scans = await scanInto(history, 3, 11);
      const snap = history.snapshot()!;
      expect(snap.header.commandLine).toBe(mode);
      const raw = Buffer.concat(
        (() => {
          const dir = path.join(tmp, `priv-${mode}`);
          writeSnapshot(snap, dir);
          const r = RecordingReader.open(dir);
          const out: Buffer[] = [];
          for (let s = r.next(); s; s = r.next()) out.push(Buffer.from(s.batch.freshCmdline.join('\n')));
          r.close();
          return out;
        })(),
      ).toString();
      // command lines with arguments: none of them appears as it was read
      const withArgs = scans[0]!.freshCmdline.filter((c) => c.includes(' ') && c.length > 12);
      expect(withArgs.length).toBeGreaterThan(20);
      for (const c of withArgs) expect(raw.includes(c), `${mode}: ${c}`).toBe(false);
      // and not in the compressed bytes either (gunzip every frame's payload)
      const scansFile = Buffer.concat(snap.chunks);
      let off = 16;
      let plain = '';
      while (off < scansFile.length) {
        const len = scansFile.readUInt32LE(off);
        plain += zlib.gunzipSync(scansFile.subarray(off + 8, off + 8 + len)).toString('latin1');
        off += 8 + len;
      }
      for (const c of withArgs) expect(plain.includes(c), `${mode}: ${c} in a payload`).toBe(false);
    }
  }, 120_000);

  it('a byte flipped at any offset of what it serves is refused, or changes nothing decoded', async () => {
    const history = historyOf(3_600_000, 64 << 20);
    // a small host keeps the file small enough to flip every byte
    await scanInto(history, 3, 5);
    const snap = history.snapshot()!;
    const good = Buffer.concat(snap.chunks);
    const dir = path.join(tmp, 'flip');
    writeSnapshot(snap, dir);
    const decodeAll = (): string => {
      const r = RecordingReader.open(dir);
      try {
        const parts: string[] = [];
        for (let s = r.next(); s; s = r.next()) {
          parts.push(JSON.stringify([s.batch.count, s.batch.freshCmdline, Array.from(s.batch.rssBytes)]));
        }
        return parts.join('\n');
      } finally {
        r.close();
      }
    };
    const want = decodeAll();
    const file = path.join(dir, SCANS_FILE);
    let refused = 0;
    // every offset of the file header and the first frames, then a stride over the rest
    const offsets: number[] = [];
    for (let i = 0; i < good.length; i += i < 4096 ? 1 : 97) offsets.push(i);
    for (const i of offsets) {
      const bad = Buffer.from(good);
      bad[i] = bad[i]! ^ 0x5a;
      fs.writeFileSync(file, bad);
      let got: string | undefined;
      try {
        got = decodeAll();
      } catch (e) {
        expect((e as Error).message, `offset ${i}`).toMatch(/scans\.nrec/);
        refused++;
        continue;
      }
      // only the file header's reserved bytes may change without being noticed, and they change nothing
      expect(i, `offset ${i} was accepted`).toBeGreaterThanOrEqual(12);
      expect(i).toBeLessThan(16);
      expect(got).toBe(want);
    }
    expect(refused).toBeGreaterThan(offsets.length - 5);
  }, 300_000);
});
