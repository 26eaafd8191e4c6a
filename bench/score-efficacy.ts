/**
 * Anomaly-scoring efficacy on synthetic hosts, through the real engine:
 * generate a host, run steady cycles (normal noise and churn, no anomalies)
 * to count false-positive promotions, then inject anomalies with
 * `advanceHost({ anomalies: K })` and check that each injected process is
 * exported with `nrdot.anomaly` within 2 cycles. The engine's clock is the
 * simulated one (10 s per cycle), so holds expire as they would on a host.
 *
 *   npm run bench:score-efficacy [-- --sizes 2000,10000 --seeds 1,2,3 --rounds 6 --anomalies 5]
 *
 * `measureEfficacy` is also what test/score/efficacy.test.ts asserts on.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { silentLogger } from '../src/core/log.js';
import { EncodedRequest } from '../src/exporters/exporter.js';
import { advanceHost, generateHost } from '../src/harness/synth/index.js';
import type { ExportMetricsServiceRequest } from '../src/otlp/model.js';
import { Engine, type ExportSink } from '../src/pipeline/engine.js';
import { ProcfsReader } from '../src/sources/procfs/reader.js';
import { ResourceAttr } from '../src/telemetry/names.js';
import { fastTmpDir } from '../src/util/tmp.js';

export interface EfficacyOptions {
  config?: Config;
  processes: number;
  seed: number;
  /** steady cycles after the first (which has no rates yet) */
  steadyCycles?: number;
  /** anomaly rounds: inject K, then one more cycle */
  rounds?: number;
  anomalies?: number;
  workers?: number;
  /** a scratch directory (tmpfs); a temporary one when absent */
  dir?: string;
}

export interface EfficacyResult {
  profile: string;
  processes: number;
  seed: number;
  injected: number;
  caughtFirstCycle: number;
  caughtWithin2: number;
  missed: { pid: number; kind: string }[];
  byKind: Record<string, { injected: number; caught: number }>;
  /** distinct processes promoted during steady cycles */
  steadyPromoted: number;
  /** processes seen in a steady cycle, summed over steady cycles */
  steadyProcessCycles: number;
  /** the largest process count of a steady cycle */
  steadyProcesses: number;
  /** promotions of processes that were not injected, during anomaly rounds */
  roundFalsePromotions: number;
  falsePositiveRate: number;
  captureRate: number;
  /** steady-cycle promotions by reason */
  falseByReason: Record<string, number>;
}

/** A sink that remembers which pids were exported with `nrdot.anomaly`, and why. */
class CaptureSink implements ExportSink {
  last = new Map<number, string>();
  async start(): Promise<void> {}
  async shutdown(): Promise<void> {}
  async export(payload: ExportMetricsServiceRequest | EncodedRequest) {
    this.last = new Map();
    const req = payload instanceof EncodedRequest ? payload.request : payload;
    for (const rm of req.resourceMetrics) {
      const attrs = rm.resource?.attributes ?? [];
      const reason = attrs.find((a) => a.key === ResourceAttr.anomaly);
      if (!reason) continue;
      const pid = attrs.find((a) => a.key === ResourceAttr.pid);
      const v = pid?.value as { intValue?: string } | undefined;
      if (v?.intValue !== undefined) {
        this.last.set(Number(v.intValue), (reason.value as { stringValue?: string }).stringValue ?? '');
      }
    }
    return [{ exporter: 'capture', ok: true, bytes: 0 }];
  }
}

