/**
 * The budget controller: every cycle it compares the projected cost with the
 * budget and, when it may, moves one step along a ladder of profiles
 * (richest first), turning the knob (knobs.ts) inside a profile, so it can
 * settle between two profiles instead of flipping across them. Pure: the
 * caller gives the clock, the measurements and applies what it answers.
 *
 * Position x in [0, L] on the ladder of L profiles: profile floor(x) (the
 * last one at x = L) at scale min_knob^(x - floor(x)), so x = i is profile i
 * at full scale and x -> i + 1 is profile i at min_knob. Cost falls as x
 * grows; there is a jump at each integer.
 *
 * - Projected cost: an EWMA of the cycle's cost over the budget (the worst
 *   of the measures the budget names), restarted at every change so a
 *   decision only ever reads cycles of the setting in force.
 * - Within `hysteresis` of the budget nothing moves. Outside it the step is
 *   ln(ratio) / sensitivity (learned from the last move, damped), bounded,
 *   and one profile boundary at most.
 * - Anti-oscillation: leaving profile i at min_knob because it was over
 *   budget is remembered for an hour; moving richer back into it is then
 *   refused, so the loop settles at profile i + 1 at full scale.
 * - min_dwell between changes and max_changes_per_hour in any hour; a
 *   breach (below) jumps at once (counted, never held), and a visibility
 *   under the floor steps back richer at once, dwell or not, within the
 *   hourly cap.
 * - The floor: never a cheaper step while visibility is within a margin of
 *   visibility_floor, nor predicted (from the last move's slope) to end
 *   below it; for an hour after visibility was seen below the floor at a
 *   position, cheaper steps stop a step (MIN_STEP) short of it. Visibility
 *   is smoothed like the cost (an EWMA restarted at every change), so one
 *   noisy cycle near the floor does not send the loop back and forth.
 * - The safe position: the cheapest seen keeping the floor (smoothed, over
 *   three cycles, with the margin) in the last hour. Back from under the
 *   floor: to it when it is richer, else a step sized by the learned slope.
 * - A breach needs breach_cycles raw cycles over breach_ratio and a cost
 *   average over it that is not restarted at changes (half the smoothing
 *   weight): a runaway (x4 crosses 1.2 in one cycle), not noisy cycles
 *   inside the hysteresis band. It jumps to the cheapest setting the
 *   operator allows. With visibility_floor 0: the emergency profile. With
 *   a floor: the cheapest position last seen keeping it (the safe position,
 *   a step short of where the floor was crossed in the last hour; or here,
 *   when visibility here keeps the floor and that is cheaper); when the
 *   loop is already there, it stays (steering goes on, dwell and cap as
 *   usual) and, while it cannot step cheaper, says unmet for the floor. A
 *   floor with no position known to keep it: the emergency profile.
 * - Back from the emergency profile once it is under budget (dwell and cap
 *   hold this): without a floor, to the ladder's cheapest setting (unless
 *   that setting breached within the hour); with one, after an hour there,
 *   to the safe position, or the richest setting when none is known (the
 *   floor before the cost on the way back).
 * - Critical processes and anomalies are outside the knobs (knobs.ts): the
 *   cheapest setting still exports them. When the budget cannot be met at
 *   the cheapest setting, or not without crossing the floor, `unmet` says
 *   so and the loop holds.
 */
import { durationMs } from '../../config/duration.js';
import type { Budget } from '../schedule/config.js';
import type { LoopConfig } from './config.js';
import { budgetRatio, type Move, type Observation, type Setting, type Unmet } from './types.js';

export type { Move, MoveKind, Observation, Setting, Unmet, UnmetReason } from './types.js';
export { budgetRatio } from './types.js';

