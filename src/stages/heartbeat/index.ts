/**
 * heartbeat: standard-path dedup. A process whose exported values are
 * unchanged since it was last sent is idle and is sent only every
 * `paths.standard.heartbeat_cycles` cycles; any change sends it at once.
 * What is compared is what its metric set exports (CPU times, RSS, virtual
 * size, I/O, threads, fds, faults, context switches; uptime and utilization
 * follow from those), kept per identity as two 53-bit fingerprints: one of
 * the values `stat` gives, one of those only a full read gives, so a row
 * read stat-only compares only what was read. Fingerprints live at the
 * identity's slot and are checkpointed, so separate `--once` runs skip what a
 * continuous run would.
 */
import { type Frame, LANE_NONE, LANE_STANDARD } from '../../core/frame.js';
import type { Column, IdentityTable } from '../../core/identity.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import { FLAG_DETAIL, type ProcessBatch } from '../../sources/batch.js';
import type { Stateful } from '../../state/checkpoint.js';
import { M, type MetricSet, tierMask } from '../build/metrics.js';

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
let h1 = 0;
let h2 = 0;

/** Mix the bits of a double into the running fingerprint (two 32-bit lanes, murmur3 steps). */
function mix(v: number): void {
  f64[0] = v;
  for (let k = 0; k < 2; k++) {
    let x = Math.imul(u32[k]!, 0xcc9e2d51);
    x = (x << 15) | (x >>> 17);
    x = Math.imul(x, 0x1b873593);
    h1 ^= x;
    h1 = Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64;
    h2 = Math.imul(h2 ^ x, 0x85ebca6b) + 0x9e3779b9;
  }
}

/** The fingerprint as an exactly representable double (53 bits). */
function digest(): number {
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h2 ^= h2 >>> 15;
  h2 = Math.imul(h2, 0xc2b2ae35);
  return (h2 >>> 11) * 4294967296 + (h1 >>> 0);
}

/** Fingerprint of the `stat` values row i exports with `mask`. */
function statPrint(b: ProcessBatch, i: number, mask: number): number {
  h1 = 0x12345678;
  h2 = 0x9abcdef0;
  if (mask & (M['process.cpu.time'] | M['process.cpu.utilization'])) {
    mix(b.utimeSec[i]!);
    mix(b.stimeSec[i]!);
    mix(b.iowaitSec[i]!);
  }
  if (mask & (M['process.memory.usage'] | M['process.memory.utilization'])) mix(b.rssBytes[i]!);
  if (mask & M['process.memory.virtual']) mix(b.vsizeBytes[i]!);
  if (mask & M['process.threads']) mix(b.threads[i]!);
  if (mask & M['process.paging.faults']) {
    mix(b.minFaults[i]!);
    mix(b.majFaults[i]!);
  }
  return digest();
}

/** Fingerprint of the values only a full read gives (io, fds, context switches). */
function detailPrint(b: ProcessBatch, i: number, mask: number): number {
  h1 = 0x0badf00d;
  h2 = 0x5eed1234;
  if (mask & M['process.disk.io']) {
    mix(b.readBytes[i]!);
    mix(b.writeBytes[i]!);
  }
  if (mask & M['process.open_file_descriptors']) mix(b.fds[i]!);
  if (mask & M['process.context_switches']) {
    mix(b.volCtx[i]!);
    mix(b.involCtx[i]!);
  }
  return digest();
}

const print = (v: number) => v === -1 || (v >= 0 && v < 2 ** 53 && v % 1 === 0);

export class HeartbeatStage implements Stage, Stateful {
  readonly name = 'heartbeat';
  readonly stateName = 'heartbeat';
  /** heartbeat cycle the process was last sent; 0 = never */
  private readonly sentCycle: Column<Int32Array>;
  /** fingerprints of what was last sent (-1 = none) */
  private readonly statSent: Column<Float64Array>;
  private readonly detailSent: Column<Float64Array>;
  /** cycles since this stage's first: sent cycles are kept relative to it across restarts */
  private cycles = 0;

  constructor(
    ids: IdentityTable,
    private readonly metrics: MetricSet,
    private readonly every: number,
  ) {
    this.sentCycle = ids.i32('heartbeat.cycle', { valid: (v) => v >= 0 });
    this.statSent = ids.f64('heartbeat.stat', { init: -1, valid: print });
    this.detailSent = ids.f64('heartbeat.detail', { init: -1, valid: print });
  }

  process(f: Frame, ctx?: CycleContext): void {
    const cycle = ++this.cycles;
    const b = f.batch;
    const every = this.every;
    const sent = this.sentCycle.data;
    const statSent = this.statSent.data;
    const detailSent = this.detailSent.data;
    let skipped = 0;
    for (let i = 0; i < f.n; i++) {
      if (f.lane[i] !== LANE_STANDARD) continue;
      const s = f.slot[i]!;
      const mask = tierMask(this.metrics, f.tier[i]!, ctx?.profile ?? {});
      const st = statPrint(b, i, mask);
      // a row read stat-only carries no io/fd/switch values: compare what was read
      const de = (b.flags[i]! & FLAG_DETAIL) !== 0 ? detailPrint(b, i, mask) : detailSent[s]!;
      const unchanged = st === statSent[s] && de === detailSent[s];
      if (every > 1 && unchanged && sent[s]! > 0 && cycle - sent[s]! < every) {
        f.lane[i] = LANE_NONE;
        skipped++;
        continue;
      }
      sent[s] = cycle;
      statSent[s] = st;
      detailSent[s] = de;
    }
    f.facts.heartbeatSkipped = skipped;
  }

  columns(): Column[] {
    return [this.sentCycle, this.statSent, this.detailSent];
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
