/**
 * Full-cycle benchmark on synthetic hosts: scan -> classify -> rates ->
 * profile -> roll-up -> build -> encode, with the `none` exporter.
 *
 * Baseline measured in the same run: the same engine with an "everything"
 * profile (every tier at full resolution, no caps), i.e. what exporting every
 * process costs the agent. Ratios < 1 mean the profile's cycle is cheaper.
 *
 *   npm run bench:cycle [-- --sizes 1000,10000 --cycles 5 --backend ts|native]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { type CycleReport, Engine } from '../src/engine/engine.js';
import { createSink } from '../src/export/sink.js';
import { type BackendChoice, openScanner } from '../src/ingest/index.js';
import { silentLogger } from '../src/log.js';
import { generateHost } from '../src/synth/index.js';
import { fastTmpDir } from '../src/util/tmp.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const sizes = arg('sizes', '1000,10000').split(',').map(Number);
const backend = arg('backend', 'ts') as BackendChoice;
const cycles = Number(arg('cycles', '5'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(config: Config, profile: string, root: string) {
  const engine = new Engine({
    config,
    profile,
    scanner: openScanner(root, backend).reader,
    sink: createSink(['none'], { logger: silentLogger }),
    intervalMs: 10_000,
    logger: silentLogger,
  });
  await engine.start();
  await engine.cycle(); // warm-up: first scan reads every cmdline and sizes every identity
  const ms: number[] = [];
  const scan: number[] = [];
  let last: CycleReport | undefined;
  for (let c = 0; c < cycles; c++) {
    last = await engine.cycle();
    ms.push(last.cycleMs);
    scan.push(last.scan.ms);
  }
  await engine.shutdown();
  return { cycleMs: median(ms), scanMs: median(scan), report: last! };
}

async function main() {
  const { config } = loadConfig();
  const everything: Config = structuredClone(config);
  everything.profiles.everything = {
    full_resolution_tiers: ['critical', 'important', 'standard', 'noise'],
    thresholds: { cpu_percent: 0, rss_mib: 0 },
    top_n: { important: 1e9, standard: 1e9, noise: 1e9 },
    max_series: 1e12,
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
      const base = await measure(everything, 'everything', root);
      console.log(
        '| pipeline | cycle ms | scan ms | µs/process | ratio vs baseline | exported points | reduction (bytes) |',
      );
      console.log('|---|---|---|---|---|---|---|');
      const row = (name: string, r: Awaited<ReturnType<typeof measure>>) =>
        console.log(
          `| ${name} | ${r.cycleMs.toFixed(1)} | ${r.scanMs.toFixed(1)} | ${((r.cycleMs * 1000) / n).toFixed(1)} | ${(r.cycleMs / base.cycleMs).toFixed(2)} | ${r.report.datapoints.exported} | ${(r.report.reduction.bytes * 100).toFixed(1)}% |`,
        );
      row('baseline: every process exported', base);
      for (const p of ['conservative', 'balanced', 'aggressive', 'emergency']) row(p, await measure(config, p, root));
      console.log(`RSS after ${n}: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
