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
 * A failed run is logged once, then at most once per `failureLogMs` while
 * runs keep failing (with how many failed meanwhile), and once more when a
 * run works again; `failedRuns` counts them all.
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
  /** while runs keep failing, log at most one failure per this many ms (default 10 min) */
  failureLogMs?: number;
  /** the discovery itself (default discover(); tests inject failures) */
  run?: (opts: DiscoverOptions) => Promise<DiscoveryResult>;
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
  private failures = 0;
  /** failures since the last logged one, and when that was (-1: the last run worked) */
  private unlogged = 0;
  private failureLoggedAt = -1;

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

  /** Runs that threw so far. */
  get failedRuns(): number {
    return this.failures;
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
          const r = await (this.opts.run ?? discover)({ ...this.opts.discover, templates: this.templates, problems });
          this.recovered();
          this.publish(r);
          return r;
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          this.failed(err);
          this.emit('failed', err);
          throw err;
        }
      });
    this.running = run;
    return run;
  }

  private failed(err: Error): void {
    this.failures++;
    const now = this.clock.now();
    const every = this.opts.failureLogMs ?? 600_000;
    if (this.failureLoggedAt >= 0 && now - this.failureLoggedAt < every) {
      this.unlogged++;
      return;
    }
    const meanwhile = this.unlogged;
    this.opts.logger?.error(
      { err, failedRuns: this.failures, ...(meanwhile > 0 ? { notLogged: meanwhile } : {}) },
      meanwhile > 0
        ? `service discovery failed (${meanwhile} more failures since the last one logged)`
        : 'service discovery failed (the agent goes on; the next run is at the next interval)',
    );
    this.unlogged = 0;
    this.failureLoggedAt = now;
  }

  private recovered(): void {
    if (this.failureLoggedAt < 0) return;
    this.opts.logger?.info({ failedRuns: this.failures }, 'service discovery works again');
    this.failureLoggedAt = -1;
    this.unlogged = 0;
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
