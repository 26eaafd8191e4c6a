/**
 * The control loop in the agent: the control plane (src/control/loop) over
 * the scan engine, with its decisions, and the memory governor's tier
 * changes, going to the log, the audit log (decisions the agent makes
 * itself; manual ones are the API's `profile.set` lines), the webhooks of
 * `control.notify`, `/metrics` (`nrdot.control.*`) and `/api/status`
 * (`control`).
 */
import * as os from 'node:os';
import type { Config } from '../config/schema.js';
import type { TierChange } from '../control/governor.js';
import { type ControlledEngine, ControlPlane, type ControlReload, type ControlStatus } from '../control/loop/plane.js';
import { DECISION_REASONS, type DecisionEvent, type MemorySetting } from '../control/notify/event.js';
import { Notifier } from '../control/notify/notifier.js';
import { MEMORY_TIERS, type MemoryTier, policyFor } from '../control/tiers.js';
import type { Logger } from '../core/log.js';
import type { CycleResult } from '../pipeline/types.js';
import type { AuditLog } from '../server/audit.js';
import type { MetricFamily } from '../server/exposition.js';
import type { Registry } from '../server/registry.js';

/** A memory tier as a decision's before or after: the tier and what it sheds. */
export function memorySetting(tier: MemoryTier): MemorySetting {
  const p = policyFor(MEMORY_TIERS.indexOf(tier));
  const order = ['noise', 'standard', 'important'];
  return {
    tier,
    drops: [...p.dropTiers].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
    ...(p.importantKeep < 1 && !p.dropTiers.has('important') ? { important_keep: p.importantKeep } : {}),
    ...(p.refuseInput ? { refuse_input: true } : {}),
  };
}

export interface AgentControlLoopOptions {
  config: Config;
  engine: ControlledEngine & { onCycle(fn: (r: CycleResult) => void): void };
  logger: Logger;
  registry: Registry;
  intervalMs: number;
  baseProfile: string;
  /** the clock of schedules, dwell times and override expiry (tests inject one); default Date.now */
  now?: () => number;
  /** host name in webhook events; default os.hostname() */
  host?: string;
  /** the agent's audit log (one writer per file); absent = none */
  audit?: AuditLog;
}

export class AgentControlLoop {
  readonly plane: ControlPlane;
  private notifier?: Notifier;
  private notifyTargets: Config['control']['notify'];
  /** notifiers a reload replaced, still delivering what they hold (close() waits for them) */
  private readonly retired: Promise<unknown>[] = [];
  private readonly audit?: AuditLog;
  /** the last audit write (close() waits for it) */
  private audited: Promise<void> = Promise.resolve();

  constructor(private readonly o: AgentControlLoopOptions) {
    const { config, logger } = o;
    this.notifyTargets = config.control.notify;
    this.notifier = this.newNotifier(config);
    this.audit = o.audit;
    this.plane = new ControlPlane({
      config,
      engine: o.engine,
      logger,
      now: o.now ?? Date.now,
      intervalMs: o.intervalMs,
      baseProfile: o.baseProfile,
      onDecision: (e) => this.decided(e),
    });
    o.engine.onCycle((r) => this.plane.afterCycle(r.report));
    o.registry.collect(() => this.families());
  }

  private newNotifier(config: Config): Notifier | undefined {
    if (config.control.notify.length === 0) return undefined;
    return new Notifier(config.control.notify, { logger: this.o.logger, host: this.o.host ?? os.hostname() });
  }

  /**
   * A hot reload, between two cycles with the new engine in place
   * (src/agent/reload.ts): the plane follows the new config (interval, base
   * profile, budget, schedules, loop settings) and, when `control.notify`
   * changed, events go to the new webhooks (the old ones finish what they
   * hold).
   */
  reconfigure(next: ControlReload): void {
    const targets = next.config.control.notify;
    if (JSON.stringify(targets) !== JSON.stringify(this.notifyTargets)) {
      const old = this.notifier;
      if (old) this.retired.push(old.close());
      this.notifyTargets = targets;
      this.notifier = this.newNotifier(next.config);
    }
    this.plane.reconfigure(next);
  }

