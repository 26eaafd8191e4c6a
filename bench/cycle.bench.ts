/**
 * Full-cycle benchmark on synthetic hosts: scan -> classify -> rates ->
 * profile -> roll-up -> build -> encode, with the `none` exporter.
 *
 * Baseline measured in the same run: the same engine with an "everything"
 * profile (every tier at full resolution, no caps), i.e. what exporting every
 * process costs the agent. Ratios < 1 mean the profile's cycle is cheaper.
 *
 * The tree does not change between cycles, so standard-lane rows whose
 * values did not change are sent only on heartbeat cycles
 * (`paths.standard.heartbeat_cycles`): "exported points" is the steady state
 * of an idle host, whatever the profile keeps.
 *
 * Each pipeline also gets its stage breakdown (median ms per stage over the
 * same cycles, from the engine's StageTimer) and the bench process's RSS
 * after its cycles (every engine before it has been shut down, not collected).
 *
 * Then the agent as users run it: `nrdot run` (balanced, native scanner when
 * it loads, --export none) in its own process over the same tree, its first
 * and steady cycle times beside the C floor measured in the same run
 * (bench/scanfloor.c: every process's `stat` on kept fds up to the fd limit,
 * open-read-close beyond it, plus the directory listing), and its peak RSS.
 *
 *   npm run bench:cycle [-- --sizes 10000,100000 --cycles 5 --backend ts|native --agent-cycles 6 --skip-engines]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exporterOptions } from '../src/config/components.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { silentLogger } from '../src/core/log.js';
import { createSink } from '../src/exporters/sink.js';
import { generateHost } from '../src/harness/synth/index.js';
import { type CycleReport, Engine } from '../src/pipeline/engine.js';
import { type BackendChoice, openScanner } from '../src/sources/index.js';
import { fastTmpDir } from '../src/util/tmp.js';
import { runAgent } from './agent-run.js';
import { compileFloor, runFloor } from './floor.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const sizes = arg('sizes', '10000,100000').split(',').map(Number);
const skipEngines = process.argv.includes('--skip-engines');
const backend = arg('backend', 'ts') as BackendChoice;
const cycles = Number(arg('cycles', '5'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const STAGES = ['scan', 'classify', 'rates', 'score', 'baseline', 'profile', 'rollup', 'build', 'cost'] as const;
const agentCycles = Number(arg('agent-cycles', '6'));
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

async function measure(config: Config, profile: string, root: string) {
  const engine = new Engine({
    config,
    profile,
    scanner: openScanner(root, backend).reader,
    sink: createSink(['none'], exporterOptions(config, { logger: silentLogger })),
    intervalMs: 10_000,
    logger: silentLogger,
  });
  await engine.start();
  await engine.cycle(); // warm-up: first scan reads every cmdline and sizes every identity
  const ms: number[] = [];
  const scan: number[] = [];
  const stages = new Map<string, number[]>(STAGES.map((s) => [s, []]));
  let last: CycleReport | undefined;
  for (let c = 0; c < cycles; c++) {
    last = await engine.cycle();
    ms.push(last.cycleMs);
    scan.push(last.scan.ms);
    for (const s of STAGES) stages.get(s)!.push(engine.timer.last(s));
  }
  const rss = process.memoryUsage().rss;
  await engine.shutdown();
  const stageMs = STAGES.map((s) => median(stages.get(s)!));
  return { cycleMs: median(ms), scanMs: median(scan), stageMs, rss, report: last! };
}

async function agentSection(tmp: string, root: string, n: number): Promise<void> {
  const bin = compileFloor(tmp);
  const floor = runFloor(bin, root, 7);
  const floorFstat = runFloor(bin, root, 7, true);
  const run = await runAgent([
    '--cycles',
    String(agentCycles),
    '--interval',
    '1s',
    '--proc-root',
    root,
    '--export',
    'none',
    '--listen',
    'off',
    '--log-level',
    'warn',
  ]);
  if (run.exitCode !== 0 || run.cycleMs.length === 0) {
    console.log(`nrdot run failed (exit ${run.exitCode}):\n${run.stderr}`);
    return;
  }
  const first = run.cycleMs[0]!;
  const steady = median(run.cycleMs.slice(1));
  const x = (ms: number) => `${(ms / floor.steadyMs).toFixed(2)}x`;
  console.log(`\nnrdot run (balanced, ${agentCycles} cycles, --export none) against the C floor on the same tree:\n`);
  console.log('| what | ms | vs C floor (steady) |');
  console.log('|---|---|---|');
  console.log(`| C floor: every \`stat\`, steady (median of 6) | ${floor.steadyMs.toFixed(1)} | 1.00x |`);
  console.log(`| C floor: first iteration (opens the kept fds) | ${floor.firstMs.toFixed(1)} | ${x(floor.firstMs)} |`);
  console.log(
    `| C floor + an fstat per kept fd (what a non-procfs tree needs) | ${floorFstat.steadyMs.toFixed(1)} | ${x(floorFstat.steadyMs)} |`,
  );
  console.log(`| nrdot run: first cycle | ${first} | ${x(first)} |`);
  console.log(`| nrdot run: steady cycle (median of cycles 2-${run.cycleMs.length}) | ${steady} | ${x(steady)} |`);
  console.log(`\nnrdot run peak RSS at ${n} processes: ${mib(run.peakRss)} MiB`);
}

async function main() {
  const { config } = loadConfig();
  const everything: Config = structuredClone(config);
  everything.profiles.everything = {
    full_resolution_tiers: ['critical', 'important', 'standard', 'noise'],
    thresholds: { cpu_percent: 0, rss_mib: 0 },
    top_n: { important: 1e9, standard: 1e9, noise: 1e9 },
    max_series: 1e12,
    pools: { top_k: 1e9 },
    groups: { budget: 1e9, min_members: config.profiles.balanced!.groups.min_members },
    anomaly: config.profiles.balanced!.anomaly,
  };
  const tmp = fastTmpDir('nrdot-bench-');
  console.log(
    `# cycle benchmark (${backend} scanner): node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, median of ${cycles} cycles after a warm-up`,
  );
  try {
    for (const n of sizes) {
      const root = path.join(tmp, `host-${n}`);
      const g0 = performance.now();
      await generateHost({ out: root, processes: n, seed: 1 });
      console.log(`\n## ${n} processes (synthetic tree written in ${((performance.now() - g0) / 1000).toFixed(1)} s)`);
      await agentSection(tmp, root, n);
      if (skipEngines) continue;
      const base = await measure(everything, 'everything', root);
      console.log(
        '| pipeline | cycle ms | scan ms | µs/process | ratio vs baseline | exported points | reduction (bytes) |',
      );
      console.log('|---|---|---|---|---|---|---|');
      const row = (name: string, r: Awaited<ReturnType<typeof measure>>) =>
        console.log(
          `| ${name} | ${r.cycleMs.toFixed(1)} | ${r.scanMs.toFixed(1)} | ${((r.cycleMs * 1000) / n).toFixed(1)} | ${(r.cycleMs / base.cycleMs).toFixed(2)} | ${r.report.datapoints.exported} | ${(r.report.reduction.bytes * 100).toFixed(1)}% |`,
        );
      const all: [string, Awaited<ReturnType<typeof measure>>][] = [['baseline: every process exported', base]];
      row(all[0]![0], base);
      for (const p of ['conservative', 'balanced', 'aggressive', 'emergency']) {
        const r = await measure(config, p, root);
        all.push([p, r]);
        row(p, r);
      }
      console.log(`\nStage medians (ms) at ${n} processes, and the bench's RSS after each pipeline:\n`);
      console.log(`| pipeline | ${STAGES.join(' | ')} | RSS MiB |`);
      console.log(`|---|${STAGES.map(() => '---|').join('')}---|`);
      for (const [name, r] of all) {
        console.log(`| ${name} | ${r.stageMs.map((v) => v.toFixed(1)).join(' | ')} | ${mib(r.rss)} |`);
      }
      console.log(`RSS after ${n}: ${mib(process.memoryUsage().rss)} MiB`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
