/**
 * A running agent's scan history: the scans of the last `scan.history.window`
 * (at most `max_mib` of them, compressed), kept in memory in the recording
 * format (format.ts, version 2), so `nrdot optimize suggest --url` can search
 * profiles and knobs against what this host really ran, without a separate
 * `nrdot record`.
 *
 * `HistoryScanner` wraps the agent's scanner: every scan passes through
 * unchanged and is appended to the history. The history is a list of
 * segments; each starts with a key record (every row with its strings, no
 * reference), the others are stored against the scan before, as `nrdot
 * record` stores them. Whole segments leave from the front once the oldest
 * is older than the window or the total is over the byte cap, so what is
 * served always decodes from its first record.
 *
 * It holds what the agent read: with `scan.detail: exported` (the default),
 * the `status`, `io` and `fd/` values of processes the agent did not export
 * are UNKNOWN in the history, as they were in the agent; the header says so,
 * and replay counts the rows asked for in detail that the history lacks
 * (ReplayScanner.detailMissing). Command lines are stored as
 * `privacy.command_line` says they may leave the host (hash, executable,
 * drop), the mode named in the header.
 */
import * as os from 'node:os';
import { PidRows } from '../../core/pid-rows.js';
import type { CommandLinePrivacy } from '../../util/privacy.js';
import { VERSION } from '../../util/version.js';
import { allocBatch, type ProcessBatch, UNKNOWN } from '../batch.js';
import type { ProcessScanner, ScanOptions } from '../scanner.js';
import {
  COLUMNS,
  type EncodeScratch,
  encodeFileHeader,
  encodeFrame,
  encodeRecord,
  FILE_HEADER_BYTES,
  HOST_FILES,
  type HostFiles,
  type IdentityStrings,
  RECORDING_FORMAT,
  RECORDING_VERSION,
  type RecordingHeader,
  type Reference,
  referenceOf,
} from './format.js';

export interface HistoryLimits {
  /** how far back the history reaches (ms); 0 = no history */
  windowMs: number;
  /** largest total of stored records (bytes) */
  maxBytes: number;
}

export interface HistorySettings extends HistoryLimits {
  /** gzip level of each record (default 1: the agent's cycle pays for it) */
  level?: number;
}

/**
 * What the agent's config says about what a scan holds and what may leave
 * the host, read at every scan (a hot reload may change it). When it
 * changes, what is held is dropped: one recording never mixes two.
 */
export interface HistoryPolicy {
  /** privacy.command_line: command lines are stored in the form it lets leave */
  privacy: CommandLinePrivacy;
  /** scan.detail, for the header */
  detail: 'all' | 'exported';
  /** any scan bound set, for the header */
  bounded: boolean;
}

interface Segment {
  frames: Buffer[];
  bytes: number;
  /** bytes of its key record (the first frame) */
  keyBytes: number;
  firstAtMs: number;
  lastAtMs: number;
}

/** what the history keeps of an identity: its strings (command line as privacy allows) and the uid read when it was new */
interface Identity extends IdentityStrings {
  uid: number;
}

function policyKey(p: HistoryPolicy): string {
  return `${p.privacy.mode}|${p.detail}|${p.bounded}`;
}

/** What GET /api/history serves: the header and the scans file, whole. */
export interface HistorySnapshot {
  header: RecordingHeader;
  /** the scans file: file header, then every frame */
  chunks: Buffer[];
  bytes: number;
}

export interface HistoryStats {
  scans: number;
  /** emptied and keeping nothing while the memory governor is above its normal tier */
  paused?: 'memory';
  /** emptied and off until restart: what failed */
  failed?: string;
  /** bytes of the stored records */
  bytes: number;
  /** time of the oldest and newest scan held (ms since the epoch); absent while empty */
  fromMs?: number;
  toMs?: number;
  windowMs: number;
  maxBytes: number;
}

