/**
 * A control decision as an event: what the profile, knobs, budget or memory
 * tier were before and after, why (budget, schedule, manual, memory), and
 * when. The control loop makes one per decision, and one per memory tier
 * the governor engages or releases; the audit log, the metrics, `nrdot
 * status` and the webhooks (notifier.ts) all take the same object.
 *
 * The webhook body is the event plus `kind`, `host` and a one-line `text`
 * (so a Slack incoming webhook shows something readable as it is).
 */
import type { Budget } from '../schedule/config.js';

export const DECISION_REASONS = ['budget', 'schedule', 'manual', 'memory'] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

/** The memory governor's tier and what it sheds (decisions with reason memory). */
export interface MemorySetting {
  /** normal, drop_noise, drop_standard, sample_important, critical_only, refuse_input */
  tier: string;
  /** process tiers not exported */
  drops: string[];
  /** keep probability of important processes, when below 1 */
  important_keep?: number;
  /** received input refused (503 + Retry-After) */
  refuse_input?: boolean;
}

/** The controlled state on one side of a decision (only what applies). */
export interface ControlSetting {
  profile?: string;
  /** continuous knobs within the profile, e.g. { top_n_interactive: 40, sampling_rate: 0.5 } */
  knobs?: Record<string, number>;
  budget?: Budget;
  memory?: MemorySetting;
}

export interface DecisionEvent {
  /** ISO 8601, UTC */
  time: string;
  reason: DecisionReason;
  before: ControlSetting;
  after: ControlSetting;
  /** a sentence for people: "projected 0.42 USD/h over the 0.30 budget" */
  detail?: string;
  /** the schedule that decided (reason schedule) */
  schedule?: string;
  /** who set a manual override (reason manual) */
  who?: string;
}

export const EVENT_KIND = 'nrdot.control.decision';

export interface WebhookBody extends DecisionEvent {
  kind: typeof EVENT_KIND;
  host: string;
  text: string;
}

/** An event at `nowMs` (the control loop's clock). */
export function decisionEvent(
  reason: DecisionReason,
  before: ControlSetting,
  after: ControlSetting,
  nowMs: number,
  extra: Pick<DecisionEvent, 'detail' | 'schedule' | 'who'> = {},
): DecisionEvent {
  return { time: new Date(nowMs).toISOString(), reason, before, after, ...extra };
}

function settingText(s: ControlSetting): string {
  const parts: string[] = [];
  if (s.profile !== undefined) parts.push(`profile ${s.profile}`);
  if (s.knobs) for (const [k, v] of Object.entries(s.knobs)) parts.push(`${k}=${v}`);
  if (s.budget) {
    const b = s.budget;
    const measures = [
      b.usd_per_hour !== undefined ? `${b.usd_per_hour} USD/h` : '',
      b.points_per_minute !== undefined ? `${b.points_per_minute} points/min` : '',
      b.active_series !== undefined ? `${b.active_series} series` : '',
    ].filter(Boolean);
    parts.push(`budget ${measures.join(', ')}`);
  }
  if (s.memory) {
    const m = s.memory;
    const sheds = [
      m.drops.length > 0 ? `drops ${m.drops.join(', ')}` : '',
      m.important_keep !== undefined ? `keeps ${m.important_keep} of important` : '',
      m.refuse_input ? 'refuses input' : '',
    ].filter(Boolean);
    parts.push(`memory tier ${m.tier}${sheds.length > 0 ? ` (${sheds.join(', ')})` : ''}`);
  }
  return parts.length > 0 ? parts.join(' ') : 'none';
}

/** One line: "nrdot on web-1: profile balanced -> profile aggressive (schedule night: ...)". */
export function eventText(e: DecisionEvent, host: string): string {
  const why = [e.reason, e.schedule ?? e.who].filter(Boolean).join(' ');
  const detail = e.detail ? `: ${e.detail}` : '';
  return `nrdot on ${host}: ${settingText(e.before)} -> ${settingText(e.after)} (${why}${detail})`;
}

export function webhookBody(e: DecisionEvent, host: string): WebhookBody {
  return { kind: EVENT_KIND, host, ...e, text: eventText(e, host) };
}
