/**
 * Reduction, coverage and totals on synthetic host shapes, through the real
 * engine and the real CLI, counted against what users run today.
 *
 * For one shape: generate the host, then for every profile
 *
 * - continuous: one Engine per profile scanning the same tree (the scanner
 *   `nrdot run` picks), the host advanced 10 s between cycles with churn
 *   and injected anomalies;
 * - once: `nrdot run --once --state-dir` per cycle (cron style), the same
 *   advancing host, one state dir per profile.
 *
 * Figures over the cycles after the first (which has no rates yet), i.e.
 * over one heartbeat period while the host changes:
 *
 * - reduction: 1 - exported points / baseline, where the baseline is the
 *   hostmetrics process scraper's default export of every process present
 *   (7 points each: process.cpu.time x3, process.memory.usage,
 *   process.memory.virtual, process.disk.io x2), counted from the
 *   generator's truth, not from nrdot's own report;
 * - critical coverage: the engine's count of critical-tier and protected
 *   processes exported every cycle;
 * - anomalies: each injected process exported in the cycle it appears or
 *   the next;
 * - totals (continuous only): RSS of kept members (their last exported
 *   value, including those the heartbeat held) + group roll-ups vs the sum
 *   over every process in the truth; CPU consumed in each interval by kept
 *   members + the roll-ups' growth vs every process's consumption.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { silentLogger } from '../src/core/log.js';
import { EncodedRequest } from '../src/exporters/exporter.js';
import { advanceHost, generateHost } from '../src/harness/synth/index.js';
import type { ProcessTruth, Shape, SynthTruth } from '../src/harness/synth/types.js';
import {
  attrNumber,
  attrString,
  countDataPoints,
  type ExportMetricsServiceRequest,
  type ResourceMetrics,
} from '../src/otlp/model.js';
import { decodeRequest } from '../src/otlp/proto.js';
import { Engine, type ExportSink } from '../src/pipeline/engine.js';
import { openScanner } from '../src/sources/index.js';
import { packageRoot } from '../src/util/package.js';

/** The hostmetrics process scraper's default metrics on Linux, in data points per process. */
export const HOSTMETRICS_POINTS = 7;

export interface ReductionOptions {
  shape: Shape;
  processes: number;
  seed: number;
  profiles: string[];
  /** cycles measured after the first (default: the standard path's heartbeat period) */
  cycles?: number;
  /** anomalies injected per step (default 2) */
  anomalies?: number;
  /** also run cron style (`run --once --state-dir` per cycle); default true */
  once?: boolean;
  /** scratch directory (tmpfs) */
  dir: string;
  config?: Config;
  onProgress?: (what: string) => void;
}

export interface Figures {
  shape: Shape;
  profile: string;
  mode: 'continuous' | 'once';
  /** mean processes present over the measured cycles */
  processes: number;
  /** mean processes exported per cycle */
  exported: number;
  points: number;
  baseline: number;
  reduction: number;
  criticalPresent: number;
  criticalExported: number;
  anomaliesInjected: number;
  anomaliesCaught: number;
  /** largest relative error of kept + roll-ups vs all, per cycle (continuous only) */
  rssError?: number;
  cpuError?: number;
  /** mean roll-up resources per cycle */
  groups: number;
}

const attr = (rm: ResourceMetrics, key: string) => rm.resource.attributes.find((a) => a.key === key)?.value;
const pidOf = (rm: ResourceMetrics): number | undefined => attrNumber(rm.resource.attributes, 'process.pid');
const isRollup = (rm: ResourceMetrics) => {
  const v = attr(rm, 'nrdot.rollup');
  return v !== undefined && 'boolValue' in v && v.boolValue === true;
};

function metricValue(rm: ResourceMetrics, name: string, states?: readonly string[]): number | undefined {
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      if (m.name !== name) continue;
      let v = 0;
      let any = false;
      for (const p of (m.sum ?? m.gauge)?.dataPoints ?? []) {
        const s = attrString(p.attributes, 'state');
        if (states && (s === undefined || !states.includes(s))) continue;
        v += p.asInt !== undefined ? Number(p.asInt) : (p.asDouble ?? 0);
        any = true;
      }
      return any ? v : undefined;
    }
  }
  return undefined;
}
const CPU_STATES = ['user', 'system'] as const;

