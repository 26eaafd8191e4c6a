/**
 * The control plane of one engine: who controls the profile now (a manual
 * override until it expires, then the active schedule, then the budget
 * loop), what that means for the engine (a profile and a knob scale), and
 * one event per decision. Pure of I/O: the caller gives the clock, the
 * engine, and where events go (audit, webhooks, log).
 *
 *   const plane = new ControlPlane({ config, engine, now, ... });
 *   engine.onCycle((r) => plane.afterCycle(r.report));
 *   plane.setOverride('aggressive', { who, reason, expiresInMs });
 *   plane.reconfigure({ config, intervalMs, baseProfile, before });  // a hot reload
 */
import type { Config } from '../../config/schema.js';
import { unknownProfile } from '../../config/unknown-profile.js';
import type { Logger } from '../../core/log.js';
import type { CycleReport } from '../../pipeline/types.js';
import { type ControlSetting, type DecisionEvent, type DecisionReason, decisionEvent } from '../notify/event.js';
import type { ControlSource, ManualOverride } from '../schedule/active.js';
import { sameControl } from '../schedule/active.js';
import type { Budget } from '../schedule/config.js';
import { ScheduleSet } from '../schedule/set.js';
import { BudgetController, type Setting, type Unmet } from './controller.js';
import { KnobCache, knobValues } from './knobs.js';

/** What the plane needs from an engine. */
export interface ControlledEngine {
  readonly activeProfile: string;
  /** the profiles the running engine knows (a hot reload may add or remove some) */
  readonly profiles: string[];
  setProfile(name: string): { before: string; after: string };
  setProfileOverride(
    fn: ((name: string, p: Config['profiles'][string]) => Config['profiles'][string]) | undefined,
  ): void;
}

export interface ControlPlaneOptions {
  config: Config;
  engine: ControlledEngine;
  logger: Logger;
  now: () => number;
  intervalMs: number;
  /** the profile the agent started with: in force when nothing else decides */
  baseProfile: string;
  /** every decision, as it is made (audit, webhooks) */
  onDecision?: (e: DecisionEvent) => void;
}

/** What a hot reload hands the plane (src/agent/reload.ts, between two cycles, the new engine in place). */
export interface ControlReload {
  config: Config;
  intervalMs: number;
  baseProfile: string;
  /** the profile the engine ran before the reload (the knob scale is the plane's) */
  ranProfile: string;
  /** the reload changed `profile:`: a newer operator decision than a manual override, which ends */
  profileChanged?: boolean;
}

export interface ControlStatus {
  source: 'manual' | 'schedule' | 'loop' | 'off';
  schedule?: string;
  override?: { profile: string; who?: string; reason?: string; expiresAt?: string };
  budget: Budget | null;
  profile: string;
  knobs: Record<string, number>;
  projected: { ratio: number | null; usdPerHour: number | null; dailyUsd: number | null };
  unmet: Unmet | null;
  changesLastHour: number;
  decisions: Record<DecisionReason, number>;
  recent: DecisionEvent[];
}

const RECENT = 10;

export class ControlPlane {
  private schedules: ScheduleSet;
  private controller: BudgetController;
  /** the config, interval and base profile in effect (a hot reload replaces them: reconfigure) */
  private config: Config;
  private intervalMs: number;
  private baseProfile: string;
  private readonly knobs = new KnobCache();
  private override?: ManualOverride;
  private source?: ControlSource;
  private scale = 1;
  private lastUnmet?: string;
  /** EWMA of the cost per hour, for the projected daily spend (whoever controls) */
  private usd?: number;
  readonly decisions: Record<DecisionReason, number> = { budget: 0, schedule: 0, manual: 0, memory: 0 };
  private readonly recent: DecisionEvent[] = [];

  constructor(private readonly o: ControlPlaneOptions) {
    this.config = o.config;
    this.intervalMs = o.intervalMs;
    this.baseProfile = o.baseProfile;
    this.schedules = ScheduleSet.compile(o.config.control.schedules, o.now());
    this.controller = new BudgetController(o.config.control.loop);
  }

  /** The profile in force when nothing else decides. */
  get base(): string {
    return this.baseProfile;
  }

