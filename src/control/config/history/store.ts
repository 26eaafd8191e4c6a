/**
 * Config history: every applied config kept as a version under
 * `<state_dir>/config-history/`, one file per version (`v000012.json`) that
 * holds what is known about it and its exact bytes (base64), written
 * atomically (temp file, fsync, rename, fsync of the directory), so a crash
 * leaves either the old set of versions or the new one.
 *
 * Versions are numbered 1, 2, 3... in the order they were applied; only the
 * newest `maxVersions` are kept. A file that cannot be parsed, or whose bytes
 * do not match its hash, is moved aside (`.corrupt-<ms>`) with one log line
 * and skipped: a damaged history never stops the agent or the CLI.
 *
 * The bytes are the config as written, references unexpanded: no secret is
 * ever stored here.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, NrdotError } from '../../../core/errors.js';
import { type Logger, silentLogger } from '../../../core/log.js';
import { isAtomicTempFile, writeFileAtomic } from '../../../util/atomic.js';
import { makeDirsSync } from '../../../util/fs.js';

export const HISTORY_DIR = 'config-history';
const KIND = 'nrdot-config-version';
const FORMAT = 1;
const NAME = /^v(\d{6,})\.json$/;

/** Where a config came from. */
export type ConfigSource = 'start' | 'file' | 'sighup' | 'api' | 'opamp' | 'rollback';
/** applied: took effect; failed: refused or failed to build, never in effect; rolled_back: in effect, then undone */
export type VersionResult = 'applied' | 'failed' | 'rolled_back';

export interface VersionMeta {
  version: number;
  /** SHA-256 of the bytes, hex */
  hash: string;
  /** when it was applied (or refused), ms since the epoch */
  timeMs: number;
  source: ConfigSource;
  /** `alice@127.0.0.1`, `root@localhost`, `opamp:<server>` */
  who: string;
  why?: string;
  /** id of the key whose signature verified (src/control/config/signature.ts) */
  keyId?: string;
  /** the signature that verified (base64 DER), so a rollback to this version is verified again */
  signature?: string;
  /** the file it was read from, when it came from one */
  file?: string;
  result: VersionResult;
  /** why it failed or was rolled back */
  error?: string;
  /** when `result` last changed (a rollback after the apply) */
  resultTimeMs?: number;
  /** a rollback: the version whose bytes were restored */
  restoredFrom?: number;
  size: number;
}

export interface StoredVersion extends VersionMeta {
  bytes: Buffer;
}

export interface NewVersion {
  bytes: Uint8Array;
  source: ConfigSource;
  who: string;
  why?: string;
  keyId?: string;
  signature?: string;
  file?: string;
  result?: VersionResult;
  error?: string;
  restoredFrom?: number;
  /** default: the store's clock */
  timeMs?: number;
}

export interface HistoryOptions {
  /** versions kept (config_history.max_versions); the oldest go first */
  maxVersions?: number;
  logger?: Logger;
  /** wall clock, ms since the epoch (default Date.now) */
  now?: () => number;
}

