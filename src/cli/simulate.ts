/**
 * `nrdot simulate`: the real pipeline over a simulated clock, scanning a
 * synthetic host in memory or replaying a recording (src/control/simulate),
 * one run per profile and one per budget, reported as a table or JSON.
 */
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { durationMs } from '../config/schema.js';
import { unknownProfile } from '../config/unknown-profile.js';
import { type SimulateResult, simulate } from '../control/simulate/run.js';
import { recordingSource, type SimSource, type SyntheticSpec } from '../control/simulate/source.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { type ProgressReporter, progressReporter } from '../harness/synth/progress.js';
import { SHAPES, type Shape } from '../harness/synth/types.js';
import { bytes, pct } from './format.js';

export interface SimulateOpts {
  duration?: string;
  step?: string;
  profile?: string;
  config?: string;
  budget?: string;
  recording?: string;
  shape?: string;
  processes?: number;
  seed?: number;
  /** --swing, parsed by options.ts positiveNumber() (>= 1) */
  swing?: number;
  anomaliesPerDay?: number;
  json?: boolean;
}

/** Defaults of the synthetic host's flags (they do not apply to --recording). */
const SYNTH_DEFAULTS = { shape: 'mixed', processes: 2000, seed: 1, swing: 4, anomaliesPerDay: 24 } as const;
const SYNTH_FLAGS = {
  shape: '--shape',
  processes: '--processes',
  seed: '--seed',
  swing: '--swing',
  anomaliesPerDay: '--anomalies-per-day',
} as const;

/** What to scan, from --recording or the synthetic host's flags (exit 2 when they are mixed). */
export function simSourceOf(o: SimulateOpts): {
  source: SyntheticSpec | (() => SimSource);
  synthetic?: SyntheticSpec & { swing: number; anomaliesPerDay: number };
  recording?: { scans: number; intervalMs: number; hostname: string };
} {
  if (o.recording !== undefined) {
    for (const [k, flag] of Object.entries(SYNTH_FLAGS)) {
      if (o[k as keyof typeof SYNTH_FLAGS] !== undefined) {
        throw new NrdotError(
          ErrorCodes.USAGE,
          `${flag} describes a synthetic host; a recording (--recording, or an agent's history with --url) replays the recorded host as it was`,
        );
      }
    }
    if (o.step !== undefined) {
      throw new NrdotError(
        ErrorCodes.USAGE,
        '--step: a recording moves by its own recorded interval; leave --step out',
      );
    }
    const dir = o.recording;
    const first = recordingSource(dir); // checks the recording now (exit 2 naming the file)
    const d = first.describe as { scans: number; intervalMs: number; hostname: string };
    let opened: SimSource | undefined = first;
    return {
      source: () => {
        const s = opened ?? recordingSource(dir);
        opened = undefined;
        return s;
      },
      recording: { scans: d.scans, intervalMs: d.intervalMs, hostname: d.hostname },
    };
  }
  const shape = o.shape ?? SYNTH_DEFAULTS.shape;
  if (!SHAPES.includes(shape as Shape)) {
    throw new NrdotError(ErrorCodes.USAGE, `--shape: unknown shape '${shape}' (one of ${SHAPES.join(', ')})`);
  }
  const synthetic = {
    shape: shape as Shape,
    processes: o.processes ?? SYNTH_DEFAULTS.processes,
    seed: o.seed ?? SYNTH_DEFAULTS.seed,
    swing: o.swing ?? SYNTH_DEFAULTS.swing,
    anomaliesPerDay: o.anomaliesPerDay ?? SYNTH_DEFAULTS.anomaliesPerDay,
  };
  return { source: synthetic, synthetic };
}

/**
 * Simulated time and step: --duration (default `defaultDuration`, or the
 * whole recording), --step (default the interval, or duration / `cycles`
 * when longer; a recording's own interval).
 */
export function simWindow(
  o: Pick<SimulateOpts, 'duration' | 'step'>,
  src: ReturnType<typeof simSourceOf>,
  interval: Config['interval'],
  defaultDuration: string,
  cycles: number,
): { dur: number; step: number } {
  const rec = src.recording;
  const dur = o.duration
    ? longDuration('--duration', o.duration)
    : rec
      ? rec.scans * rec.intervalMs
      : longDuration('--duration', defaultDuration);
  const step = rec
    ? rec.intervalMs
    : o.step
      ? longDuration('--step', o.step)
      : Math.max(durationMs(interval), Math.ceil(dur / cycles));
  return { dur, step };
}

/** "7d", "36h", "90m": ms. */
export function longDuration(flag: string, v: string): number {
  const d = /^(\d+(?:\.\d+)?)d$/.exec(v);
  let ms = Number.NaN;
  try {
    ms = d ? Number(d[1]) * 86_400_000 : durationMs(v);
  } catch {
    // reported below
  }
  if (!(ms > 0)) throw new NrdotError(ErrorCodes.USAGE, `${flag}: expected a duration like 7d, 12h or 30m, got '${v}'`);
  return ms;
}