class Capture implements ExportSink {
  out: ResourceMetrics[] = [];
  async start() {}
  async shutdown() {}
  async export(p: ExportMetricsServiceRequest | EncodedRequest) {
    const req = p instanceof EncodedRequest ? decodeRequest(p.protobuf()) : p;
    this.out.push(...req.resourceMetrics);
    return [];
  }
}

const idOf = (p: ProcessTruth) => `${p.pid}:${p.starttimeTicks}`;

/** What one cycle's output says, judged against the truth. */
interface CycleView {
  truth: SynthTruth;
  out: ResourceMetrics[];
  held: readonly number[];
}

class Tally {
  cycles = 0;
  processes = 0;
  exported = 0;
  points = 0;
  baseline = 0;
  criticalPresent = 0;
  criticalExported = 0;
  injected = 0;
  caught = 0;
  groups = 0;
  rssError = 0;
  cpuError = 0;
  /** anomalies injected last step, not yet seen */
  pending: number[] = [];
  /** last exported RSS and CPU of each pid (non-sampled process rows) */
  lastRss = new Map<number, number>();
  /** roll-up cumulative CPU by series name, last cycle */
  lastSeries = new Map<string, number>();
  prevCpu = new Map<string, number>();
  prevUptime = -1;

  /** `measured`: counted in the figures (not the first cycle) */
  see(v: CycleView, injected: readonly number[], measured: boolean, totals: boolean): void {
    const procs = v.out.filter((rm) => pidOf(rm) !== undefined && !isRollup(rm));
    const rollups = v.out.filter(isRollup);
    const exportedPids = new Set(procs.map((rm) => pidOf(rm)!));
    const clk = v.truth.clkTck;
    const cpuOf = (p: ProcessTruth) => (p.utimeTicks + p.stimeTicks) / clk;
    if (measured) {
      this.cycles++;
      this.processes += v.truth.processes.length;
      this.exported += procs.length;
      this.points += countDataPoints({ resourceMetrics: [...procs, ...rollups] });
      this.baseline += HOSTMETRICS_POINTS * v.truth.processes.length;
      this.groups += rollups.length;
      // anomalies: the ones injected last step had this cycle as their second chance
      for (const pid of this.pending) {
        if (exportedPids.has(pid)) this.caught++;
        else if (process.env.NRDOT_BENCH_VERBOSE) {
          const p = v.truth.processes.find((q) => q.pid === pid);
          process.stderr.write(
            `missed anomaly: pid ${pid} ${p ? `${p.comm} cpu ticks ${p.utimeTicks + p.stimeTicks} rss ${p.rssBytes}` : '(gone)'}\n`,
          );
        }
      }
    }
    this.pending = [];
    for (const pid of injected) {
      if (!measured) continue;
      this.injected++;
      if (exportedPids.has(pid)) this.caught++;
      else {
        this.pending.push(pid);
        if (process.env.NRDOT_BENCH_VERBOSE) {
          const p = v.truth.processes.find((q) => q.pid === pid);
          process.stderr.write(
            `anomaly not exported at once: pid ${pid} ${p ? `${p.comm} start ${p.starttimeTicks} cpu ticks ${p.utimeTicks + p.stimeTicks} rss ${p.rssBytes}` : '(gone)'}\n`,
          );
        }
      }
    }
    if (!totals) return;
    // totals: kept members (last exported value, held ones included) + roll-ups vs every process
    const sampled = (rm: ResourceMetrics) => attr(rm, 'nrdot.sample.rate') !== undefined;
    for (const rm of procs) {
      if (sampled(rm)) continue;
      const r = metricValue(rm, 'process.memory.usage');
      if (r !== undefined) this.lastRss.set(pidOf(rm)!, r);
    }
    const kept = new Set<number>([...procs.filter((rm) => !sampled(rm)).map((rm) => pidOf(rm)!), ...v.held]);
    let rssOut = 0;
    for (const pid of kept) rssOut += this.lastRss.get(pid) ?? 0;
    for (const rm of rollups) rssOut += metricValue(rm, 'process.memory.usage') ?? 0;
    const rssTruth = v.truth.processes.reduce((a, p) => a + p.rssBytes, 0);
    // CPU consumed in the interval
    const uptime = v.truth.host.uptime;
    let cpuTruth = 0;
    let cpuKept = 0;
    const cpuNow = new Map<string, number>();
    for (const p of v.truth.processes) {
      const now = cpuOf(p);
      cpuNow.set(idOf(p), now);
      const before = this.prevCpu.get(idOf(p));
      const born = p.starttimeTicks / clk >= this.prevUptime;
      const d = before !== undefined ? now - before : born ? now : 0;
      cpuTruth += d;
      if (kept.has(p.pid)) cpuKept += d;
    }
    let cpuRolled = 0;
    const series = new Map<string, number>();
    for (const rm of rollups) {
      const name = attrString(rm.resource.attributes, 'nrdot.group') ?? '';
      const c = metricValue(rm, 'process.cpu.time', CPU_STATES) ?? 0;
      series.set(name, c);
      cpuRolled += c - (this.lastSeries.get(name) ?? 0);
    }
    // a series that skipped a cycle keeps its last value
    for (const [name, c] of this.lastSeries) if (!series.has(name)) series.set(name, c);
    if (measured && this.prevUptime >= 0) {
      if (rssTruth > 0) this.rssError = Math.max(this.rssError, Math.abs(rssOut - rssTruth) / rssTruth);
      if (cpuTruth > 0) this.cpuError = Math.max(this.cpuError, Math.abs(cpuKept + cpuRolled - cpuTruth) / cpuTruth);
    }
    this.lastSeries = series;
    this.prevCpu = cpuNow;
    this.prevUptime = uptime;
  }

