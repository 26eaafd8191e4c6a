/**
 * Service discovery in the agent (`nrdot run`): a Rediscoverer over the
 * agent's proc root and the views of its latest result that the rest of the
 * agent reads.
 *
 *   Rediscoverer (every discovery.interval) ─► latest result
 *     ├─► importantPids()  the engine's classify and pool stages (at least important)
 *     ├─► resources()      the engine's cost stage: one OTLP resource per service, critical path
 *     ├─► status()         /api/status `discovery`
 *     └─► families()       /metrics nrdot_discovery_*
 *
 * `start()` does not wait for the first run (about 0.75 s at 10k
 * processes): until it ends, the views are empty and cycles run as without
 * discovery. A failed run changes nothing the engine sees (the previous
 * result stays), is counted and logged (rate-limited by the Rediscoverer).
 * Every view is total: it never throws into a cycle.
 */
import * as path from 'node:path';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { DiscoverySettings } from '../discovery/config.js';
import { Rediscoverer, type RediscovererOptions } from '../discovery/rediscover.js';
import { serviceResources } from '../discovery/resources.js';
import type { DiscoveryResult } from '../discovery/types.js';
import { type DiscoveryStatus, discoveryStatus, servicePids } from '../discovery/views.js';
import type { ResourceMetrics } from '../otlp/model.js';
import type { MetricFamily } from '../server/exposition.js';
import { SelfMetric } from '../telemetry/names.js';

const NONE: ReadonlySet<number> = new Set();

/** Whether `nrdot run` runs discovery, and why (logged at start, shown in /api/status when off). */
export function discoveryDecision(
  s: Pick<DiscoverySettings, 'enabled' | 'root'>,
  agent: { procRoot: string; scanning: boolean; flagOff: boolean },
): { on: boolean; why: string } {
  if (agent.flagOff) return { on: false, why: '--no-discovery' };
  if (s.enabled === false) return { on: false, why: 'discovery.enabled is false' };
  if (s.enabled === true) return { on: true, why: 'discovery.enabled is true' };
  if (!agent.scanning) return { on: false, why: 'auto: --no-scan (the received processes run elsewhere)' };
  const own = path.join(s.root, 'proc');
  if (path.resolve(agent.procRoot) !== own) {
    return {
      on: false,
      why: `auto: --proc-root ${agent.procRoot} is not ${own} (discovery.root's procfs); set discovery.root and discovery.enabled: true to discover there`,
    };
  }
  return { on: true, why: `auto: scanning ${own}` };
}

export interface AgentDiscoveryOptions {
  settings: Pick<DiscoverySettings, 'root' | 'intervalMs' | 'templateDir' | 'minConfidence'>;
  procRoot: string;
  logger: Logger;
  clock?: Clock;
  /** the discovery itself (tests inject failures); default discover() */
  run?: RediscovererOptions['run'];
  failureLogMs?: number;
}

/** What /api/status shows under `discovery`. */
export type AgentDiscoveryStatus =
  | { enabled: false; why: string }
  | ({
      enabled: true;
      intervalSec: number;
      minConfidence: number;
      runs: number;
      failedRuns: number;
      /** the last run's error, while runs fail */
      lastError?: string;
      /** the last run's duration */
      durationMs?: number;
    } & (DiscoveryStatus | { at: null; services: []; problems: 0 }));

export class AgentDiscovery {
  readonly rediscoverer: Rediscoverer;
  private pids: ReadonlySet<number> = NONE;
  private readonly changes = { appeared: 0, disappeared: 0, changed: 0 };
  private lastError?: string;
  private starting?: Promise<void>;

  constructor(private readonly o: AgentDiscoveryOptions) {
    const s = o.settings;
    this.rediscoverer = new Rediscoverer({
      intervalMs: s.intervalMs,
      discover: { root: s.root, procRoot: o.procRoot, templateDir: s.templateDir },
      clock: o.clock,
      logger: o.logger,
      run: o.run,
      failureLogMs: o.failureLogMs,
    });
    const rd = this.rediscoverer;
    rd.on('appeared', () => this.changes.appeared++);
    rd.on('disappeared', () => this.changes.disappeared++);
    rd.on('changed', () => this.changes.changed++);
    rd.on('result', (r) => {
      this.pids = servicePids(r, s.minConfidence);
      this.lastError = undefined;
    });
    rd.on('failed', (e) => {
      this.lastError = e.message;
    });
  }

  /** Start re-discovering; returns at once (the first run goes on in the background). */
  start(): void {
    this.starting ??= this.rediscoverer.start().catch((err: unknown) => {
      this.o.logger.error({ err }, 'service discovery could not start; the agent goes on without it');
    });
  }

  /** Stop; waits for a run in progress. Safe twice. */
  async shutdown(): Promise<void> {
    await this.rediscoverer.shutdown();
    await this.starting;
  }

  latest(): DiscoveryResult | undefined {
    return this.rediscoverer.latest();
  }

  /** The processes of discovered services (running, at or above min_confidence), for classification. */
  readonly importantPids = (): ReadonlySet<number> => this.pids;

  /** One OTLP resource per discovered service (running, at or above min_confidence), for the export. */
  readonly resources = (at: { nowMs: number; hostName: string }): ResourceMetrics[] => {
    const r = this.latest();
    return r ? serviceResources(r, this.o.settings.minConfidence, at) : [];
  };

  status(): AgentDiscoveryStatus {
    const rd = this.rediscoverer;
    const r = rd.latest();
    return {
      enabled: true,
      intervalSec: this.o.settings.intervalMs / 1000,
      minConfidence: this.o.settings.minConfidence,
      runs: rd.completedRuns,
      failedRuns: rd.failedRuns,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(r ? { durationMs: Math.round(runMs(r)) } : {}),
      ...(r ? discoveryStatus(r) : { at: null, services: [], problems: 0 }),
    };
  }

  /** /metrics: services by state, changes, runs, the last run's duration, classified pids. */
  families(): MetricFamily[] {
    const rd = this.rediscoverer;
    const r = rd.latest();
    const byState = { running: 0, installed: 0 };
    for (const s of r?.services ?? []) byState[s.state]++;
    return [
      {
        name: SelfMetric.discoveryServices,
        help: 'Services found by the last discovery, by state.',
        type: 'gauge',
        samples: (['running', 'installed'] as const).map((state) => ({ labels: { state }, value: byState[state] })),
      },
      {
        name: SelfMetric.discoveryChanges,
        help: 'Discovered services that appeared, disappeared or changed (pid, endpoint, version, config) since start.',
        type: 'counter',
        samples: (['appeared', 'disappeared', 'changed'] as const).map((change) => ({
          labels: { change },
          value: this.changes[change],
        })),
      },
      {
        name: SelfMetric.discoveryRuns,
        help: 'Discovery runs since start, by result.',
        type: 'counter',
        samples: [
          { labels: { result: 'ok' }, value: rd.completedRuns },
          { labels: { result: 'failed' }, value: rd.failedRuns },
        ],
      },
      {
        name: SelfMetric.discoveryDuration,
        help: 'How long the last discovery took.',
        type: 'gauge',
        unit: 's',
        samples: [{ value: r ? runMs(r) / 1000 : 0 }],
      },
      {
        name: SelfMetric.discoveryPids,
        help: 'Processes of discovered services, classified at least important.',
        type: 'gauge',
        samples: [{ value: this.pids.size }],
      },
    ];
  }
}

function runMs(r: DiscoveryResult): number {
  let ms = 0;
  for (const v of Object.values(r.stats.timings)) ms += v;
  return ms;
}