/** How long a learned limit (too expensive here, floor crossed there) holds. */
const MEMORY_MS = 3_600_000;
/** Visibility margin above the floor below which no cheaper step is taken. */
const FLOOR_MARGIN = 0.01;
const MIN_STEP = 0.05;
const MAX_STEP = 0.6;
const DAMPING = 0.7;
/** Until measured, assume a whole profile's knob range may cost half of the visibility. */
const PRIOR_SLOPE = 0.5;
/** Margin on the measured visibility slope (the relation is not linear). */
const SLOPE_SAFETY = 1.5;

const pct = (r: number) => `${Math.round(r * 100)}%`;

export class BudgetController {
  private readonly ladder: readonly string[];
  private readonly dwellMs: number;
  private x = 0;
  private onEmergency = false;
  /** EWMA of the cost ratio since the last change; undefined right after one */
  private ratio?: number;
  /** EWMA of visibility since the last change */
  private vis?: number;
  /** EWMA (weight smoothing/2) of the cost ratio over every cycle, changes or not (the breach test) */
  private longRatio?: number;
  /** the cheapest position seen keeping the floor (smoothed, 3 cycles), and when */
  private safe?: { x: number; atMs: number };
  private usd?: number;
  private samples = 0;
  private breach = 0;
  private lastChangeMs = Number.NEGATIVE_INFINITY;
  private readonly changes: number[] = [];
  /**
   * profile index -> the cost ratio it had at its min knob when it was left
   * for being over budget, and the ratio the next profile had once entered
   * (so a later load can be compared: predicted = dear x now / entry)
   */
  private readonly tooDear = new Map<number, { dear: number; entry?: number }>();
  /** lowest position where visibility was under the floor, and when */
  private floorAt?: { x: number; atMs: number };
  /** the last move (for the sensitivity and the floor slope) */
  private last?: { fromX: number; toX: number; ratio: number; visibility: number };
  private sensitivity = 1;
  /** visibility lost per unit of x; a prior until a move within a profile measures it */
  private slope = PRIOR_SLOPE;
  unmet?: Unmet;
  /** when the emergency profile was entered from the ladder's cheapest setting or under a floor (stay there an hour) */
  private stayOnEmergency?: number;

  constructor(private readonly cfg: LoopConfig) {
    this.ladder = cfg.profiles;
    this.dwellMs = durationMs(cfg.min_dwell);
  }

  /** The setting the loop holds now. */
  get setting(): Setting {
    if (this.onEmergency) return { profile: this.cfg.emergency_profile, scale: 1 };
    return this.at(this.x);
  }

  /** The projected cost over the budget (EWMA), undefined until a cycle was seen since the last change. */
  get projectedRatio(): number | undefined {
    return this.ratio;
  }

  /** Projected USD per hour (EWMA), undefined until measured. */
  get projectedUsdPerHour(): number | undefined {
    return this.usd;
  }

  /** Changes made in the hour before `nowMs`. */
  changesInHour(nowMs: number): number {
    while (this.changes.length > 0 && this.changes[0]! <= nowMs - 3_600_000) this.changes.shift();
    return this.changes.length;
  }

  /**
   * Take over from `s` (the profile in force when the loop gets control):
   * a ladder profile at its scale, or the richest ladder step that is not
   * richer than an unknown profile (the ladder's start).
   */
  adopt(s: Setting): void {
    const i = this.ladder.indexOf(s.profile);
    this.onEmergency = s.profile === this.cfg.emergency_profile && i < 0;
    this.x = i < 0 ? 0 : i + this.fracOf(s.scale);
    this.restart();
    this.breach = 0;
  }

  private fracOf(scale: number): number {
    if (!(scale < 1)) return 0;
    return Math.min(1, Math.log(scale) / Math.log(this.cfg.min_knob));
  }

  private at(x: number): Setting {
    const L = this.ladder.length;
    const i = Math.min(Math.floor(x), L - 1);
    const f = Math.min(1, x - i);
    const scale = f <= 0 ? 1 : this.cfg.min_knob ** f;
    return { profile: this.ladder[i]!, scale: Math.round(scale * 1000) / 1000 };
  }