  figures(shape: Shape, profile: string, mode: Figures['mode'], totals: boolean): Figures {
    const c = Math.max(1, this.cycles);
    return {
      shape,
      profile,
      mode,
      processes: this.processes / c,
      exported: this.exported / c,
      points: this.points,
      baseline: this.baseline,
      reduction: this.baseline > 0 ? 1 - this.points / this.baseline : 0,
      criticalPresent: this.criticalPresent,
      criticalExported: this.criticalExported,
      anomaliesInjected: this.injected,
      anomaliesCaught: this.caught,
      rssError: totals ? this.rssError : undefined,
      cpuError: totals ? this.cpuError : undefined,
      groups: this.groups / c,
    };
  }
}

function readJsonl(file: string): ResourceMetrics[] {
  if (!fs.existsSync(file)) return [];
  const out: ResourceMetrics[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.trim()) out.push(...(JSON.parse(line) as ExportMetricsServiceRequest).resourceMetrics);
  }
  return out;
}

/** Every profile on one shape, continuous and (optionally) cron style. */
export async function measureReduction(o: ReductionOptions): Promise<Figures[]> {
  const config = o.config ?? loadConfig().config;
  const cycles = o.cycles ?? config.paths.standard.heartbeat_cycles;
  const k = o.anomalies ?? 2;
  const host = path.join(o.dir, `host-${o.shape}-${o.processes}-${o.seed}`);
  const progress = o.onProgress ?? (() => {});
  fs.rmSync(host, { recursive: true, force: true });
  progress(`${o.shape}: generating ${o.processes} processes`);
  let truth: SynthTruth = await generateHost({ out: host, processes: o.processes, seed: o.seed, shape: o.shape });
  let clock = Date.UTC(2026, 0, 1);
  const cont = o.profiles.map((profile) => {
    const sink = new Capture();
    const engine = new Engine({
      config,
      profile,
      scanner: openScanner(host).reader,
      sink,
      intervalMs: 10_000,
      logger: silentLogger,
      now: () => clock,
      selfTelemetry: false,
    });
    let held: readonly number[] = [];
    engine.onCycle((r) => {
      held = r.heldPids;
    });
    return { profile, sink, engine, tally: new Tally(), held: () => held };
  });
  const once =
    (o.once ?? true)
      ? o.profiles.map((profile) => ({
          profile,
          state: path.join(o.dir, `state-${o.shape}-${profile}`),
          tally: new Tally(),
        }))
      : [];
  const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  try {
    for (const r of cont) await r.engine.start();
    for (const r of once) fs.rmSync(r.state, { recursive: true, force: true });
    for (let c = 0; c <= cycles; c++) {
      let injected: number[] = [];
      if (c > 0) {
        // the last measured step injects nothing: every anomaly gets its two cycles
        const adv = await advanceHost({ dir: host, seconds: 10, anomalies: c < cycles ? k : 0 });
        injected = adv.anomalies.map((a) => a.pid);
        truth = adv;
        clock += 10_000;
      }
      progress(`${o.shape}: cycle ${c + 1}/${cycles + 1}`);
      for (const r of cont) {
        r.sink.out = [];
        const report = await r.engine.cycle();
        if (c > 0) {
          r.tally.criticalPresent += report.critical.present;
          r.tally.criticalExported += report.critical.exported;
        }
        r.tally.see({ truth, out: r.sink.out, held: r.held() }, injected, c > 0, true);
      }
      for (const r of once) {
        const out = path.join(o.dir, `once-${o.shape}-${r.profile}.jsonl`);
        fs.rmSync(out, { force: true });
        const line = execFileSync(
          process.execPath,
          [
            cli,
            'run',
            '--once',
            '--proc-root',
            host,
            '--profile',
            r.profile,
            '--state-dir',
            r.state,
            '--export',
            `file:${out}`,
            '--log-level',
            'warn',
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
        );
        const m = /critical (\d+)\/(\d+)/.exec(line);
        if (!m) throw new Error(`cannot read the summary line of run --once: ${line}`);
        if (c > 0) {
          r.tally.criticalExported += Number(m[1]);
          r.tally.criticalPresent += Number(m[2]);
        }
        r.tally.see({ truth, out: readJsonl(out), held: [] }, injected, c > 0, false);
        fs.rmSync(out, { force: true });
      }
    }
  } finally {
    for (const r of cont) await r.engine.shutdown().catch(() => undefined);
    fs.rmSync(host, { recursive: true, force: true });
    for (const r of once) fs.rmSync(r.state, { recursive: true, force: true });
  }
  return [
    ...cont.map((r) => r.tally.figures(o.shape, r.profile, 'continuous', true)),
    ...once.map((r) => r.tally.figures(o.shape, r.profile, 'once', false)),
  ];
}

/** The issue's targets: reduction per profile (vs hostmetrics), coverage, anomalies, totals. */
export const TARGETS: Record<string, number> = { conservative: 0.75, balanced: 0.9, aggressive: 0.95 };

export function misses(f: Figures): string[] {
  const out: string[] = [];
  const want = TARGETS[f.profile];
  if (want !== undefined && f.reduction < want)
    out.push(`reduction ${(f.reduction * 100).toFixed(1)}% < ${want * 100}%`);
  if (f.criticalExported < f.criticalPresent) out.push(`critical ${f.criticalExported}/${f.criticalPresent}`);
  if (f.anomaliesInjected > 0 && f.anomaliesCaught / f.anomaliesInjected < 0.99)
    out.push(`anomalies ${f.anomaliesCaught}/${f.anomaliesInjected}`);
  if (f.rssError !== undefined && f.rssError > 0.01) out.push(`RSS totals off by ${(f.rssError * 100).toFixed(2)}%`);
  if (f.cpuError !== undefined && f.cpuError > 0.01) out.push(`CPU totals off by ${(f.cpuError * 100).toFixed(2)}%`);
  return out;
}
