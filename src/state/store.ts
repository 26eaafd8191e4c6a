/**
 * The state store: counter memory and roll-up sums (`nrdot-state.json`) and
 * the scoring baselines (`nrdot-score.bin`, binary with a version header and
 * CRC-32, see src/stages/score/persist.ts) saved under --state-dir so a later run
 * (two `--once` runs, or a restart) continues CPU-rate counters, roll-up
 * series and anomaly baselines. Each file is written atomically: temp file,
 * fsync, rename, fsync of the directory. A missing file starts fresh; a
 * corrupt, truncated, wrong-version or foreign file is reported in one log
 * line, moved aside, and that part starts fresh.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../core/log.js';
import { RollupMemory } from '../stages/group/rollup.js';
import { CounterMemory, NCOUNTERS } from '../stages/rates/counters.js';
import { decodeScoreState, encodeScoreState } from '../stages/score/persist.js';
import { ScoreTable } from '../stages/score/table.js';
import { TIERS } from '../telemetry/names.js';
import { makeDirsSync } from '../util/fs.js';

export const STATE_FILE = 'nrdot-state.json';
export const SCORE_FILE = 'nrdot-score.bin';
/** A state file that is simply not there (ENOTDIR: the state dir path is a file, already reported by prepare()). */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);
const KIND = 'nrdot-state';
const VERSION = 1;

interface StateFileV1 {
  kind: typeof KIND;
  version: typeof VERSION;
  savedAtMs: number;
  procRoot: string;
  bootTimeSec: number;
  lastUptime: number;
  rollup: { startMs: number; cumulative: number[][] };
  /** [pid, startTicks, uptime, ...NCOUNTERS values] */
  processes: number[][];
}

export interface RestoredState {
  counters: CounterMemory;
  rollup: RollupMemory;
  restored: boolean;
}

export interface RestoredScores {
  table: ScoreTable;
  restored: boolean;
}

/** Write `data` to `file` atomically: temp file, fsync, rename, fsync of the directory. */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // ignore
    }
    throw e;
  }
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd);
  } finally {
    fs.closeSync(dfd);
  }
}

export class StateStore {
  readonly file: string;
  readonly scoreFile: string;
  /** false when the state dir cannot be used at all: the agent runs without persistence */
  writable = true;
  /** a save failed (disk full...): the next checkpoint tries again */
  private failing = false;

  constructor(
    readonly dir: string,
    private readonly procRoot: string,
    private readonly logger: Logger,
  ) {
    this.file = path.join(dir, STATE_FILE);
    this.scoreFile = path.join(dir, SCORE_FILE);
  }

