/**
 * What the agent's scan history (scan.history, src/sources/recording/
 * history.ts) costs a cycle, and how far back its memory cap reaches
 * (`npm run bench:history`).
 *
 * For each host size, the real engine (default config, balanced) runs the
 * same synthetic host (held in memory, churning, one cycle per simulated
 * 10 s) three times in this process: over the plain scanner before and
 * after (the baseline: their mean), and with the history kept between them. Printed: the mean cycle time of each (the
 * first cycle left out) and the difference; the bytes a key record and a
 * steady record take; how long 32 MiB (the default max_mib) lasts at a 10 s
 * interval; and the history's own heap (its buffers; the identity map
 * shares the scanner's strings).
 *
 * The in-memory host reads every process in detail, so its records are the
 * largest an agent's can be (scan.detail: exported leaves most rows' io,
 * status and fd values UNKNOWN, which compress to almost nothing).
 *
 *   node dist/bench/history.bench.js [--sizes 10000,100000] [--cycles 40] [--json]
 */
import { performance } from 'node:perf_hooks';
import { positiveInt } from '../src/cli/options.js';
import { loadConfig } from '../src/config/load.js';
import { silentLogger } from '../src/core/log.js';
import { MemoryHost } from '../src/harness/synth/memory.js';
import { Engine, type ExportSink } from '../src/pipeline/engine.js';
import type { ProcessBatch } from '../src/sources/batch.js';
import { HistoryScanner, ScanHistory } from '../src/sources/recording/history.js';
import type { ProcessScanner } from '../src/sources/scanner.js';
import { CommandLinePrivacy } from '../src/util/privacy.js';

const STEP_MS = 10_000;
const CAP = 32 << 20;
const NULL_SINK: ExportSink = { start: async () => {}, export: async () => [], shutdown: async () => {} };

interface Args {
  sizes: number[];
  cycles: number;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { sizes: [10_000, 100_000], cycles: 40, json: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--json') a.json = true;
    else if (k === '--sizes') a.sizes = (argv[++i] ?? '').split(',').map((s) => positiveInt('--sizes')(s));
    else if (k === '--cycles') a.cycles = positiveInt('--cycles')(argv[++i] ?? '');
    else throw new Error(`unknown flag ${k} (--sizes, --cycles, --json)`);
  }
  return a;
}

interface Run {
  cycleMs: number;
  history?: { scans: number; bytes: number; keyBytes: number; steadyBytes: number };
}

async function run(processes: number, cycles: number, keep: boolean): Promise<Run> {
  const { config } = loadConfig();
  const host = new MemoryHost({ processes, seed: 5, shape: 'mixed' }, Date.UTC(2026, 0, 5, 12));
  const plain = host as unknown as ProcessScanner;
  let scanner: ProcessScanner = plain;
  let history: ScanHistory | undefined;
  const sizes: number[] = [];
  if (keep) {
    history = new ScanHistory(
      { windowMs: 3_600_000, maxBytes: CAP },
      { procRoot: '/proc', backend: 'ts' },
      (uid) => String(uid),
      () => ({ privacy: new CommandLinePrivacy('keep'), detail: 'all', bounded: false }),
      () => STEP_MS,
    );
    const h = history;
    const inner: ProcessScanner = {
      backend: 'ts',
      procRoot: '/proc',
      scan: (o) => plain.scan(o),
      close: () => {},
    };
    const wrapped = new HistoryScanner(
      inner,
      h,
      () => ({}),
      (e) => {
        throw e;
      },
    );
    scanner = {
      backend: 'ts',
      procRoot: '/proc',
      scan: async (o): Promise<ProcessBatch> => {
        const before = h.stats.bytes;
        const b = await wrapped.scan(o);
        sizes.push(h.stats.bytes - before);
        return b;
      },
      close: () => {},
    };
  }
  const engine = new Engine({
    config,
    profile: 'balanced',
    scanner,
    sink: NULL_SINK,
    intervalMs: STEP_MS,
    logger: silentLogger,
    now: () => host.nowMs,
    workers: 0,
  });
  await engine.start();
  let total = 0;
  for (let c = 0; c < cycles; c++) {
    const t0 = performance.now();
    await engine.cycle();
    if (c > 0) total += performance.now() - t0;
    host.step(STEP_MS / 1000, c % 10 === 5 ? 2 : 0, 1);
  }
  await engine.shutdown();
  const out: Run = { cycleMs: total / (cycles - 1) };
  if (history) {
    const steady = sizes.slice(1).filter((s) => s > 0 && s < sizes[0]! / 2);
    out.history = {
      scans: history.stats.scans,
      bytes: history.stats.bytes,
      keyBytes: sizes[0]!,
      steadyBytes: steady.reduce((s, x) => s + x, 0) / Math.max(1, steady.length),
    };
  }
  return out;
}

const mib = (b: number) => `${(b / 1048576).toFixed(2)} MiB`;

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const results = [];
  for (const n of a.sizes) {
    const cycles = n >= 50_000 ? Math.min(a.cycles, 15) : a.cycles;
    // the baseline runs before and after the history's run (the first run of a size also warms the JIT); its mean
    const before = await run(n, cycles, false);
    globalThis.gc?.();
    const kept = await run(n, cycles, true);
    globalThis.gc?.();
    const after = await run(n, cycles, false);
    globalThis.gc?.();
    const base = { cycleMs: (before.cycleMs + after.cycleMs) / 2 };
    const h = kept.history!;
    // per 45 cycles (a segment at window/8 of 1 h and 10 s): one key record and 44 steady ones
    const perSegment = h.keyBytes + 44 * h.steadyBytes;
    const minutes = ((CAP / perSegment) * 45 * STEP_MS) / 60_000;
    const r = {
      processes: n,
      cycles,
      baselineCycleMs: base.cycleMs,
      historyCycleMs: kept.cycleMs,
      overheadMs: kept.cycleMs - base.cycleMs,
      keyRecordBytes: h.keyBytes,
      steadyRecordBytes: h.steadyBytes,
      minutesIn32MiB: Math.min(60, minutes),
    };
    results.push(r);
    if (!a.json) {
      process.stdout.write(
        `${n} processes, ${cycles} cycles: cycle ${kept.cycleMs.toFixed(1)} ms with the history, ` +
          `${base.cycleMs.toFixed(1)} ms without (baseline, same run): +${r.overheadMs.toFixed(1)} ms ` +
          `(+${((r.overheadMs / base.cycleMs) * 100).toFixed(0)}%); key record ${mib(h.keyBytes)}, ` +
          `steady record ${mib(h.steadyBytes)}; 32 MiB holds ${r.minutesIn32MiB.toFixed(0)} min of a 10 s interval (window 1 h)\n`,
      );
    }
  }
  if (a.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