  /** The budget the loop steers to now: the active schedule's, else control.budget (null: no loop). */
  private budgetOf(src: ControlSource): Budget | null {
    if (src.source === 'manual') return null;
    if (src.source === 'schedule') return src.target.budget ?? null;
    return this.config.control.budget;
  }

  private get setting(): Setting {
    return { profile: this.o.engine.activeProfile, scale: this.scale };
  }

  private view(s: Setting, budget?: Budget | null): ControlSetting {
    return { profile: s.profile, knobs: knobValues(s.scale), ...(budget ? { budget } : {}) };
  }

  /** Set the engine to `s` (profile and knob). */
  private set(s: Setting): void {
    this.o.engine.setProfile(s.profile);
    this.scale = s.scale;
    const scale = s.scale;
    this.o.engine.setProfileOverride(scale < 1 ? (name, p) => this.knobs.get(name, p, scale) : undefined);
  }

  /**
   * Set the engine to `s`; an event when that changes anything from
   * `before` (default: what the engine runs now).
   */
  private apply(
    s: Setting,
    reason: DecisionReason,
    extra: Pick<DecisionEvent, 'detail' | 'schedule' | 'who'>,
    budgets?: { before: Budget | null; after: Budget | null },
    before: Setting = this.setting,
  ): DecisionEvent | undefined {
    const budgetChanged = budgets !== undefined && JSON.stringify(budgets.before) !== JSON.stringify(budgets.after);
    if (before.profile === s.profile && before.scale === s.scale && !budgetChanged) return undefined;
    this.set(s);
    return this.emit(reason, before, s, extra, budgets);
  }

  /** One decision: counted, kept for status, logged, handed to onDecision. */
  private emit(
    reason: DecisionReason,
    before: Setting,
    s: Setting,
    extra: Pick<DecisionEvent, 'detail' | 'schedule' | 'who'>,
    budgets?: { before: Budget | null; after: Budget | null },
  ): DecisionEvent {
    const e = decisionEvent(
      reason,
      this.view(before, budgets?.before),
      this.view(s, budgets?.after),
      this.o.now(),
      extra,
    );
    this.record(e);
    return e;
  }

  private record(e: DecisionEvent): void {
    this.decisions[e.reason]++;
    this.recent.push(e);
    if (this.recent.length > RECENT) this.recent.shift();
    this.o.logger.info({ decision: e }, 'control decision');
    this.o.onDecision?.(e);
  }

  /** Call after every cycle with its report. */
  afterCycle(r: CycleReport | undefined): void {
    const t = this.o.now();
    if (r) {
      const a = this.config.control.loop.smoothing;
      this.usd = this.usd === undefined ? r.cost.hourlyUsd : a * r.cost.hourlyUsd + (1 - a) * this.usd;
    }
    const src = this.schedules.resolve(this.override, t);
    if (this.override && src.source !== 'manual') this.override = undefined;
    if (!this.source || !sameControl(this.source, src)) this.transition(this.source, src);
    this.source = src;
    const budget = this.budgetOf(src);
    if (!budget || !r) {
      this.noteUnmet(undefined);
      return;
    }
    const move = this.controller.observe(
      {
        nowMs: t,
        usdPerHour: r.cost.hourlyUsd,
        pointsPerMinute: (r.datapoints.exported * 60_000) / this.intervalMs,
        series: r.datapoints.exported,
        visibility: Math.min(r.visibility.cpu, r.visibility.memory),
      },
      budget,
    );
    this.noteUnmet(this.controller.unmet);
    if (move) this.apply(move.after, 'budget', { detail: move.detail });
  }

  private noteUnmet(u: Unmet | undefined): void {
    const key = u ? u.reason : undefined;
    if (key === this.lastUnmet) return;
    this.lastUnmet = key;
    if (u) this.o.logger.warn({ reason: u.reason }, `budget cannot be met: ${u.detail}`);
    else this.o.logger.info('budget met again (or no budget)');
  }

