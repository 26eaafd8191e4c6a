/**
 * The state store: the pipeline's checkpoint (`nrdot-state.bin`, see
 * checkpoint.ts) under --state-dir, so a later run (two `--once` runs, or a
 * restart) continues CPU-rate counters, anomaly baselines, heartbeats and
 * roll-up series. The file is written atomically: temp file, fsync, rename,
 * fsync of the directory. A missing file starts fresh; a damaged,
 * wrong-version or foreign file is reported in one log line naming the file
 * and the field, moved aside, and what it held starts fresh (a section whose
 * values are out of range starts fresh on its own; the others are restored).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { IdentityTable } from '../core/identity.js';
import type { Logger } from '../core/log.js';
import { makeDirsSync, writeFileAtomic } from '../util/fs.js';
import { decodeCheckpoint, encodeCheckpoint, restorePart, type Stateful } from './checkpoint.js';

export { writeFileAtomic } from '../util/fs.js';

export const STATE_FILE = 'nrdot-state.bin';
/** A state file that is simply not there (ENOTDIR: the state dir path is a file, already reported by prepare()). */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

export interface Restored {
  /** identities restored */
  processes: number;
  /** the parts restored, by section name */
  parts: string[];
}

export class StateStore {
  readonly file: string;
  /** false when the directory cannot be used at all: the agent runs without persistence */
  writable = true;
  /** the last save failed (full disk, I/O error): the next checkpoint tries again */
  private failing = false;

  constructor(
    readonly dir: string,
    private readonly procRoot: string,
    private readonly logger: Logger,
  ) {
    this.file = path.join(dir, STATE_FILE);
  }

  /** Make sure the directory exists and can be written; on failure, say so once and go on without it. */
  prepare(): void {
    try {
      makeDirsSync(this.dir);
      fs.accessSync(this.dir, fs.constants.W_OK);
    } catch (e) {
      this.writable = false;
      this.logger.warn(
        { stateDir: this.dir, err: (e as Error).message },
        'state dir is not writable: running without persistence',
      );
    }
  }

  /** Move an unusable file aside and say so in one line. */
  private moveAside(nowMs: number, why: string): void {
    const aside = `${this.file}.corrupt-${nowMs}`;
    try {
      fs.renameSync(this.file, aside);
    } catch {
      // leave it; the next save overwrites it
    }
    this.logger.warn(
      { file: this.file, movedTo: aside, reason: why },
      'state file is unusable: moved aside, starting fresh',
    );
  }

  /** Restore the checkpoint into the identity table and the parts; what cannot be restored starts fresh. */
  load(ids: IdentityTable, parts: readonly Stateful[], nowMs: number): Restored {
    const none: Restored = { processes: 0, parts: [] };
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.file);
    } catch (e) {
      if (!MISSING.has((e as NodeJS.ErrnoException).code ?? '')) {
        this.logger.warn({ file: this.file, err: (e as Error).message }, 'cannot read state file: starting fresh');
      }
      return none;
    }
    const d = decodeCheckpoint(buf);
    if (!d.ok) {
      this.moveAside(nowMs, d.reason);
      return none;
    }
    if (d.procRoot !== this.procRoot) {
      this.logger.info(
        { file: this.file, was: d.procRoot, now: this.procRoot },
        'state belongs to another proc root: starting fresh',
      );
      return none;
    }
    const slotOf = new Int32Array(d.pid.length);
    ids.reserve(d.pid.length);
    for (let i = 0; i < d.pid.length; i++) slotOf[i] = ids.restore(d.pid[i]!, d.start[i]!);
    const restored: string[] = [];
    const bad: string[] = [];
    for (const p of parts) {
      const skip = p.restoreAllowed?.(d.savedAtMs, nowMs);
      if (skip) {
        this.logger.info({ file: this.file, part: p.stateName, savedAtMs: d.savedAtMs }, `${skip}: starting fresh`);
        continue;
      }
      const why = restorePart(p, d, slotOf);
      if (why === undefined) restored.push(p.stateName);
      else bad.push(`${p.stateName}.${why}`);
    }
    if (bad.length > 0) this.moveAside(nowMs, `out of range: ${bad.join('; ')}`);
    return { processes: d.pid.length, parts: restored };
  }

  /** At start: prepare the directory, load the checkpoint, and say what was restored. */
  restore(ids: IdentityTable, parts: readonly Stateful[], nowMs: number): Restored {
    this.prepare();
    const r = this.load(ids, parts, nowMs);
    if (r.parts.length > 0) {
      this.logger.info({ file: this.file, processes: r.processes, parts: r.parts }, 'state restored');
    }
    return r;
  }

  /** Save the checkpoint. False when persistence is off or the write failed (it is tried again next time). */
  save(ids: IdentityTable, parts: readonly Stateful[], nowMs: number): boolean {
    if (!this.writable) return false;
    try {
      writeFileAtomic(this.file, encodeCheckpoint(ids, parts, this.procRoot, nowMs));
      if (this.failing) {
        this.failing = false;
        this.logger.info({ file: this.file }, 'state saving works again');
      }
      return true;
    } catch (e) {
      if (!this.failing) {
        this.failing = true;
        this.logger.warn(
          { stateDir: this.dir, err: (e as Error).message },
          'cannot write state: trying again at the next checkpoint',
        );
      }
      return false;
    }
  }
}