/** One engine per profile, all scanning the same advancing host, so every profile sees the same anomalies. */
export async function measureEfficacy(
  o: Omit<EfficacyOptions, 'profile'> & { profiles: string[] },
): Promise<EfficacyResult[]> {
  const config = o.config ?? withOverrides(loadConfig().config);
  const steadyCycles = o.steadyCycles ?? 4;
  const rounds = o.rounds ?? 4;
  const k = o.anomalies ?? 5;
  const scratch = o.dir ?? fastTmpDir('nrdot-efficacy-');
  const root = path.join(scratch, `host-${o.processes}-${o.seed}`);
  let clock = Date.UTC(2025, 0, 1);
  try {
    await generateHost({ out: root, processes: o.processes, seed: o.seed });
    const runs = o.profiles.map((profile) => {
      const sink = new CaptureSink();
      const engine = new Engine({
        config,
        profile,
        scanner: new ProcfsReader({ procRoot: root }),
        sink,
        intervalMs: 10_000,
        logger: silentLogger,
        now: () => clock,
        workers: o.workers ?? 0,
      });
      return {
        profile,
        sink,
        engine,
        held: new Set<number>(),
        steadyPromoted: new Set<number>(),
        steadyProcesses: 0,
        steadyProcessCycles: 0,
        byKind: {} as Record<string, { injected: number; caught: number }>,
        missed: [] as { pid: number; kind: string }[],
        injected: 0,
        caughtFirst: 0,
        caught2: 0,
        roundFalse: 0,
        falseByReason: {} as Record<string, number>,
      };
    });
    for (const r of runs) await r.engine.start();
    const cycleAll = async () => {
      const reports = [];
      for (const r of runs) reports.push(await r.engine.cycle());
      return reports;
    };
    const step = async (anomalies: number) => {
      const adv = await advanceHost({ dir: root, seconds: 10, anomalies });
      clock += 10_000;
      return { adv, reports: await cycleAll() };
    };
    try {
      await cycleAll();
      for (let c = 0; c < steadyCycles; c++) {
        const { reports } = await step(0);
        runs.forEach((r, j) => {
          r.steadyProcessCycles += reports[j]!.processes;
          r.steadyProcesses = Math.max(r.steadyProcesses, reports[j]!.processes);
          for (const [pid, why] of r.sink.last) {
            if (r.held.has(pid)) continue;
            r.steadyPromoted.add(pid);
            r.falseByReason[why] = (r.falseByReason[why] ?? 0) + 1;
          }
          r.held = new Set(r.sink.last.keys());
        });
      }
      const everInjected = new Set<number>();
      for (let round = 0; round < rounds; round++) {
        const first = await step(k);
        const want = first.adv.anomalies;
        for (const a of want) everInjected.add(a.pid);
        const seen1 = runs.map((r) => new Set(r.sink.last.keys()));
        const countFalse = () => {
          for (const r of runs) {
            for (const pid of r.sink.last.keys()) if (!r.held.has(pid) && !everInjected.has(pid)) r.roundFalse++;
            r.held = new Set(r.sink.last.keys());
          }
        };
        countFalse();
        await step(0);
        countFalse();
        runs.forEach((r, j) => {
          const seen2 = r.sink.last;
          for (const a of want) {
            r.injected++;
            r.byKind[a.kind] ??= { injected: 0, caught: 0 };
            const kind = r.byKind[a.kind]!;
            kind.injected++;
            if (seen1[j]!.has(a.pid)) r.caughtFirst++;
            if (seen1[j]!.has(a.pid) || seen2.has(a.pid)) {
              r.caught2++;
              kind.caught++;
            } else r.missed.push(a);
          }
        });
      }
      return runs.map((r) => ({
        profile: r.profile,
        processes: o.processes,
        seed: o.seed,
        injected: r.injected,
        caughtFirstCycle: r.caughtFirst,
        caughtWithin2: r.caught2,
        missed: r.missed,
        byKind: r.byKind,
        steadyPromoted: r.steadyPromoted.size,
        steadyProcessCycles: r.steadyProcessCycles,
        steadyProcesses: r.steadyProcesses,
        roundFalsePromotions: r.roundFalse,
        falsePositiveRate: r.steadyProcesses > 0 ? r.steadyPromoted.size / r.steadyProcesses : 0,
        captureRate: r.injected > 0 ? r.caught2 / r.injected : 1,
        falseByReason: r.falseByReason,
      }));
    } finally {
      for (const r of runs) await r.engine.shutdown();
    }
  } finally {
    if (o.dir) fs.rmSync(root, { recursive: true, force: true });
    else fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** NRDOT_ANOMALY='{"min_cpu_percent":25}' overrides every profile's anomaly keys (for threshold sweeps). */
function withOverrides(config: Config): Config {
  const raw = process.env.NRDOT_ANOMALY;
  if (!raw) return config;
  const over = JSON.parse(raw) as Partial<Config['profiles'][string]['anomaly']>;
  for (const p of Object.values(config.profiles)) Object.assign(p.anomaly, over);
  return config;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

async function main() {
  const sizes = arg('sizes', '2000,10000').split(',').map(Number);
  const seeds = arg('seeds', '1,2,3').split(',').map(Number);
  const profiles = arg('profiles', 'conservative,balanced,aggressive,emergency').split(',');
  const rounds = Number(arg('rounds', '6'));
  const anomalies = Number(arg('anomalies', '5'));
  const steadyCycles = Number(arg('steady', '6'));
  console.log(
    `# scoring efficacy: ${steadyCycles} steady cycles, then ${rounds} rounds of ${anomalies} injected anomalies; 10 s per cycle`,
  );
  console.log(
    '| profile | processes | seed | captured in 1 cycle | captured within 2 | cpu / memory / new | false positives (steady) | FP rate | false promotions in anomaly rounds |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  const rows: EfficacyResult[] = [];
  for (const processes of sizes) {
    for (const seed of seeds) {
      rows.push(...(await measureEfficacy({ profiles, processes, seed, rounds, anomalies, steadyCycles })));
    }
  }
  rows.sort((a, b) => profiles.indexOf(a.profile) - profiles.indexOf(b.profile));
  for (const r of rows) {
    const kinds = ['cpu', 'memory', 'new'].map((k) => `${r.byKind[k]?.caught ?? 0}/${r.byKind[k]?.injected ?? 0}`);
    console.log(
      `| ${r.profile} | ${r.processes} | ${r.seed} | ${r.caughtFirstCycle}/${r.injected} | ${r.caughtWithin2}/${r.injected} (${(100 * r.captureRate).toFixed(1)}%) | ${kinds.join(' / ')} | ${r.steadyPromoted} | ${(100 * r.falsePositiveRate).toFixed(2)}% | ${r.roundFalsePromotions} |`,
    );
    if (r.missed.length > 0) console.log(`  missed: ${JSON.stringify(r.missed)}`);
    if (process.env.NRDOT_EFFICACY_DEBUG)
      console.log(`  steady promotions by reason: ${JSON.stringify(r.falseByReason)}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