  /** After a change: the projection starts again (the breach count does not: it counts cycles over, whatever the knob). */
  private restart(): void {
    this.ratio = undefined;
    this.vis = undefined;
    this.samples = 0;
  }

  private record(nowMs: number): void {
    this.lastChangeMs = nowMs;
    this.changes.push(nowMs);
    this.restart();
  }

  /** One cycle's measurements against `budget`; a move to apply, or undefined to hold. */
  observe(o: Observation, budget: Budget): Move | undefined {
    const raw = budgetRatio(budget, o);
    const a = this.cfg.smoothing;
    this.ratio = this.ratio === undefined ? raw : a * raw + (1 - a) * this.ratio;
    this.vis = this.vis === undefined ? o.visibility : a * o.visibility + (1 - a) * this.vis;
    this.usd = this.usd === undefined ? o.usdPerHour : a * o.usdPerHour + (1 - a) * this.usd;
    const visibility = this.vis;
    this.longRatio = this.longRatio === undefined ? raw : (a / 2) * raw + (1 - a / 2) * this.longRatio;
    this.samples++;
    const t = o.nowMs;
    const before = this.setting;

    // a runaway: straight to the cheapest setting the operator allows
    this.breach = raw > this.cfg.breach_ratio ? this.breach + 1 : 0;
    let refused: Unmet | undefined;
    if (this.breach >= this.cfg.breach_cycles && this.longRatio > this.cfg.breach_ratio && !this.onEmergency) {
      const over = `cost at ${pct(raw)} of the budget for ${this.cfg.breach_cycles} cycles (over ${this.cfg.breach_ratio}x)`;
      // no floor (0), or no position known to keep it: the emergency profile
      const keep = this.cfg.visibility_floor > 0 ? this.floorKeeping(t, visibility) : undefined;
      if (keep === undefined) return this.emergency(before, t, `${over}: emergency profile`);
      if (keep > this.x + 1e-9) {
        this.breach = 0;
        this.unmet = undefined;
        this.moveTo(keep, this.ratio, visibility, t);
        return {
          before,
          after: this.setting,
          kind: 'breach',
          detail: `${over}: the cheapest setting seen keeping the visibility floor ${pct(this.cfg.visibility_floor)}`,
        };
      }
      // already there (or cheaper): no jump; steering steps cheaper as far as the floor allows
      refused = {
        reason: 'visibility_floor',
        detail: `${over}: no cheaper setting is known to keep visibility (${pct(visibility)}) over the floor ${pct(this.cfg.visibility_floor)}, the emergency profile would cross it`,
      };
    }
    const move = this.steer(before, this.ratio, visibility, t);
    // a breach the floor refused that steering cannot answer (the floor binds, or the hourly cap holds): unmet
    if (refused && !move) {
      const capped = this.changesInHour(t) >= this.cfg.max_changes_per_hour;
      if (this.unmet?.reason === 'visibility_floor' || (capped && !this.unmet)) {
        this.unmet = capped ? { ...refused, detail: `${refused.detail}; change cap reached` } : refused;
      }
    }
    return move;
  }

  /** The breach's jump to the emergency profile (counted, never held). */
  private emergency(before: Setting, t: number, detail: string): Move {
    // from the ladder's cheapest setting, or under a floor nothing known keeps: stay there an hour
    if (this.x >= this.ladder.length - 1e-3 || this.cfg.visibility_floor > 0) this.stayOnEmergency = t;
    this.onEmergency = true;
    this.record(t);
    this.breach = 0;
    this.unmet = undefined;
    return { before, after: this.setting, kind: 'emergency', detail };
  }

  /**
   * Where a breach goes when a floor is set: the cheapest position last
   * seen keeping the floor (`safe`, a step short of where the floor was
   * crossed in the last hour), or here when visibility here keeps it and
   * that is cheaper; undefined when no such position is known.
   */
  private floorKeeping(t: number, visibility: number): number | undefined {
    const here = visibility >= this.cfg.visibility_floor ? this.x : undefined;
    if (!this.safe) return here;
    let k = this.safe.x;
    const floor = this.floorLimit(t);
    if (floor !== undefined) k = Math.min(k, floor - MIN_STEP);
    return here === undefined ? k : Math.max(k, here);
  }

