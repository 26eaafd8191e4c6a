/**
 * What a simulation scans: a synthetic host in memory (src/harness/synth/
 * memory.ts) moved by a simulated clock with a daily load cycle and
 * injected anomalies, or a recording made by `nrdot record`, replayed scan
 * by scan on its own recorded clock (looping when the simulated time is
 * longer than the recording).
 */
import { MemoryHost } from '../../harness/synth/memory.js';
import type { Shape } from '../../harness/synth/types.js';
import type { Scanner } from '../../pipeline/types.js';
import { ReplayScanner } from '../../sources/recording/replay.js';

export interface SimSource {
  readonly scanner: Scanner;
  /** the simulated clock (ms since the epoch): the time of the scan about to be, or just, taken */
  now(): number;
  /**
   * Move to the next cycle, `stepMs` of simulated time at `load` (x the
   * peak), with `anomalies` injected; returns the anomalies injected
   * (a recording injects none and moves by its own recorded interval).
   */
  advance(stepMs: number, anomalies: number, load: number): number;
  /** what the report calls this source */
  readonly describe: SourceInfo;
  /** give back what it holds open (a recording's file) */
  close?(): void;
}

export type SourceInfo =
  | { kind: 'synthetic'; shape: Shape; processes: number; seed: number }
  | { kind: 'recording'; dir: string; scans: number; intervalMs: number; hostname: string };

export interface SyntheticSpec {
  shape: Shape;
  processes: number;
  seed: number;
}

/** Default simulated start: Monday 2025-01-06 00:00 UTC. */
export const SIM_START_MS = Date.UTC(2025, 0, 6);

export function syntheticSource(s: SyntheticSpec, startMs = SIM_START_MS): SimSource {
  const host = new MemoryHost({ processes: s.processes, seed: s.seed, shape: s.shape }, startMs);
  return {
    scanner: host,
    now: () => host.nowMs,
    advance: (stepMs, anomalies, load) => host.step(stepMs / 1000, anomalies, load).anomalies.length,
    describe: { kind: 'synthetic', shape: s.shape, processes: s.processes, seed: s.seed },
  };
}

/**
 * A recording replayed from its first scan (checked when opened: exit 2
 * naming the file and record at fault). It loops, so a simulation longer
 * than the recording starts it again (later clocks, new identities); one no
 * longer than the recording never reaches its end.
 */
export function recordingSource(dir: string): SimSource {
  const replay = ReplayScanner.open(dir, { loop: true });
  const h = replay.reader.header;
  return {
    scanner: replay,
    now: replay.now,
    advance: () => 0,
    close: () => replay.close(),
    describe: {
      kind: 'recording',
      dir: replay.procRoot,
      scans: replay.scans,
      intervalMs: h.intervalMs > 0 ? h.intervalMs : 10_000,
      hostname: h.hostname,
    },
  };
}
