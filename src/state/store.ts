/**
 * The state store: counter memory and roll-up sums saved under --state-dir so
 * a later run (two `--once` runs, or a restart) continues CPU-rate counters
 * and roll-up series. Written atomically: temp file, fsync, rename, fsync of
 * the directory. A missing file starts fresh; a corrupt or foreign file is
 * reported in one log line, moved aside, and the agent starts fresh.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log.js';
import { RollupMemory } from '../profile/rollup.js';
import { TIERS } from '../telemetry/names.js';
import { makeDirsSync } from '../util/fs.js';
import { CounterMemory, NCOUNTERS } from './counters.js';

export const STATE_FILE = 'nrdot-state.json';
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

export class StateStore {
  readonly file: string;
  /** false after a write failed: the agent keeps running without persistence */
  writable = true;

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
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn({ file: this.file, err: (e as Error).message }, 'cannot read state file: starting fresh');
      }
      return fresh();
    }
    const problem = (why: string): RestoredState => {
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

  save(counters: CounterMemory, rollup: RollupMemory, nowMs: number): boolean {
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
    const tmp = `${this.file}.tmp-${process.pid}`;
    try {
      const fd = fs.openSync(tmp, 'w');
      try {
        fs.writeSync(fd, JSON.stringify(data));
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(tmp, this.file);
      const dfd = fs.openSync(this.dir, 'r');
      try {
        fs.fsyncSync(dfd);
      } finally {
        fs.closeSync(dfd);
      }
      return true;
    } catch (e) {
      this.writable = false;
      this.logger.warn(
        { stateDir: this.dir, err: (e as Error).message },
        'cannot write state: running without persistence',
      );
      try {
        fs.rmSync(tmp, { force: true });
      } catch {
        // ignore
      }
      return false;
    }
  }
}