  /** Move an unusable file aside and say so in one line. */
  private moveAside(file: string, nowMs: number, why: string): void {
    const aside = `${file}.corrupt-${nowMs}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      // leave it; the next save overwrites it
    }
    this.logger.warn({ file, movedTo: aside, reason: why }, 'state file is unusable: moved aside, starting fresh');
  }

  /**
   * The scoring baselines saved by a previous run, or an empty table. Baselines
   * saved more than `ttlMs` before `nowMs` are stale and dropped.
   */
  loadScores(nowMs: number, ttlMs: number): RestoredScores {
    const fresh = (): RestoredScores => ({ table: new ScoreTable(), restored: false });
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.scoreFile);
    } catch (e) {
      if (!MISSING.has((e as NodeJS.ErrnoException).code ?? '')) {
        this.logger.warn({ file: this.scoreFile, err: (e as Error).message }, 'cannot read state file: starting fresh');
      }
      return fresh();
    }
    const r = decodeScoreState(buf);
    if (!r.ok) {
      this.moveAside(this.scoreFile, nowMs, r.reason);
      return fresh();
    }
    if (r.procRoot !== this.procRoot) {
      this.logger.info(
        { file: this.scoreFile, was: r.procRoot, now: this.procRoot },
        'scoring state belongs to another proc root: starting fresh',
      );
      return fresh();
    }
    if (nowMs - r.savedAtMs > ttlMs) {
      this.logger.info(
        { file: this.scoreFile, savedAtMs: r.savedAtMs, ttlMs },
        'scoring baselines are older than scoring.state_ttl: starting fresh',
      );
      return fresh();
    }
    return { table: r.table, restored: true };
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

  load(nowMs: number): RestoredState {
    const fresh = (): RestoredState => ({
      counters: new CounterMemory(),
      rollup: new RollupMemory(nowMs),
      restored: false,
    });
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (e) {
      if (!MISSING.has((e as NodeJS.ErrnoException).code ?? '')) {
        this.logger.warn({ file: this.file, err: (e as Error).message }, 'cannot read state file: starting fresh');
      }
      return fresh();
    }
    const problem = (why: string): RestoredState => {
      this.moveAside(this.file, nowMs, why);
      return fresh();
    };
    let data: StateFileV1;
    try {
      data = JSON.parse(text) as StateFileV1;
    } catch (e) {
      return problem(`not JSON: ${(e as Error).message}`);
    }
    if (typeof data !== 'object' || data === null || data.kind !== KIND) return problem('not an nrdot state file');
    if (data.version !== VERSION) return problem(`version ${String(data.version)} (this nrdot reads ${VERSION})`);
    if (
      !Array.isArray(data.processes) ||
      !data.rollup ||
      !Array.isArray(data.rollup.cumulative) ||
      data.rollup.cumulative.length !== TIERS.length ||
      typeof data.bootTimeSec !== 'number'
    ) {
      return problem('missing or malformed fields');
    }
    if (data.procRoot !== this.procRoot) {
      this.logger.info(
        { file: this.file, was: data.procRoot, now: this.procRoot },
        'state belongs to another proc root: starting fresh',
      );
      return fresh();
    }
    const counters = new CounterMemory();
    counters.bootTimeSec = data.bootTimeSec;
    counters.lastUptime = data.lastUptime;
    for (const row of data.processes) {
      if (!Array.isArray(row) || row.length !== 3 + NCOUNTERS || !row.every((v) => typeof v === 'number')) {
        return problem('malformed process entry');
      }
      counters.prev.set(row[0]!, { start: row[1]!, uptime: row[2]!, values: Float64Array.from(row.slice(3)) });
    }
    const rollup = new RollupMemory(data.rollup.startMs);
    data.rollup.cumulative.forEach((c, t) => {
      if (Array.isArray(c) && c.length === NCOUNTERS) rollup.cumulative[t] = Float64Array.from(c);
    });
    return { counters, rollup, restored: true };
  }

  /** Save counters, roll-up sums and (when given) scoring baselines. False when persistence is off. */
  save(counters: CounterMemory, rollup: RollupMemory, nowMs: number, scores?: ScoreTable): boolean {
    if (!this.writable) return false;
    const processes: number[][] = [];
    for (const [pid, p] of counters.prev) processes.push([pid, p.start, p.uptime, ...p.values]);
    const data: StateFileV1 = {
      kind: KIND,
      version: VERSION,
      savedAtMs: nowMs,
      procRoot: this.procRoot,
      bootTimeSec: counters.bootTimeSec,
      lastUptime: counters.lastUptime,
      rollup: { startMs: rollup.startMs, cumulative: rollup.cumulative.map((c) => Array.from(c)) },
      processes,
    };
    try {
      writeFileAtomic(this.file, JSON.stringify(data));
      if (scores) writeFileAtomic(this.scoreFile, encodeScoreState(scores, this.procRoot, nowMs));
      if (this.failing) this.logger.info({ stateDir: this.dir }, 'state saving works again');
      this.failing = false;
      return true;
    } catch (e) {
      if (!this.failing) {
        this.logger.warn(
          { stateDir: this.dir, err: (e as Error).message },
          'cannot write state: trying again at every checkpoint',
        );
      }
      this.failing = true;
      return false;
    }
  }
}