  /** Steering: a move, or undefined to hold; sets `unmet`. */
  private steer(before: Setting, ratio: number, visibility: number, t: number): Move | undefined {
    const h = this.cfg.hysteresis;
    const L = this.ladder.length;
    const held = t - this.lastChangeMs < this.dwellMs || this.changesInHour(t) >= this.cfg.max_changes_per_hour;

    if (this.onEmergency) {
      if (ratio > 1 + h) {
        this.unmet = {
          reason: 'emergency',
          detail: `the emergency profile (critical processes and anomalies) costs ${pct(ratio)} of the budget`,
        };
        return undefined;
      }
      this.unmet = undefined;
      if (held || ratio >= 1 - h) return undefined;
      if (this.stayOnEmergency !== undefined && t - this.stayOnEmergency < MEMORY_MS) return undefined;
      this.onEmergency = false;
      // back to the ladder's cheapest setting; under a floor, to the cheapest seen keeping it in the last
      // hour, or (none seen) the richest: the floor comes before the cost on the way back
      const safe = this.safe && t - this.safe.atMs < MEMORY_MS ? Math.min(L, this.safe.x) : 0;
      this.x = this.cfg.visibility_floor > 0 ? safe : L;
      this.last = undefined;
      this.record(t);
      return {
        before,
        after: this.setting,
        kind: 'recover',
        detail: `emergency at ${pct(ratio)} of the budget: back to the ladder`,
      };
    }

    // visibility under the floor: back richer at once
    if (visibility < this.cfg.visibility_floor && this.x > 0) {
      this.floorAt = { x: this.x, atMs: t };
      if (this.changesInHour(t) >= this.cfg.max_changes_per_hour) {
        // the cap holds this too: say so, and step back as soon as the hour allows
        this.unmet = { reason: 'visibility_floor', detail: `${this.floorText(visibility)}; change cap reached` };
        return undefined;
      }
      // to the cheapest position seen keeping the floor in the last hour (where a breach would go too), else by the slope
      const to =
        this.safe && t - this.safe.atMs < MEMORY_MS && this.safe.x < this.x
          ? this.safe.x
          : Math.max(0, this.x - Math.max(MIN_STEP, (this.cfg.visibility_floor - visibility) / this.slope));
      this.moveTo(to, ratio, visibility, t);
      this.unmet = ratio > 1 + h ? { reason: 'visibility_floor', detail: this.floorText(visibility) } : undefined;
      return {
        before,
        after: this.setting,
        kind: 'floor',
        detail: `visibility ${pct(visibility)} under the floor ${pct(this.cfg.visibility_floor)}`,
      };
    }
    this.learn(ratio, visibility);
    if (this.samples >= 3 && visibility >= this.cfg.visibility_floor + FLOOR_MARGIN && !this.onEmergency) {
      if (!this.safe || t - this.safe.atMs >= MEMORY_MS || this.x >= this.safe.x) this.safe = { x: this.x, atMs: t };
    }

    if (ratio > 1 + h) {
      if (this.x >= L - 1e-3) {
        this.unmet = {
          reason: 'cost_floor',
          detail: `the cheapest ladder setting costs ${pct(ratio)} of the budget (critical processes and anomalies are never dropped)`,
        };
        return undefined;
      }
      let to = this.cheaperTarget(ratio);
      const floor = this.floorLimit(t);
      if (visibility < this.cfg.visibility_floor + FLOOR_MARGIN) to = this.x;
      else to = Math.min(to, this.x + (visibility - this.cfg.visibility_floor) / (this.slope * SLOPE_SAFETY));
      if (floor !== undefined) to = Math.min(to, floor - MIN_STEP);
      if (to <= this.x + 1e-9) {
        this.unmet = { reason: 'visibility_floor', detail: this.floorText(visibility) };
        return undefined;
      }
      this.unmet = undefined;
      if (held) return undefined;
      // leaving a profile from its min knob for being over budget: it is too dear for a while
      if (Math.floor(to) > Math.floor(this.x) && this.x - Math.floor(this.x) > 0.99) {
        this.tooDear.set(Math.floor(this.x), { dear: ratio });
      }
      this.moveTo(to, ratio, visibility, t);
      return { before, after: this.setting, kind: 'cheaper', detail: `projected ${pct(ratio)} of the budget` };
    }
    this.unmet = undefined;
    if (ratio < 1 - h && this.x > 0 && !held) {
      let to = Math.max(0, this.x + (Math.log(ratio) / this.sensitivity) * DAMPING);
      to = Math.max(to, this.x - MAX_STEP);
      to = Math.min(to, this.x - MIN_STEP);
      const i = Math.floor(this.x);
      if (this.x - i < 1e-9) {
        // at a profile's full scale: the richer one's min knob, unless it was too dear lately
        const dear = this.tooDear.get(i - 1);
        if (dear?.entry !== undefined && (dear.dear * ratio) / dear.entry > 1 + h) return undefined;
        to = Math.max(to, i - 1e-3);
      } else {
        to = Math.max(to, i);
      }
      this.moveTo(Math.max(0, to), ratio, visibility, t);
      return { before, after: this.setting, kind: 'richer', detail: `projected ${pct(ratio)} of the budget` };
    }
    return undefined;
  }

