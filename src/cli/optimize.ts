/**
 * `nrdot optimize suggest`: the cheapest profile and knob scale that meets a
 * cost (or points) target and a visibility floor, found by running the real
 * pipeline (src/control/simulate) over a recording or a synthetic host for
 * every candidate (src/control/optimize/search.ts); printed with its expected
 * cost, reduction and visibility and the runners-up, and with `--write FILE`
 * written as a config file that `nrdot config validate` accepts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { unknownProfile } from '../config/unknown-profile.js';
import { scaleProfile } from '../control/loop/knobs.js';
import { type Evaluation, type SearchResult, search, type Targets } from '../control/optimize/search.js';
import { simulate } from '../control/simulate/run.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import type { RecordingHeader } from '../sources/recording/format.js';
import { writeFileAtomic } from '../util/atomic.js';
import { pct } from './format.js';
import { fetchHistory } from './history-fetch.js';
import { progressBar, type SimulateOpts, simSourceOf, simWindow, span, usd } from './simulate.js';

export interface SuggestOpts extends Omit<SimulateOpts, 'profile' | 'budget' | 'json'> {
  /** --target-cost, parsed by options.ts positiveNumber() */
  targetCost?: number;
  /** --target-points, parsed by options.ts positiveNumber() */
  targetPoints?: number;
  /** --min-visibility, parsed by options.ts fraction() */
  minVisibility?: number;
  profiles?: string;
  write?: string;
  json?: boolean;
  /** --url: search the agent's scan history (GET /api/history) */
  url?: string;
  tokenFile?: string;
}

/** Where a --url history came from, for the report. */
interface FromAgent {
  url: string;
  header: RecordingHeader;
}

function targetsOf(o: SuggestOpts): Targets {
  if (o.targetCost === undefined && o.targetPoints === undefined) {
    throw new NrdotError(ErrorCodes.USAGE, 'optimize suggest needs a target: --target-cost USD/h or --target-points N');
  }
  return {
    ...(o.targetCost !== undefined ? { usdPerHour: o.targetCost } : {}),
    ...(o.targetPoints !== undefined ? { pointsPerMinute: o.targetPoints } : {}),
    minVisibility: o.minVisibility ?? 0.95,
  };
}

/** The name a scaled profile gets in a written config: balanced-knob450 for balanced at 0.45 (profile names are lower-case words). */
function suggestedName(e: Evaluation): string {
  return e.scale < 1 ? `${e.profile}-knob${Math.round(e.scale * 1000)}` : e.profile;
}

/**
 * The config file for `e`: the --config file's text (comments and
 * ${env:...} references kept) with `profile:` set, and for a scaled knob
 * the scaled profile written out in full under its own name.
 */
function suggestedConfigText(e: Evaluation, config: Config, baseFile: string | undefined, note: string): string {
  const doc = parseDocument(baseFile ? fs.readFileSync(baseFile, 'utf8') : '');
  if (doc.errors.length > 0) throw new NrdotError(ErrorCodes.CONFIG_READ, `${baseFile}: ${doc.errors[0]!.message}`);
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  const name = suggestedName(e);
  doc.set('profile', name);
  // the search ran without a budget or schedules (they would steer away from this profile): the file says so too
  if (config.control.budget !== null) doc.setIn(['control', 'budget'], null);
  if (config.control.schedules.length > 0) doc.setIn(['control', 'schedules'], []);
  if (e.scale < 1) doc.setIn(['profiles', name], doc.createNode(scaleProfile(config.profiles[e.profile]!, e.scale)));
  doc.commentBefore = note + (doc.commentBefore ? `\n${doc.commentBefore}` : '');
  return doc.toString();
}

function line(e: Evaluation & { misses?: string[] }, t: Targets): string {
  const pts = t.pointsPerMinute !== undefined ? `, ${Math.round(e.pointsPerMinute)} points/min` : '';
  const miss = e.misses && e.misses.length > 0 ? `  (misses: ${e.misses.join(', ')})` : '';
  return (
    `${e.profile}${e.scale < 1 ? ` with the knob at ${e.scale}` : ''}: ${usd(e.usdPerHour)}/h${pts}, ` +
    `reduction ${pct(e.reduction)} vs hostmetrics, visibility min ${pct(e.visibilityMin, 0)} mean ${pct(e.visibilityMean, 0)}, ` +
    `critical ${pct(e.criticalMin, 0)}${miss}`
  );
}

export async function optimizeSuggestCommand(o: SuggestOpts): Promise<void> {
  if (o.url === undefined) {
    if (o.tokenFile !== undefined) throw new NrdotError(ErrorCodes.USAGE, '--token-file goes with --url');
    return suggest(o);
  }
  if (o.recording !== undefined) {
    throw new NrdotError(
      ErrorCodes.USAGE,
      "--url and --recording exclude each other: the search runs over the agent's history or over a recording",
    );
  }
  targetsOf(o); // a bad target is reported before anything is fetched
  // the fetched history holds the agent's process names and command lines: it never outlives the command
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrdot-history-'));
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  const onSignal = (sig: NodeJS.Signals) => {
    remove();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const header = await fetchHistory(o.url, o.tokenFile, dir);
    await suggest({ ...o, recording: dir }, { url: o.url, header });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    remove();
  }
}

