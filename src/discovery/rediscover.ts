/**
 * Re-discovery on an interval, for the agent: a component (start /
 * shutdown, shutdown safe twice) that keeps the latest DiscoveryResult and
 * emits what changed between two runs.
 *
 *   'appeared'    (svc)            a service id not in the previous run
 *   'disappeared' (svc)            an id of the previous run that is gone
 *   'changed'     (svc, before)    same id, another pid, endpoint, version or config file
 *   'result'      (result)         every run
 *   'failed'      (error)          a run threw (the next run is still scheduled)
 *
 * Templates are loaded once at start; their problems are repeated in every
 * result. The clock is injected, so tests advance time instead of sleeping.
 */
import { EventEmitter } from 'node:events';
import { type Clock, realClock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import { type DiscoverOptions, discover } from './discover.js';
import { Problems } from './host.js';
import { loadTemplates } from './templates/load.js';
import type { ServiceTemplate } from './templates/types.js';
import type { DiscoveredService, DiscoveryResult, Problem } from './types.js';

export interface RediscovererOptions {
  /** time between runs (config `discovery.interval`) */
  intervalMs: number;
  /** root, procRoot, templateDir... as for discover() */
  discover?: Omit<DiscoverOptions, 'templates' | 'problems'>;
  clock?: Clock;
  logger?: Logger;
}

export interface RediscovererEvents {
  appeared: [DiscoveredService];
  disappeared: [DiscoveredService];
  changed: [DiscoveredService, DiscoveredService];
  result: [DiscoveryResult];
  failed: [Error];
}

function fingerprint(s: DiscoveredService): string {
  const p = s.primary;
  return JSON.stringify([s.pid, s.state, p?.transport, p?.address, p?.port, p?.path, s.version?.value, s.configPath]);
}

export class Rediscoverer extends EventEmitter<RediscovererEvents> {
  private readonly clock: Clock;
  private templates: readonly ServiceTemplate[] = [];
  private templateProblems: Problem[] = [];
  private last: DiscoveryResult | undefined;
  private abort: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private running: Promise<DiscoveryResult> | undefined;
  private state: 'new' | 'started' | 'stopped' = 'new';
  private runs = 0;

  constructor(private readonly opts: RediscovererOptions) {
    super();
    if (!(opts.intervalMs > 0)) throw new Error(`discovery interval must be positive, got ${opts.intervalMs}`);
    this.clock = opts.clock ?? realClock;
  }

  /** The latest result (undefined before the first run ends). */
  latest(): DiscoveryResult | undefined {
    return this.last;
  }

  /** Runs completed so far. */
  get completedRuns(): number {
    return this.runs;
  }

  /** Load the templates, run the first discovery, then re-run every interval. */
  async start(): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'started';
    const problems = new Problems();
    this.templates = loadTemplates(
      { embeddedDir: this.opts.discover?.embeddedTemplateDir, userDir: this.opts.discover?.templateDir },
      problems,
    );
    this.templateProblems = problems.list;
    for (const p of this.templateProblems) this.opts.logger?.warn({ file: p.file, line: p.line }, p.message);
    this.abort = new AbortController();
    const interval = this.opts.intervalMs;
    // runs keep a fixed cadence from the start (a slow run does not push the next ones later)
    let due = this.clock.now() + interval;
    await this.runOnce().catch(() => undefined);
    const signal = this.abort.signal;
    this.loop = (async () => {
      while (!signal.aborted) {
        await this.clock.sleep(Math.max(0, due - this.clock.now()), signal);
        if (signal.aborted) break;
        await this.runOnce().catch(() => undefined);
        due += interval;
        // missed ticks (a run longer than the interval) are skipped, not run back to back
        if (due < this.clock.now()) due = this.clock.now() + interval;
      }
    })();
  }

  /** Stop re-discovering; waits for a run in progress. Safe to call twice. */
  async shutdown(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.abort?.abort();
    await this.loop;
    await this.running?.catch(() => undefined);
  }

  /** Discover now (runs are serialised) and emit the differences with the previous run. */
  runOnce(): Promise<DiscoveryResult> {
    const prev = this.running ?? Promise.resolve(undefined);
    const run = prev
      .catch(() => undefined)
      .then(async () => {
        try {
          const problems = new Problems();
          for (const p of this.templateProblems) problems.add(p);
          const r = await discover({ ...this.opts.discover, templates: this.templates, problems });
          this.publish(r);
          return r;
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          this.opts.logger?.error({ err }, 'service discovery failed');
          this.emit('failed', err);
          throw err;
        }
      });
    this.running = run;
    return run;
  }

  private publish(r: DiscoveryResult): void {
    const before = new Map((this.last?.services ?? []).map((s) => [s.id, s]));
    const after = new Map(r.services.map((s) => [s.id, s]));
    const log = this.opts.logger;
    this.last = r;
    this.runs++;
    for (const [id, s] of after) {
      const old = before.get(id);
      if (!old) {
        log?.info({ service: s.service, id, confidence: s.confidence, pid: s.pid, state: s.state }, 'service appeared');
        this.emit('appeared', s);
      } else if (fingerprint(old) !== fingerprint(s)) {
        log?.info({ service: s.service, id, pid: s.pid, previousPid: old.pid }, 'service changed');
        this.emit('changed', s, old);
      }
    }
    for (const [id, s] of before) {
      if (after.has(id)) continue;
      log?.info({ service: s.service, id, pid: s.pid }, 'service disappeared');
      this.emit('disappeared', s);
    }
    this.emit('result', r);
  }
}