  /**
   * The memory governor engaged or released a tier (it changes what is
   * exported, or whether input is taken): a decision with reason memory,
   * audited, counted, in status and posted like the loop's.
   */
  memoryTier(c: TierChange, limitBytes: number): DecisionEvent {
    const up = MEMORY_TIERS.indexOf(c.to) > MEMORY_TIERS.indexOf(c.from);
    const mib = (b: number) => Math.round(b / 1048576);
    const detail =
      `memory at ${Math.round(c.usage * 100)}% of memory.limit_mib (${mib(c.rssBytes)} of ${mib(limitBytes)} MiB): ` +
      (up ? 'shedding more' : 'shedding less');
    return this.plane.external('memory', { memory: memorySetting(c.from) }, { memory: memorySetting(c.to) }, detail);
  }

  private decided(e: DecisionEvent): void {
    if (e.reason !== 'manual' || e.who === undefined) {
      if (this.audit)
        this.audited = this.audit.append({
          time: e.time,
          who: 'nrdot',
          action: 'control.decision',
          reason: e.reason,
          before: e.before,
          after: e.after,
          ...(e.detail ? { detail: e.detail } : {}),
          ...(e.schedule ? { schedule: e.schedule } : {}),
          outcome: 'ok',
        });
    }
    this.notifier?.post(e);
  }

  /** `nrdot profile set` / PUT /api/profile: a manual override (optional expiry). */
  setOverride(
    name: string,
    by: { who: string; reason?: string; expiresInMs?: number },
  ): { before: string; after: string } {
    return this.plane.setOverride(name, by);
  }

  status(): ControlStatus & { webhooks?: ReturnType<Notifier['stats']> } {
    return { ...this.plane.status(), ...(this.notifier ? { webhooks: this.notifier.stats() } : {}) };
  }

  families(): MetricFamily[] {
    const s = this.plane.status();
    const gauge = (name: string, help: string, value: number, labels?: Record<string, string>): MetricFamily => ({
      name,
      help,
      type: 'gauge',
      samples: [{ ...(labels ? { labels } : {}), value }],
    });
    const out: MetricFamily[] = [
      {
        name: 'nrdot.control.decisions',
        help: 'Control decisions (profile, knob or budget changes) since start, by reason.',
        type: 'counter',
        samples: DECISION_REASONS.map((reason) => ({ labels: { reason }, value: s.decisions[reason] })),
      },
      gauge(
        'nrdot.control.source',
        'What controls the profile: manual, schedule, loop or off (1 for the one in force).',
        1,
        {
          source: s.source,
        },
      ),
      gauge(
        'nrdot.control.knob.scale',
        'The control loop knob: top_n, groups.budget, max_series and sampling budget x this.',
        s.knobs.scale ?? 1,
      ),
      gauge(
        'nrdot.control.changes.last_hour',
        'Profile and knob changes the control loop made in the last hour.',
        s.changesLastHour,
      ),
      gauge(
        'nrdot.control.budget_unmet',
        '1 when the budget cannot be met without dropping critical processes, anomalies or the visibility floor.',
        s.unmet ? 1 : 0,
      ),
    ];
    if (s.projected.dailyUsd !== null) {
      out.push(
        gauge(
          'nrdot.control.projected_daily_spend',
          'Projected USD per day at the recent export rate (cost.price_per_gb).',
          s.projected.dailyUsd,
        ),
      );
    }
    if (s.projected.ratio !== null) {
      out.push(
        gauge(
          'nrdot.control.budget.ratio',
          'Projected cost over the budget in force (1 = on budget).',
          s.projected.ratio,
        ),
      );
    }
    return out;
  }

  async close(): Promise<void> {
    await this.audited;
    await this.notifier?.close();
    await Promise.allSettled(this.retired);
  }
}
