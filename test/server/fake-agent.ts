/** A stand-in for the agent behind the control server: a profile, a status and a readiness flag. */
import { ErrorCodes, NrdotError } from '../../src/core/errors.js';
import type { AgentControl, MetricFamily } from '../../src/server/types.js';

export class FakeAgent implements AgentControl {
  active = 'balanced';
  readonly available = ['conservative', 'balanced', 'aggressive', 'emergency'];
  isReady = false;
  changes: { name: string; who: string; reason?: string; expiresInMs?: number }[] = [];
  families: MetricFamily[] | undefined;
  statusValue: unknown = {
    profile: 'balanced',
    processes: { seen: 412, exported: 37, rolledUp: 375 },
    cost: { bytes: 81234, baselineBytes: 903211, reduction: 0.91006 },
    tiers: ['critical', 'important', 'standard', 'noise'],
    breaker: 'closed',
  };

  status(): unknown {
    return this.statusValue;
  }

  profile(): { active: string; available: string[] } {
    return { active: this.active, available: [...this.available] };
  }

  setProfile(
    name: string,
    by: { who: string; reason?: string; expiresInMs?: number },
  ): { before: string; after: string } {
    if (!this.available.includes(name)) throw new NrdotError(ErrorCodes.UNKNOWN_PROFILE, `unknown profile '${name}'`);
    const before = this.active;
    this.active = name;
    this.changes.push({ name, ...by });
    return { before, after: name };
  }

  ready(): boolean {
    return this.isReady;
  }

  processFamilies?(): MetricFamily[];

  history?(): ReturnType<NonNullable<AgentControl['history']>>;
}

/** The same agent with pull-mode process families. */
export function withFamilies(agent: FakeAgent, families: MetricFamily[]): FakeAgent {
  agent.processFamilies = () => families;
  return agent;
}