  private floorText(v: number): string {
    return `a cheaper setting would take visibility (${Math.round(v * 100)}%) under the floor ${Math.round(this.cfg.visibility_floor * 100)}%`;
  }

  private floorLimit(t: number): number | undefined {
    if (this.floorAt && t - this.floorAt.atMs < MEMORY_MS) return this.floorAt.x;
    return undefined;
  }

  /** Where a ratio over budget sends x: within this profile, or to the next one's full scale. */
  private cheaperTarget(ratio: number): number {
    const step = Math.min(MAX_STEP, Math.max(MIN_STEP, (Math.log(ratio) / this.sensitivity) * DAMPING));
    const L = this.ladder.length;
    const i = Math.floor(this.x);
    // the last profile runs down to its min knob at x = L; the others stop short and jump to the next one
    const inProfileEnd = i === L - 1 ? L : i + 0.999;
    if (this.x >= inProfileEnd - 1e-9) return Math.min(L, i + 1);
    return Math.min(this.x + step, inProfileEnd);
  }

  /** After a move within one profile, learn how much ln(cost) and visibility change per unit of x. */
  private learn(ratio: number, visibility: number): void {
    const m = this.last;
    if (!m || this.samples < 3) return;
    // entered a profile at full scale after leaving the richer one as too dear: its cost here
    const i = Math.floor(m.toX);
    const dear = this.tooDear.get(i - 1);
    if (m.toX === i && dear && Math.floor(m.fromX) === i - 1) dear.entry = ratio;
    this.last = undefined;
    if (Math.floor(m.fromX) !== Math.floor(m.toX) || Math.abs(m.toX - m.fromX) < 1e-6) return;
    const dx = m.toX - m.fromX;
    const s = -(Math.log(Math.max(ratio, 1e-9)) - Math.log(Math.max(m.ratio, 1e-9))) / dx;
    if (Number.isFinite(s) && s > 0.05) this.sensitivity = Math.min(20, Math.max(0.2, s));
    const dv = (m.visibility - visibility) / dx;
    if (Number.isFinite(dv) && dv > 0) this.slope = dv;
  }

  private moveTo(x: number, ratio: number, visibility: number, t: number): void {
    this.last = { fromX: this.x, toX: x, ratio, visibility };
    this.x = Math.max(0, Math.min(this.ladder.length, x));
    this.record(t);
  }
}