export class ScanHistory {
  private readonly segments: Segment[] = [];
  private ref: Reference | undefined;
  private readonly ids = new Map<number, Identity>();
  private bytes = 0;
  private scans = 0;
  private paused = false;
  /** why the history stopped for good (a failure inside it), served as the reason there is none */
  private failure: string | undefined;
  /** policyKey() of what is held, and the policy it was held under */
  private heldUnder = '';
  private held: HistoryPolicy | undefined;
  /** where each record's body is built before it is compressed */
  private readonly scratch: EncodeScratch = { buf: Buffer.alloc(0) };
  private readonly level: number;
  private readonly hostname = os.hostname();

  constructor(
    private readonly s: HistorySettings,
    private readonly scanner: Pick<ProcessScanner, 'procRoot' | 'backend'>,
    /** owner name of a uid (the scanned host's passwd) */
    private readonly owner: (uid: number) => string,
    /** the policy in effect (the agent's config, across reloads) */
    private readonly policy: () => HistoryPolicy,
    /** the cycle interval in effect, for the header */
    private readonly intervalMs: () => number,
  ) {
    this.level = s.level ?? 1;
  }

  get stats(): HistoryStats {
    const first = this.segments[0];
    const last = this.segments.at(-1);
    return {
      scans: this.scans,
      bytes: this.bytes,
      ...(this.paused ? { paused: 'memory' as const } : {}),
      ...(this.failure ? { failed: this.failure } : {}),
      ...(first && last ? { fromMs: first.firstAtMs, toMs: last.lastAtMs } : {}),
      windowMs: this.s.windowMs,
      maxBytes: this.s.maxBytes,
    };
  }

  /**
   * Give up what is held and keep nothing until `resume` (the memory
   * governor left its normal tier: the history is the first thing to go).
   * The identities stay named (their strings are the scanner's, shared), so
   * the key record after `resume` names every row.
   */
  pause(): void {
    this.paused = true;
    this.drop();
  }

  /** Off until restart after a failure of its own: nothing held, `why` in the stats. */
  fail(why: string): void {
    this.failure = why;
    this.drop();
  }

  get failed(): string | undefined {
    return this.failure;
  }

  /** Give up every record (the identities stay named: the next record is a key record naming every row). */
  private drop(): void {
    this.segments.length = 0;
    this.ref = undefined;
    this.bytes = 0;
    this.scans = 0;
    this.scratch.buf = Buffer.alloc(0);
    this.scratch.words = undefined;
  }

