/**
 * `nrdot simulate`: the real pipeline over a simulated clock and a
 * synthetic host in memory (src/control/simulate), one run per profile and
 * one per budget, reported as a table or JSON.
 */
import { loadConfig } from '../config/load.js';
import { durationMs } from '../config/schema.js';
import { type SimulateResult, simulate } from '../control/simulate/run.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { SHAPES, type Shape } from '../harness/synth/types.js';
import { bytes, pct } from './format.js';

export interface SimulateOpts {
  duration: string;
  step?: string;
  profile?: string;
  config?: string;
  budget?: string;
  shape: string;
  processes: number;
  seed: number;
  swing: number;
  anomaliesPerDay: number;
  json?: boolean;
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

function bar(done: number, total: number, label: string): void {
  const w = 30;
  const f = Math.round((done / total) * w);
  process.stderr.write(`\r${label} [${'#'.repeat(f)}${'.'.repeat(w - f)}] ${Math.round((done / total) * 100)}%`);
  if (done === total) process.stderr.write('\n');
}

export async function simulateCommand(o: SimulateOpts): Promise<void> {
  const { config } = loadConfig(o.config);
  const dur = longDuration('--duration', o.duration);
  const step = o.step ? longDuration('--step', o.step) : Math.max(durationMs(config.interval), Math.ceil(dur / 2016));
  if (!SHAPES.includes(o.shape as Shape)) {
    throw new NrdotError(ErrorCodes.USAGE, `--shape: unknown shape '${o.shape}' (one of ${SHAPES.join(', ')})`);
  }
  const known = Object.keys(config.profiles);
  const profiles = o.profile
    ? o.profile.split(',').map((p) => p.trim())
    : o.budget
      ? []
      : o.config
        ? [config.profile]
        : known.filter((p) => ['conservative', 'balanced', 'aggressive', 'emergency'].includes(p));
  for (const p of profiles) {
    if (!known.includes(p)) {
      throw new NrdotError(
        ErrorCodes.UNKNOWN_PROFILE,
        `--profile: unknown profile '${p}' (known: ${known.join(', ')})`,
      );
    }
  }
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
    let lastPct = -1;
    results.push(
      await simulate({
        config,
        label: r.label,
        profile: r.profile,
        budget: r.budget,
        durationMs: dur,
        stepMs: step,
        shape: o.shape as Shape,
        processes: o.processes,
        seed: o.seed,
        swing: o.swing,
        anomaliesPerDay: o.anomaliesPerDay,
        onProgress: tty
          ? (done, total) => {
              const p = Math.floor((done / total) * 100);
              if (p !== lastPct) {
                lastPct = p;
                bar(done, total, r.label);
              }
            }
          : undefined,
      }),
    );
  }
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ durationMs: dur, stepMs: step, interval: config.interval, results }, null, 2)}\n`,
    );
    return;
  }
  const usd = (x: number) => `$${x < 1 ? x.toFixed(4) : x.toFixed(2)}`;
  process.stdout.write(
    `simulated ${(dur / 3_600_000).toFixed(0)} h of a ${o.shape} host (${o.processes} processes, load x${o.swing} day/night, ${o.anomaliesPerDay} anomalies/day), a cycle every ${(step / 1000).toFixed(0)} s, costs per ${config.interval} export\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.label}: ${Math.round(r.points.perHour)} points/h, ${bytes(Math.round(r.bytes.perHour))}/h, ${usd(r.usd.perHour)}/h ${usd(r.usd.perDay)}/day` +
        ` | reduction ${pct(r.reduction.points)} vs hostmetrics (${usd(r.baseline.usdPerHour)}/h)` +
        ` | critical ${pct(r.coverage.criticalMin, 0)} | visibility min ${pct(r.visibility.min, 0)} mean ${pct(r.visibility.mean, 0)}` +
        ` | anomalies ${r.anomalies.promoted} promoted, ${r.anomalies.injected} injected` +
        ` | profile switches ${r.profileSwitches}${r.budget ? `, decisions ${r.controlDecisions}, unmet ${r.budgetUnmetCycles} cycles` : ''}` +
        ` | ${Math.round(r.throughput)} process-cycles/s\n`,
    );
  }
}
