/**
 * heartbeat: standard-path dedup. A process whose values are unchanged since
 * it was last sent (CPU time, RSS, I/O, threads, fds, context switches,
 * faults) is idle and is sent only every `paths.standard.heartbeat_cycles`
 * cycles; any change sends it at once. Gauges (threads, fds) are compared one
 * by one, monotonic counters as sums (a sum of counters is unchanged only
 * when every part is). Rows read stat-only compare only what was read. What
 * each identity last sent lives at its slot and is checkpointed, so separate
 * `--once` runs skip what a continuous run would.
 */
import { type Frame, LANE_NONE, LANE_STANDARD } from '../../core/frame.js';
import type { Column, IdentityTable } from '../../core/identity.js';
import type { Stage } from '../../pipeline/stage.js';
import { FLAG_DETAIL } from '../../sources/batch.js';
import type { Stateful } from '../../state/checkpoint.js';

const anyOrNaN = (v: number) => Number.isFinite(v) || Number.isNaN(v);

export class HeartbeatStage implements Stage, Stateful {
  readonly name = 'heartbeat';
  readonly stateName = 'heartbeat';
  /** cycle the process was last sent; 0 = never */
  private readonly sentCycle: Column<Int32Array>;
  private readonly cpu: Column<Float64Array>;
  private readonly rss: Column<Float64Array>;
  /** read + write bytes */
  private readonly io: Column<Float64Array>;
  /** minor + major faults, voluntary + involuntary switches */
  private readonly counts: Column<Float64Array>;
  private readonly threads: Column<Float64Array>;
  private readonly fds: Column<Float64Array>;
  /** cycles since this stage's first: sent cycles are kept relative to it across restarts */
  private cycles = 0;

  constructor(
    ids: IdentityTable,
    private readonly every: number,
  ) {
    this.sentCycle = ids.i32('heartbeat.cycle', { valid: (v) => v >= 0 });
    this.cpu = ids.f64('heartbeat.cpu', { init: Number.NaN, valid: anyOrNaN });
    this.rss = ids.f64('heartbeat.rss', { init: Number.NaN, valid: anyOrNaN });
    this.io = ids.f64('heartbeat.io', { init: Number.NaN, valid: anyOrNaN });
    this.counts = ids.f64('heartbeat.counts', { init: Number.NaN, valid: anyOrNaN });
    this.threads = ids.f64('heartbeat.threads', { init: Number.NaN, valid: anyOrNaN });
    this.fds = ids.f64('heartbeat.fds', { init: Number.NaN, valid: anyOrNaN });
  }

  process(f: Frame): void {
    const cycle = ++this.cycles;
    const b = f.batch;
    const every = this.every;
    const sent = this.sentCycle.data;
    const hCpu = this.cpu.data;
    const hRss = this.rss.data;
    const hIo = this.io.data;
    const hCounts = this.counts.data;
    const hThreads = this.threads.data;
    const hFds = this.fds.data;
    let skipped = 0;
    for (let i = 0; i < f.n; i++) {
      if (f.lane[i] !== LANE_STANDARD) continue;
      const s = f.slot[i]!;
      const detail = (b.flags[i]! & FLAG_DETAIL) !== 0;
      const cpu = b.utimeSec[i]! + b.stimeSec[i]! + b.iowaitSec[i]!;
      const rss = b.rssBytes[i]!;
      const io = detail ? b.readBytes[i]! + b.writeBytes[i]! : hIo[s]!;
      const fds = detail ? b.fds[i]! : hFds[s]!;
      const counts = b.minFaults[i]! + b.majFaults[i]! + (detail ? b.volCtx[i]! + b.involCtx[i]! : 0);
      const threads = b.threads[i]!;
      const unchanged =
        cpu === hCpu[s] &&
        rss === hRss[s] &&
        io === hIo[s] &&
        counts === hCounts[s] &&
        threads === hThreads[s] &&
        fds === hFds[s];
      if (every > 1 && unchanged && sent[s]! > 0 && cycle - sent[s]! < every) {
        f.lane[i] = LANE_NONE;
        skipped++;
        continue;
      }
      sent[s] = cycle;
      hCpu[s] = cpu;
      hRss[s] = rss;
      hIo[s] = io;
      hCounts[s] = counts;
      hThreads[s] = threads;
      hFds[s] = fds;
    }
    f.facts.heartbeatSkipped = skipped;
  }

  columns(): Column[] {
    return [this.sentCycle, this.cpu, this.rss, this.io, this.counts, this.threads, this.fds];
  }

  saveExtra(): unknown {
    return { cycles: this.cycles };
  }

  restoreExtra(v: unknown): string | undefined {
    const c = (v as { cycles?: unknown } | null)?.cycles;
    if (typeof c !== 'number' || !Number.isSafeInteger(c) || c < 0 || c > 2 ** 31 - 1) return 'cycles';
    this.cycles = c;
    return undefined;
  }
}