  /** Keep scans again (from a new key record). */
  resume(): void {
    this.paused = false;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Add one scan as the scanner returned it (before anything else reads it). */
  append(b: ProcessBatch, hostFiles: HostFiles): void {
    if (this.failure) return;
    const policy = this.policy();
    const under = policyKey(policy);
    if (under !== this.heldUnder) {
      // privacy, detail or bounds changed (a reload): what is held was stored under the old ones
      this.drop();
      this.heldUnder = under;
      this.held = policy;
    }
    for (let k = 0; k < b.freshRows.length; k++) {
      const i = b.freshRows[k]!;
      this.ids.set(b.pid[i]!, {
        start: b.startTicks[i]!,
        name: b.freshName[k]!,
        // as read (the scanner's own string); privacy applies when a record is written
        cmdline: b.freshCmdline[k]!,
        exe: b.freshExe[k]!,
        cgroup: b.freshCgroup[k]!,
        owner: b.freshOwner?.[k] ?? this.owner(b.uid[i]!),
        uid: b.uid[i]!,
      });
    }
    if (this.paused) {
      // only the names of identities are kept (for the key record after resume), and only of listed ones
      if (this.ids.size > b.count * 1.5) this.pruneIds(b);
      return;
    }
    const at = b.scannedAtMs;
    let seg = this.segments.at(-1);
    const privacy = policy.privacy;
    // a new segment every eighth of the window, or of the byte cap (its key record not counted: on a
    // large host one key record may be more than an eighth of the cap)
    const key = !seg || at - seg.firstAtMs >= this.s.windowMs / 8 || seg.bytes - seg.keyBytes >= this.s.maxBytes / 8;
    const rec = key ? this.keyBatch(b, privacy) : this.deltaBatch(b, privacy);
    const payload = encodeRecord(
      rec.batch,
      rec.owners,
      hostFiles,
      key ? undefined : this.ref,
      this.level,
      this.scratch,
    );
    const frame = encodeFrame(payload);
    this.ref = referenceOf(rec.batch, this.ref);
    if (key) {
      seg = { frames: [], bytes: 0, keyBytes: frame.length, firstAtMs: at, lastAtMs: at };
      this.segments.push(seg);
    }
    seg!.frames.push(frame);
    seg!.bytes += frame.length;
    seg!.lastAtMs = at;
    this.bytes += frame.length;
    this.scans++;
    this.trim(at);
  }

  /** The history as a recording (header and scans file); undefined while it holds no scan. */
  snapshot(): HistorySnapshot | undefined {
    const held = this.held;
    if (this.scans === 0 || !held) return undefined;
    const first = this.segments[0]!;
    const last = this.segments.at(-1)!;
    const header: RecordingHeader = {
      format: RECORDING_FORMAT,
      version: RECORDING_VERSION,
      nrdot: VERSION,
      createdAt: new Date(first.firstAtMs).toISOString(),
      procRoot: this.scanner.procRoot,
      backend: this.scanner.backend,
      hostname: this.hostname,
      intervalMs: this.intervalMs(),
      endianness: 'LE',
      scanOptions: {
        detail: held.detail,
        files: { status: true, io: true, fds: true },
        cgroup: true,
        ...(held.bounded ? { bounded: true } : {}),
      },
      hostFiles: HOST_FILES,
      source: 'agent',
      commandLine: held.privacy.mode,
      complete: true,
      scans: this.scans,
      endedAt: new Date(last.lastAtMs).toISOString(),
    };
    const chunks = [encodeFileHeader(RECORDING_VERSION)];
    for (const s of this.segments) chunks.push(...s.frames);
    return { header, chunks, bytes: FILE_HEADER_BYTES + this.bytes };
  }

  /** Drop whole segments from the front: older than the window, or over the byte cap (never the newest). */
  private trim(nowMs: number): void {
    while (this.segments.length > 1) {
      const old = this.segments[0]!;
      const next = this.segments[1]!;
      // a segment leaves once the one after it starts inside the window: what stays still covers the window
      const stale = nowMs - next.firstAtMs >= this.s.windowMs;
      if (!stale && this.bytes <= this.s.maxBytes) break;
      this.segments.shift();
      this.bytes -= old.bytes;
      this.scans -= old.frames.length;
    }
  }

  /** The rows whose identity the history knows; identities no longer listed are forgotten. */
  private pruneIds(b: ProcessBatch): number[] {
    const rows = knownRows(b, this.ids);
    if (this.ids.size > rows.length) {
      const keep = new Map<number, Identity>();
      for (const i of rows) keep.set(b.pid[i]!, this.ids.get(b.pid[i]!)!);
      this.ids.clear();
      for (const [pid, id] of keep) this.ids.set(pid, id);
    }
    return rows;
  }

  /**
   * A key record: every row whose identity the history knows, each with its
   * strings (and the uid read when it was new where this scan did not read
   * it); forgets identities no longer listed.
   */
  private keyBatch(b: ProcessBatch, privacy: CommandLinePrivacy): { batch: ProcessBatch; owners: string[] } {
    const rows = this.pruneIds(b);
    const out = subBatch(b, rows);
    const owners: string[] = [];
    out.freshRows = Int32Array.from(rows, (_, k) => k);
    for (let k = 0; k < out.count; k++) {
      const id = this.ids.get(out.pid[k]!)!;
      out.freshName.push(id.name);
      out.freshCmdline.push(leaving(privacy, id));
      out.freshExe.push(id.exe);
      out.freshCgroup.push(id.cgroup);
      owners.push(id.owner);
      if (out.uid[k] === UNKNOWN) out.uid[k] = id.uid;
    }
    return { batch: out, owners };
  }

  /** A record against the previous one: the scan's own fresh rows, with the stored (privacy-applied) strings. */
  private deltaBatch(b: ProcessBatch, privacy: CommandLinePrivacy): { batch: ProcessBatch; owners: string[] } {
    // every listed identity is known (the wrapper sees every scan from the first); one that is not is left out
    const rows = knownRows(b, this.ids);
    const all = rows.length === b.count;
    const out = all ? b : subBatch(b, rows);
    const rowOf = all ? undefined : new PidRows(out.pid, out.count);
    const fresh: number[] = [];
    const owners: string[] = [];
    const strings = { name: [] as string[], cmdline: [] as string[], exe: [] as string[], cgroup: [] as string[] };
    for (let k = 0; k < b.freshRows.length; k++) {
      const i = b.freshRows[k]!;
      const row = rowOf ? rowOf.get(b.pid[i]!) : i;
      if (row < 0) continue;
      const id = this.ids.get(b.pid[i]!)!;
      fresh.push(row);
      strings.name.push(id.name);
      strings.cmdline.push(leaving(privacy, id));
      strings.exe.push(id.exe);
      strings.cgroup.push(id.cgroup);
      owners.push(id.owner);
    }
    return {
      batch: {
        ...out,
        freshRows: Int32Array.from(fresh),
        freshName: strings.name,
        freshCmdline: strings.cmdline,
        freshExe: strings.exe,
        freshCgroup: strings.cgroup,
      },
      owners,
    };
  }
}

/** The command line as privacy.command_line lets it leave the host ('' when it may not). */
function leaving(privacy: CommandLinePrivacy, id: Identity): string {
  return privacy.apply(id.cmdline, id.exe) ?? '';
}

function knownRows(b: ProcessBatch, ids: Map<number, Identity>): number[] {
  const rows: number[] = [];
  for (let i = 0; i < b.count; i++) {
    const id = ids.get(b.pid[i]!);
    if (id && id.start === b.startTicks[i]) rows.push(i);
  }
  return rows;
}

/** The rows `rows` of `b`, copied (columns only; no strings). */
function subBatch(b: ProcessBatch, rows: readonly number[]): ProcessBatch {
  const out = allocBatch(rows.length, b.host);
  out.scannedAtMs = b.scannedAtMs;
  out.counters = b.counters;
  for (const [field] of COLUMNS) {
    const src = b[field];
    const dst = out[field];
    for (let k = 0; k < rows.length; k++) dst[k] = src[rows[k]!]!;
  }
  out.count = rows.length;
  return out;
}

/**
 * The agent's scanner with its scans appended to a history. The history's
 * own failures never fail a scan: the history is emptied and off
 * (`ScanHistory.fail`, its reason served), and `onError` is told once.
 */
export class HistoryScanner implements ProcessScanner {
  readonly backend: ProcessScanner['backend'];
  readonly procRoot: string;

  constructor(
    private readonly inner: ProcessScanner,
    readonly history: ScanHistory,
    private readonly hostFiles: () => HostFiles,
    private readonly onError: (e: unknown) => void,
  ) {
    this.backend = inner.backend;
    this.procRoot = inner.procRoot;
  }

  async scan(opts?: ScanOptions): Promise<ProcessBatch> {
    const b = await this.inner.scan(opts);
    if (this.history.failed) return b;
    try {
      this.history.append(b, this.hostFiles());
    } catch (e) {
      this.history.fail(`the scan history failed and is off until restart: ${(e as Error)?.message ?? String(e)}`);
      this.onError(e);
    }
    return b;
  }

  close(): void {
    this.inner.close();
  }
}