  /** Control passes from `from` to `to`. */
  private transition(from: ControlSource | undefined, to: ControlSource): void {
    const fromBudget = from ? this.budgetOf(from) : null;
    const toBudget = this.budgetOf(to);
    if (to.source === 'manual') {
      // setOverride applied it already
      return;
    }
    if (to.source === 'schedule' && to.target.profile !== undefined) {
      this.apply(
        { profile: to.target.profile, scale: 1 },
        'schedule',
        {
          schedule: to.schedule.name,
          detail: `${from?.source === 'manual' ? 'the manual override expired; ' : ''}schedule ${to.schedule.name} (${to.schedule.when}) sets the profile`,
        },
        { before: fromBudget, after: null },
      );
      return;
    }
    // the loop (with a schedule's budget or control.budget), or nothing
    const reason: DecisionReason = from?.source === 'manual' ? 'manual' : 'schedule';
    const name =
      to.source === 'schedule' ? to.schedule.name : from?.source === 'schedule' ? from.schedule.name : undefined;
    if (toBudget) {
      this.controller.adopt(this.setting);
      if (from === undefined && to.source === 'loop') return;
      const detail =
        to.source === 'schedule'
          ? `schedule ${to.schedule.name} (${to.schedule.when}) sets the budget`
          : from?.source === 'manual'
            ? 'the manual override expired: the budget loop steers'
            : 'no schedule active: control.budget applies';
      // the setting stays; the budget changes (an event even when the profile does not)
      this.apply(
        this.setting,
        reason,
        { detail, ...(name ? { schedule: name } : {}) },
        { before: fromBudget, after: toBudget },
      );
      return;
    }
    if (from === undefined) return;
    const detail =
      from.source === 'manual'
        ? `the manual override expired: back to ${this.baseProfile}`
        : `no schedule active: back to ${this.baseProfile}`;
    this.apply(
      { profile: this.baseProfile, scale: 1 },
      reason,
      { detail, ...(name ? { schedule: name } : {}) },
      {
        before: fromBudget,
        after: null,
      },
    );
  }

  /**
   * A decision made outside the plane (the memory governor's tier changes):
   * counted, kept for status and handed on as the plane's own are. The
   * profile and knob are untouched.
   */
  external(reason: DecisionReason, before: ControlSetting, after: ControlSetting, detail: string): DecisionEvent {
    const e = decisionEvent(reason, before, after, this.o.now(), { detail });
    this.record(e);
    return e;
  }

  /**
   * A hot reload: follow the new config's interval, base profile, budget,
   * schedules and loop settings (`control.loop`: a changed one starts a new
   * controller from the setting in force). A manual override stays while
   * its profile exists, unless the reload changed `profile:`. Control is resolved again under the new schedules
   * and the engine (the new one, built with whatever profile) set to what it
   * says; when that differs from what ran before the reload, one event:
   * reason schedule when a schedule decides, else manual (a config change is
   * an operator's).
   */
  reconfigure(next: ControlReload): DecisionEvent | undefined {
    const t = this.o.now();
    const before: Setting = { profile: next.ranProfile, scale: this.scale };
    const from = this.source;
    const fromBudget = from ? this.budgetOf(from) : null;
    const loopChanged = JSON.stringify(next.config.control.loop) !== JSON.stringify(this.config.control.loop);
    this.config = next.config;
    this.intervalMs = next.intervalMs;
    this.baseProfile = next.baseProfile;
    this.schedules = ScheduleSet.compile(next.config.control.schedules, t);
    if (loopChanged) this.controller = new BudgetController(next.config.control.loop);
    const known = this.o.engine.profiles;
    const held = this.override?.target.profile;
    if (held !== undefined && next.profileChanged) {
      this.o.logger.info({ profile: held }, 'config reload: profile: changed, the manual override ends');
      this.override = undefined;
    } else if (held !== undefined && !known.includes(held)) {
      this.o.logger.warn({ profile: held }, 'config reload: the manual override names a profile the config dropped');
      this.override = undefined;
    }
    const to = this.schedules.resolve(this.override, t);
    if (this.override && to.source !== 'manual') this.override = undefined;
    this.source = to;
    const toBudget = this.budgetOf(to);
    let target: Setting;
    let detail: string;
    if (to.source === 'manual') {
      target = { profile: to.target.profile!, scale: 1 };
      detail = 'the manual override stays';
    } else if (to.source === 'schedule' && to.target.profile !== undefined) {
      target = { profile: to.target.profile, scale: 1 };
      detail = `schedule ${to.schedule.name} (${to.schedule.when}) sets the profile`;
    } else if (toBudget) {
      // the loop steers from the setting in force (the base profile, if the config dropped that one)
      target = known.includes(before.profile) ? before : { profile: this.baseProfile, scale: 1 };
      if (loopChanged || !fromBudget || target !== before) this.controller.adopt(target);
      detail =
        to.source === 'schedule'
          ? `schedule ${to.schedule.name} (${to.schedule.when}) sets the budget`
          : 'control.budget applies';
    } else {
      target = { profile: this.baseProfile, scale: 1 };
      detail = `profile ${this.baseProfile}`;
    }
    // the new engine runs what control says, whatever it was built with
    this.set(target);
    const budgetChanged = JSON.stringify(fromBudget) !== JSON.stringify(toBudget);
    if (before.profile === target.profile && before.scale === target.scale && !budgetChanged) return undefined;
    return this.emit(
      to.source === 'schedule' ? 'schedule' : 'manual',
      before,
      target,
      { detail: `config reload: ${detail}`, ...(to.source === 'schedule' ? { schedule: to.schedule.name } : {}) },
      { before: fromBudget, after: toBudget },
    );
  }