/** What the figures of a search over an agent's history cannot show (printed under the result). */
function caveats(from: FromAgent | undefined, best: Evaluation | undefined): string[] {
  if (!from) return [];
  const h = from.header;
  const out: string[] = [];
  const missing = best?.detailMissing ?? 0;
  if (h.scanOptions.detail === 'exported' && missing > 0) {
    out.push(
      `the agent reads status, io and fd/ only of the processes it exports (scan.detail: exported): ${pct(missing)} of the rows the suggestion reads in detail lacked them in the history and are costed without those points, so its cost is a lower bound (set scan.detail: all on the agent, or search a recording made with nrdot record, for exact figures)`,
    );
  }
  if (h.commandLine && h.commandLine !== 'keep') {
    out.push(
      `the agent keeps command lines as privacy.command_line: ${h.commandLine} says they may leave the host, so classification rules over command lines (cmdlines:) were matched against that form, not the real command lines`,
    );
  }
  if (h.scanOptions.bounded) {
    out.push(
      'the agent scans with bounds (scan.max_processes, exclude_names, min_*): processes they left out are not in its history',
    );
  }
  return out;
}

async function suggest(o: SuggestOpts, from?: FromAgent): Promise<void> {
  const targets = targetsOf(o);
  const { config } = loadConfig(o.config);
  const src = simSourceOf(o);
  const rec = src.recording;
  const { dur, step } = simWindow(o, src, config.interval, '1d', 144);
  const known = Object.keys(config.profiles);
  const profiles = o.profiles ? o.profiles.split(',').map((p) => p.trim()) : known;
  for (const p of profiles) if (!known.includes(p)) throw unknownProfile(p, known, '--profiles');
  if (o.write !== undefined) {
    if (fs.existsSync(o.write)) {
      throw new NrdotError(ErrorCodes.USAGE, `--write: ${o.write} exists; remove it or name another file`);
    }
    // before the search, not after it
    try {
      fs.accessSync(path.dirname(path.resolve(o.write)), fs.constants.W_OK);
    } catch {
      throw new NrdotError(
        ErrorCodes.USAGE,
        `--write: cannot create ${o.write}: its directory is missing or not writable`,
      );
    }
  }
  const tty = process.stderr.isTTY && !o.json;
  let runs = 0;
  const result: SearchResult = await search({
    profiles,
    targets,
    minScale: config.control.loop.min_knob,
    evaluate: async (profile, scale) => {
      runs++;
      const r = await simulate({
        config,
        label: `${profile} x${scale}`,
        profile,
        scale,
        durationMs: dur,
        stepMs: step,
        source: src.source,
        swing: src.synthetic?.swing,
        anomaliesPerDay: src.synthetic?.anomaliesPerDay,
        onProgress: tty ? progressBar(`run ${runs}: ${profile} knob ${scale}`) : undefined,
      });
      return {
        profile,
        scale,
        usdPerHour: r.usd.perHour,
        pointsPerMinute: r.points.perHour / 60,
        visibilityMin: r.visibility.min,
        visibilityMean: r.visibility.mean,
        reduction: r.reduction.points,
        criticalMin: r.coverage.criticalMin,
        anomalyMin: r.coverage.anomalyMin,
        ...(r.detail && r.detail.missing > 0 ? { detailMissing: r.detail.missing / r.detail.asked } : {}),
      };
    },
  });
  const what = src.synthetic
    ? `a ${src.synthetic.shape} host of ${src.synthetic.processes} processes (seed ${src.synthetic.seed}), ${span(dur)} simulated`
    : from
      ? `the scan history of the agent at ${from.url} (${rec!.scans} scans of ${rec!.hostname || 'an unnamed host'} from ${from.header.createdAt} to ${from.header.endedAt ?? 'now'}), ${span(dur)}`
      : `the recording ${o.recording} (${rec!.scans} scans of ${rec!.hostname || 'an unnamed host'}), ${span(dur)}`;
  const notes = caveats(from, result.best);
  const wanted = [
    targets.usdPerHour !== undefined ? `cost <= ${usd(targets.usdPerHour)}/h` : '',
    targets.pointsPerMinute !== undefined ? `points <= ${targets.pointsPerMinute}/min` : '',
    `visibility >= ${pct(targets.minVisibility, 0)} in every cycle`,
  ].filter(Boolean);
  let written: string | undefined;
  if (result.best && o.write !== undefined) {
    const note = ` written by nrdot optimize suggest over ${what}\n` + ` expected: ${line(result.best, targets)}`;
    const text = suggestedConfigText(result.best, config, o.config, note);
    const out = path.resolve(o.write);
    writeFileAtomic(out, text);
    loadConfig(out); // what was written must load: a defect here is ours, not the user's
    written = out;
  }
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ targets, source: what, runs, ...result, caveats: notes, ...(written ? { written } : {}) }, null, 2)}\n`,
    );
  } else {
    process.stdout.write(
      `searched ${profiles.length} profiles in ${runs} runs over ${what}; wanted ${wanted.join(', ')}\n`,
    );
    if (result.best) {
      process.stdout.write(`suggested: ${line(result.best, targets)}\n`);
    } else {
      process.stdout.write('no configuration meets every target; the closest:\n');
    }
    if (result.runnersUp.length > 0) {
      process.stdout.write(result.best ? 'runners-up:\n' : '');
      for (const e of result.runnersUp) process.stdout.write(`  ${line(e, targets)}\n`);
    }
    for (const n of notes) process.stdout.write(`note: ${n}\n`);
    if (written) {
      process.stdout.write(
        `wrote ${written} (profile ${suggestedName(result.best!)}); check it with: nrdot config validate ${written}\n`,
      );
    }
  }
  if (!result.best) {
    throw new NrdotError(
      ErrorCodes.TARGET_UNMET,
      `no profile or knob meets ${wanted.join(' and ')}: raise --target-cost/--target-points or lower --min-visibility`,
    );
  }
}