/** "0.05" (USD per hour), or "usd_per_hour=0.05,points_per_minute=20000". */
function parseBudget(v: string): Record<string, number> {
  const out: Record<string, number> = {};
  const keys = ['usd_per_hour', 'points_per_minute', 'active_series'];
  for (const part of v.split(',')) {
    const [k, x] = part.includes('=') ? part.split('=', 2) : ['usd_per_hour', part];
    const n = Number(x);
    if (!keys.includes(k!.trim()) || !(n > 0) || !Number.isFinite(n)) {
      throw new NrdotError(
        ErrorCodes.USAGE,
        `--budget: expected USD per hour (0.05) or ${keys.map((k) => `${k}=N`).join(',')} with N > 0, got '${v}'`,
      );
    }
    out[k!.trim()] = n;
  }
  return out;
}

export async function simulateCommand(o: SimulateOpts): Promise<void> {
  const { config } = loadConfig(o.config);
  const src = simSourceOf(o);
  const rec = src.recording;
  const { dur, step } = simWindow(o, src, config.interval, '7d', 2016);
  const known = Object.keys(config.profiles);
  const profiles = o.profile
    ? o.profile.split(',').map((p) => p.trim())
    : o.budget
      ? []
      : o.config
        ? [config.profile]
        : known.filter((p) => ['conservative', 'balanced', 'aggressive', 'emergency'].includes(p));
  for (const p of profiles) if (!known.includes(p)) throw unknownProfile(p, known, '--profile');
  const budget = o.budget ? parseBudget(o.budget) : undefined;
  const runs: { label: string; profile: string; budget?: Record<string, number> }[] = profiles.map((p) => ({
    label: `profile ${p}`,
    profile: p,
  }));
  if (budget) {
    const start = config.control.loop.profiles[0]!;
    runs.push({ label: `budget ${o.budget}`, profile: start, budget });
  }
  const tty = process.stderr.isTTY && !o.json;
  const results: SimulateResult[] = [];
  for (const r of runs) {
    results.push(
      await simulate({
        config,
        label: r.label,
        profile: r.profile,
        budget: r.budget,
        durationMs: dur,
        stepMs: step,
        source: src.source,
        swing: src.synthetic?.swing,
        anomaliesPerDay: src.synthetic?.anomaliesPerDay,
        onProgress: tty ? progressBar(r.label) : undefined,
      }),
    );
  }
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ durationMs: dur, stepMs: step, interval: config.interval, results }, null, 2)}\n`,
    );
    return;
  }
  const what = src.synthetic
    ? `a ${src.synthetic.shape} host (${src.synthetic.processes} processes, load x${src.synthetic.swing} day/night, ${src.synthetic.anomaliesPerDay} anomalies/day)`
    : `the recording ${o.recording} (${rec!.scans} scans of ${rec!.hostname || 'an unnamed host'}${dur > rec!.scans * rec!.intervalMs ? ', looped' : ''})`;
  process.stdout.write(
    `simulated ${span(dur)} of ${what}, a cycle every ${(step / 1000).toFixed(0)} s, costs per ${config.interval} export\n`,
  );
  for (const r of results) process.stdout.write(`${resultLine(r)}\n`);
}

/** 7 d, 36 h, 90 min, 50 s */
export function span(ms: number): string {
  if (ms >= 2 * 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000} d`;
  if (ms >= 3_600_000) return `${+(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${+(ms / 60_000).toFixed(1)} min`;
  return `${+(ms / 1000).toFixed(1)} s`;
}

export function usd(x: number): string {
  return `$${x < 1 ? x.toFixed(4) : x.toFixed(2)}`;
}

/** One run as a line of the table. */
function resultLine(r: SimulateResult): string {
  return (
    `${r.label}: ${Math.round(r.points.perHour)} points/h, ${bytes(Math.round(r.bytes.perHour))}/h, ${usd(r.usd.perHour)}/h ${usd(r.usd.perDay)}/day` +
    ` | reduction ${pct(r.reduction.points)} vs hostmetrics (${usd(r.baseline.usdPerHour)}/h)` +
    ` | critical ${pct(r.coverage.criticalMin, 0)} | visibility min ${pct(r.visibility.min, 0)} mean ${pct(r.visibility.mean, 0)}` +
    ` | anomalies ${r.anomalies.promoted} promoted${r.anomalies.injected === null ? '' : `, ${r.anomalies.injected} injected`}` +
    ` | profile switches ${r.profileSwitches}${r.budget ? `, decisions ${r.controlDecisions}, unmet ${r.budgetUnmetCycles} cycles` : ''}` +
    ` | ${Math.round(r.throughput)} process-cycles/s`
  );
}

/** A progress bar on stderr for one run (call with done, total; it ends at done = total). */
export function progressBar(label: string): (done: number, total: number) => void {
  let bar: ProgressReporter | undefined;
  return (done, total) => {
    bar ??= progressReporter(total, label);
    bar.update(done);
    if (done >= total) bar.stop();
  };
}
