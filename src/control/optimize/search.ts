/**
 * `optimize suggest`'s search: the cheapest (profile, knob scale) whose
 * simulated run meets a cost or points target and a visibility floor.
 *
 * Pure over an `evaluate` function (the CLI's runs the real pipeline through
 * src/control/simulate). Per profile it evaluates the knob at 1 (the
 * profile as written); if that already misses the visibility floor the
 * profile cannot meet it (the knob only takes series away). Otherwise it
 * bisects the knob between `minScale` and 1 for the smallest scale that
 * still meets the floor, `steps` times, since cost grows and visibility
 * grows with the scale. Every evaluation is kept: the answer is the cheapest
 * evaluation that meets every target, the runners-up the best of each other
 * profile (see `rank`).
 */

export interface Targets {
  /** USD per hour the configuration may cost (at most) */
  usdPerHour?: number;
  /** data points per minute it may export (at most) */
  pointsPerMinute?: number;
  /** the least visibility (share of CPU and memory exported by name) of any cycle */
  minVisibility: number;
}

export interface Evaluation {
  profile: string;
  scale: number;
  usdPerHour: number;
  pointsPerMinute: number;
  /** visibility of the worst cycle (the floor is checked against it) */
  visibilityMin: number;
  visibilityMean: number;
  reduction: number;
  criticalMin: number;
  anomalyMin: number;
  /**
   * Over a recording that did not read every process in detail: the share
   * of rows asked for in detail that it lacked (their status, io and fd
   * points are not counted). Absent when the source read everything.
   */
  detailMissing?: number;
}

export interface Verdict {
  meets: boolean;
  /** why not, one phrase per target missed */
  misses: string[];
}

export function judge(e: Evaluation, t: Targets): Verdict {
  const misses: string[] = [];
  if (t.usdPerHour !== undefined && e.usdPerHour > t.usdPerHour) misses.push('cost');
  if (t.pointsPerMinute !== undefined && e.pointsPerMinute > t.pointsPerMinute) misses.push('points');
  if (e.visibilityMin < t.minVisibility) misses.push('visibility');
  if (e.criticalMin < 1) misses.push('critical coverage');
  return { meets: misses.length === 0, misses };
}

export interface SearchOptions {
  profiles: readonly string[];
  targets: Targets;
  /** smallest knob scale tried (control.loop.min_knob) */
  minScale: number;
  /** bisection steps per profile (default 5: the scale to about 1/32 of the range) */
  steps?: number;
  evaluate: (profile: string, scale: number) => Promise<Evaluation>;
}

export interface SearchResult {
  /** the cheapest evaluation that meets every target; absent when none does */
  best?: Evaluation;
  /** the best evaluation of each other profile (meeting the targets first, then cheapest) */
  runnersUp: (Evaluation & Verdict)[];
  /** every evaluation, in the order run */
  evaluations: (Evaluation & Verdict)[];
}

/** cost of an evaluation as the targets see it: USD when a USD target is set, else points */
function costOf(e: Evaluation, t: Targets): number {
  return t.usdPerHour !== undefined ? e.usdPerHour : e.pointsPerMinute;
}

export async function search(o: SearchOptions): Promise<SearchResult> {
  const t = o.targets;
  const steps = o.steps ?? 5;
  const all: (Evaluation & Verdict)[] = [];
  /** the best evaluation of each profile so far (on a tie, the later one) */
  const bestOf = new Map<string, Evaluation & Verdict>();
  const run = async (profile: string, scale: number) => {
    const e = await o.evaluate(profile, scale);
    const v = { ...e, ...judge(e, t) };
    all.push(v);
    const best = bestOf.get(profile);
    bestOf.set(profile, best ? better(v, best, t) : v);
    return v;
  };
  const floorMet = (e: Evaluation) => e.visibilityMin >= t.minVisibility && e.criticalMin >= 1;
  for (const profile of o.profiles) {
    const full = await run(profile, 1);
    if (!floorMet(full) || o.minScale >= 1) continue;
    // bisect for the smallest scale whose visibility still meets the floor
    let lo = o.minScale;
    let hi = 1;
    const low = await run(profile, lo);
    if (floorMet(low)) continue;
    for (let i = 0; i < steps; i++) {
      const mid = round3((lo + hi) / 2);
      if (mid === lo || mid === hi) break;
      if (floorMet(await run(profile, mid))) hi = mid;
      else lo = mid;
    }
  }
  const ranked = [...bestOf.values()].sort((a, b) => rank(a, b, t));
  const top = ranked[0];
  return {
    ...(top?.meets ? { best: top } : {}),
    runnersUp: top?.meets ? ranked.slice(1) : ranked,
    evaluations: all,
  };
}

const keepsFloor = (e: Verdict) => !e.misses.includes('visibility') && !e.misses.includes('critical coverage');

/**
 * Meeting every target first; then keeping the visibility floor and critical
 * coverage (only too dear); then fewer targets missed; then cheaper, then
 * more visible.
 */
function rank(a: Evaluation & Verdict, b: Evaluation & Verdict, t: Targets): number {
  if (a.meets !== b.meets) return a.meets ? -1 : 1;
  if (keepsFloor(a) !== keepsFloor(b)) return keepsFloor(a) ? -1 : 1;
  if (a.misses.length !== b.misses.length) return a.misses.length - b.misses.length;
  return costOf(a, t) - costOf(b, t) || b.visibilityMin - a.visibilityMin;
}

function better(a: Evaluation & Verdict, b: Evaluation & Verdict, t: Targets): Evaluation & Verdict {
  return rank(a, b, t) <= 0 ? a : b;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