interface VersionFile extends VersionMeta {
  kind: typeof KIND;
  format: typeof FORMAT;
  /** base64 of the exact bytes */
  bytes: string;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fileName(version: number): string {
  return `v${String(version).padStart(6, '0')}.json`;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const SOURCES = new Set<string>(['start', 'file', 'sighup', 'api', 'opamp', 'rollback']);
const RESULTS = new Set<string>(['applied', 'failed', 'rolled_back']);

/** Why `o` (parsed from `name`) is not a version file, or undefined when it is one. */
function problemOf(o: unknown, name: string): string | undefined {
  if (typeof o !== 'object' || o === null) return 'not a JSON object';
  const v = o as Partial<VersionFile>;
  if (v.kind !== KIND) return `kind is not ${KIND}`;
  if (v.format !== FORMAT) return `format ${String(v.format)} is not ${FORMAT}`;
  const m = NAME.exec(name);
  if (!m || v.version !== Number(m[1])) return `version ${String(v.version)} does not match the file name`;
  if (typeof v.hash !== 'string' || typeof v.bytes !== 'string') return 'hash or bytes missing';
  if (typeof v.timeMs !== 'number' || !Number.isFinite(v.timeMs)) return 'timeMs missing';
  if (!SOURCES.has(String(v.source)) || !RESULTS.has(String(v.result))) return 'source or result unknown';
  if (typeof v.who !== 'string') return 'who missing';
  if (sha256(Buffer.from(v.bytes, 'base64')) !== v.hash) return 'the bytes do not match their hash';
  return undefined;
}

export class ConfigHistory {
  readonly maxVersions: number;
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(
    readonly dir: string,
    opts: HistoryOptions = {},
  ) {
    this.maxVersions = opts.maxVersions ?? 50;
    this.logger = opts.logger ?? silentLogger;
    this.now = opts.now ?? Date.now;
  }

  /** The history under a state dir (`<stateDir>/config-history`). */
  static inStateDir(stateDir: string, opts: HistoryOptions = {}): ConfigHistory {
    return new ConfigHistory(path.join(stateDir, HISTORY_DIR), opts);
  }

  private names(): string[] {
    let entries: string[];
    try {
      entries = fs.readdirSync(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new NrdotError(
        ErrorCodes.CONFIG_HISTORY,
        `config history ${this.dir} cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      );
    }
    return entries;
  }

  /** The highest version number ever used here, counting files moved aside. */
  private highestNumber(): number {
    let max = 0;
    for (const n of this.names()) {
      const m = /^v(\d{6,})\.json/.exec(n);
      if (m) max = Math.max(max, Number(m[1]));
    }
    return max;
  }

  private moveAside(name: string, why: string): void {
    const from = path.join(this.dir, name);
    const to = `${from}.corrupt-${this.now()}`;
    let moved = true;
    try {
      fs.renameSync(from, to);
    } catch {
      moved = false;
    }
    this.logger.warn(
      { file: from, movedTo: moved ? to : undefined, reason: why },
      moved ? 'config history entry is unusable: moved aside' : 'config history entry is unusable: skipped',
    );
  }

  private readFile(name: string): VersionFile | undefined {
    let text: string;
    try {
      text = fs.readFileSync(path.join(this.dir, name), 'utf8');
    } catch (e) {
      this.logger.warn(
        { file: path.join(this.dir, name), err: (e as Error).message },
        'config history entry cannot be read: skipped',
      );
      return undefined;
    }
    let o: unknown;
    try {
      o = JSON.parse(text);
    } catch (e) {
      this.moveAside(name, `not JSON: ${(e as Error).message}`);
      return undefined;
    }
    const problem = problemOf(o, name);
    if (problem) {
      this.moveAside(name, problem);
      return undefined;
    }
    return o as VersionFile;
  }

  private static meta(f: VersionFile): VersionMeta {
    const { kind: _k, format: _f, bytes: _b, ...meta } = f;
    return meta;
  }

  /** Every kept version, oldest first (corrupt entries moved aside on the way). */
  list(): VersionMeta[] {
    const out: VersionMeta[] = [];
    for (const name of this.names().sort()) {
      if (!NAME.test(name)) continue;
      const f = this.readFile(name);
      if (f) out.push(ConfigHistory.meta(f));
    }
    return out.sort((a, b) => a.version - b.version);
  }

  /** One version with its bytes; an unknown (or pruned, or corrupt) version is an error naming what is kept. */
  get(version: number): StoredVersion {
    const name = fileName(version);
    const f = fs.existsSync(path.join(this.dir, name)) ? this.readFile(name) : undefined;
    if (!f) {
      const kept = this.list();
      const range = kept.length > 0 ? `kept: v${kept[0]!.version} to v${kept[kept.length - 1]!.version}` : 'none kept';
      throw new NrdotError(ErrorCodes.CONFIG_HISTORY, `no config version ${version} in ${this.dir} (${range})`);
    }
    return { ...ConfigHistory.meta(f), bytes: Buffer.from(f.bytes, 'base64') };
  }

  latest(): VersionMeta | undefined {
    const all = this.list();
    return all[all.length - 1];
  }

  /** The version in effect now: the newest one that was not refused. */
  current(): VersionMeta | undefined {
    return this.list()
      .filter((v) => v.result !== 'failed')
      .pop();
  }

  /**
   * The version that was in effect at `timeMs`: the newest applied at or
   * before then that did not fail (a version later rolled back was in effect
   * from its apply until the rollback, which is itself a newer version).
   */
  effectiveAt(timeMs: number): StoredVersion {
    const all = this.list();
    const hit = all.filter((v) => v.timeMs <= timeMs && v.result !== 'failed').pop();
    if (!hit) {
      const at = new Date(timeMs).toISOString();
      if (all.length === 0) throw new NrdotError(ErrorCodes.CONFIG_HISTORY, `no config history in ${this.dir}`);
      const first = all.find((v) => v.result !== 'failed') ?? all[0]!;
      throw new NrdotError(
        ErrorCodes.CONFIG_HISTORY,
        `no kept config version was in effect at ${at}: the oldest kept, v${first.version}, was applied at ${new Date(first.timeMs).toISOString()}`,
      );
    }
    return this.get(hit.version);
  }

  /** Keep `v` as the next version; prunes the oldest beyond maxVersions. */
  record(v: NewVersion): VersionMeta {
    makeDirsSync(this.dir);
    this.sweepTempFiles();
    const bytes = Buffer.from(v.bytes);
    const meta: VersionMeta = {
      version: this.highestNumber() + 1,
      hash: sha256(bytes),
      timeMs: v.timeMs ?? this.now(),
      source: v.source,
      who: v.who,
      ...(v.why ? { why: v.why } : {}),
      ...(v.keyId ? { keyId: v.keyId } : {}),
      ...(v.signature ? { signature: v.signature.replace(/\s+/g, '') } : {}),
      ...(v.file ? { file: v.file } : {}),
      result: v.result ?? 'applied',
      ...(v.error ? { error: v.error } : {}),
      ...(v.restoredFrom !== undefined ? { restoredFrom: v.restoredFrom } : {}),
      size: bytes.length,
    };
    this.write(meta, bytes);
    this.prune();
    return meta;
  }

  /** Change the result of a version (a rollback after the apply, a failure found later). */
  setResult(version: number, result: VersionResult, error?: string): VersionMeta {
    const v = this.get(version);
    const { bytes, ...rest } = v;
    const meta: VersionMeta = { ...rest, result, resultTimeMs: this.now() };
    if (error) meta.error = error;
    else delete meta.error;
    this.write(meta, bytes);
    return meta;
  }

  private write(meta: VersionMeta, bytes: Buffer): void {
    const file: VersionFile = { kind: KIND, format: FORMAT, ...meta, bytes: bytes.toString('base64') };
    writeFileAtomic(path.join(this.dir, fileName(meta.version)), `${JSON.stringify(file)}\n`, 0o600);
  }

  private prune(): void {
    const kept = this.names()
      .filter((n) => NAME.test(n))
      .sort((a, b) => Number(NAME.exec(a)![1]) - Number(NAME.exec(b)![1]));
    for (const name of kept.slice(0, Math.max(0, kept.length - this.maxVersions))) {
      fs.rmSync(path.join(this.dir, name), { force: true });
    }
  }

  /** Temp files of writes that a crash interrupted (their process is gone). */
  private sweepTempFiles(): void {
    for (const n of this.names()) {
      const pid = isAtomicTempFile(n) ? Number(/\.tmp-(\d+)/.exec(n)![1]) : undefined;
      if (pid !== undefined && pid !== process.pid && !processAlive(pid)) {
        fs.rmSync(path.join(this.dir, n), { force: true });
      }
    }
  }
}
