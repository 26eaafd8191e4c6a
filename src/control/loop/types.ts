/**
 * What the budget controller (controller.ts) reads and answers: a setting
 * (profile and knob scale), one cycle's measurements, a move, and why a
 * budget is unmet.
 */
import type { Budget } from '../schedule/config.js';

export interface Setting {
  profile: string;
  /** knob scale, (0, 1] */
  scale: number;
}

export interface Observation {
  nowMs: number;
  usdPerHour: number;
  pointsPerMinute: number;
  series: number;
  /** the lower of CPU and memory visibility, 0 to 1 */
  visibility: number;
}

export type MoveKind = 'cheaper' | 'richer' | 'emergency' | 'breach' | 'recover' | 'floor';

export interface Move {
  before: Setting;
  after: Setting;
  kind: MoveKind;
  /** a sentence for people */
  detail: string;
}

export type UnmetReason = 'cost_floor' | 'visibility_floor' | 'emergency';

export interface Unmet {
  reason: UnmetReason;
  detail: string;
}

/** The worst of the budget's measures, as a ratio (1 = exactly on budget). */
export function budgetRatio(b: Budget, o: Pick<Observation, 'usdPerHour' | 'pointsPerMinute' | 'series'>): number {
  let r = 0;
  if (b.usd_per_hour !== undefined) r = Math.max(r, o.usdPerHour / b.usd_per_hour);
  if (b.points_per_minute !== undefined) r = Math.max(r, o.pointsPerMinute / b.points_per_minute);
  if (b.active_series !== undefined) r = Math.max(r, o.series / b.active_series);
  return r;
}