  /**
   * A manual override (`nrdot profile set`, the API): it outranks schedules
   * and the loop until `expiresAtMs` (absent: until the next override).
   * Throws NrdotError(UNKNOWN_PROFILE) for an unknown profile.
   */
  setOverride(
    profile: string,
    by: { who: string; reason?: string; expiresInMs?: number },
  ): { before: string; after: string } {
    const before = this.o.engine.activeProfile;
    const expiresAtMs = by.expiresInMs !== undefined ? this.o.now() + by.expiresInMs : undefined;
    const o: ManualOverride = {
      target: { profile },
      who: by.who,
      ...(by.reason ? { reason: by.reason } : {}),
      ...(expiresAtMs !== undefined ? { expiresAtMs } : {}),
    };
    const known = this.o.engine.profiles;
    if (!known.includes(profile)) throw unknownProfile(profile, known, '');
    const prev = this.source;
    this.override = o;
    this.source = { source: 'manual', target: o.target, override: o };
    const until = expiresAtMs !== undefined ? ` until ${new Date(expiresAtMs).toISOString()}` : '';
    const e = this.apply(
      { profile, scale: 1 },
      'manual',
      { who: by.who, detail: `${by.reason ? `${by.reason}; ` : ''}override${until}` },
      { before: prev ? this.budgetOf(prev) : null, after: null },
    );
    if (!e) {
      // the same profile: still an override (it outranks schedules and the loop)
      this.o.logger.info({ profile, who: by.who, expiresAtMs }, 'manual override (profile unchanged)');
    }
    return { before, after: profile };
  }

  status(): ControlStatus {
    const t = this.o.now();
    const src = this.source;
    const budget = src ? this.budgetOf(src) : this.config.control.budget;
    const ratio = budget ? this.controller.projectedRatio : undefined;
    const usd = this.usd;
    const ov = src?.source === 'manual' ? src.override : undefined;
    return {
      source: src ? (src.source === 'loop' && !budget ? 'off' : src.source) : 'off',
      ...(src?.source === 'schedule' ? { schedule: src.schedule.name } : {}),
      ...(ov
        ? {
            override: {
              profile: ov.target.profile!,
              ...(ov.who ? { who: ov.who } : {}),
              ...(ov.reason ? { reason: ov.reason } : {}),
              ...(ov.expiresAtMs !== undefined ? { expiresAt: new Date(ov.expiresAtMs).toISOString() } : {}),
            },
          }
        : {}),
      budget,
      profile: this.o.engine.activeProfile,
      knobs: knobValues(this.scale),
      projected: {
        ratio: ratio ?? null,
        usdPerHour: usd ?? null,
        dailyUsd: usd !== undefined ? usd * 24 : null,
      },
      unmet: budget ? (this.controller.unmet ?? null) : null,
      changesLastHour: this.controller.changesInHour(t),
      decisions: { ...this.decisions },
      recent: [...this.recent],
    };
  }
}
