/**
 * The checked apply, without the engine: ConfigLifecycle implements
 * ConfigApplier for the agent and does everything a config change needs
 * except building and swapping pipelines, which it asks of the agent through
 * `build` (a new pipeline beside the running one) and the returned
 * candidate's `commit` (swap it in between two cycles) / `discard`.
 *
 *   apply:     verify + validate (loadConfigBytes, the RUNNING config's
 *              signature policy) → unchanged? → build → commit → record the
 *              version → audit → watch health for N cycles
 *   onCycle:   the agent reports each cycle's health; a failure inside the
 *              window rolls back to the last good config by itself (build,
 *              commit, history: the bad version `rolled_back`, a new
 *              `rollback` version), audits it, and tells listeners (OpAMP
 *              reports FAILED for a remote config)
 *   rollback:  a kept version (or the one in effect at a time) goes through
 *              the same apply, its stored signature verified again
 *
 * Applies run one at a time in arrival order. Everything is driven by calls
 * (no timers), so tests run it cycle by cycle.
 */
import { type LoadedConfig, loadConfigBytes, sha256Hex } from '../../config/load.js';
import { NrdotError } from '../../core/errors.js';
import { type Logger, silentLogger } from '../../core/log.js';
import type { AuditLog, ConfigAuditEntry } from '../../server/audit.js';
import type { ConfigApplier, ConfigApplyRequest, ConfigApplyResult, ConfigRollbackRequest } from './apply.js';
import type { ConfigHistory, ConfigSource, StoredVersion } from './history/store.js';
import { readSignatureFile } from './signed.js';

/** A pipeline built beside the running one. */
export interface Candidate {
  /** swap it in (between two cycles); resolves once it runs */
  commit(): Promise<void>;
  /** drop it without running it */
  discard(): Promise<void>;
}

/** One cycle's verdict, from the agent (export failures, critical coverage, cycle time, memory tier). */
export interface CycleHealth {
  ok: boolean;
  /** why not, e.g. "export failures: 3 of 3 requests failed" */
  reason?: string;
  /** the hash of the config the cycle ran on: a verdict on another config than the one watched is ignored */
  hash?: string;
}

/** What listeners hear about a config's fate. */
export interface ConfigEvent {
  hash: string;
  version?: number;
  source: ConfigSource;
  /** applied: swapped in; healthy: passed the health window; refused/failed: never ran; rolled_back: ran, then undone */
  outcome: 'applied' | 'healthy' | 'refused' | 'failed' | 'rolled_back';
  error?: string;
}

export interface LifecycleOptions {
  /** the config running now (loadStartConfig) */
  running: LoadedConfig;
  /** its history version, when one was recorded */
  runningVersion?: number;
  build: (next: LoadedConfig) => Promise<Candidate>;
  /** cycles watched after an apply (reload.health_check_cycles) */
  healthCycles: number;
  /** undefined without a state dir: applies still work, nothing is kept */
  history?: ConfigHistory;
  audit?: AuditLog;
  logger?: Logger;
  /** wall clock for audit lines (default Date.now) */
  now?: () => number;
  /** the environment references are read from (default process.env) */
  env?: NodeJS.ProcessEnv;
}

interface Good {
  loaded: LoadedConfig;
  version?: number;
}

interface Watch {
  loaded: LoadedConfig;
  version?: number;
  source: ConfigSource;
  cyclesLeft: number;
  /** the config to return to if this one fails */
  previous: Good;
}

function describe(source: ConfigSource, req: ConfigApplyRequest): string {
  if (req.file) return req.file;
  return source === 'api' ? 'PUT /api/config' : source === 'opamp' ? 'OpAMP remote config' : `${source} config`;
}

export class ConfigLifecycle implements ConfigApplier {
  private running: LoadedConfig;
  private runningVersion: number | undefined;
  private good: Good;
  private watch: Watch | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly listeners: ((e: ConfigEvent) => void)[] = [];
  private readonly logger: Logger;
  private readonly now: () => number;

  constructor(private readonly o: LifecycleOptions) {
    this.running = o.running;
    this.runningVersion = o.runningVersion;
    this.good = { loaded: o.running, version: o.runningVersion };
    this.logger = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
  }

  /** The config in effect now. */
  get current(): LoadedConfig {
    return this.running;
  }

  get currentVersion(): number | undefined {
    return this.runningVersion;
  }

  /** true while a new config is inside its health window */
  get watching(): boolean {
    return this.watch !== undefined;
  }

  onEvent(listener: (e: ConfigEvent) => void): void {
    this.listeners.push(listener);
  }

  private emit(e: ConfigEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.logger.error({ err }, 'config event listener failed');
      }
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async audit(entry: Omit<ConfigAuditEntry, 'time'>): Promise<void> {
    await this.o.audit?.append({ time: new Date(this.now()).toISOString(), ...entry });
  }

  private record(
    req: { bytes: Buffer; source: ConfigSource; who: string; why?: string; file?: string },
    extra: { keyId?: string; signature?: string; result?: 'applied' | 'failed'; error?: string; restoredFrom?: number },
  ): number | undefined {
    if (!this.o.history) return undefined;
    // only what the history keeps: a carried signature (an object) is kept as its text, and only when verified
    const { bytes, source, who, why, file } = req;
    try {
      return this.o.history.record({ bytes, source, who, why, file, ...extra }).version;
    } catch (e) {
      this.logger.warn({ err: (e as Error).message }, 'could not record the config in the history');
      return undefined;
    }
  }

  applyConfig(req: ConfigApplyRequest): Promise<ConfigApplyResult> {
    return this.serial(() => this.apply(req));
  }

  rollbackConfig(req: ConfigRollbackRequest): Promise<ConfigApplyResult> {
    return this.serial(async () => {
      const why = req.why;
      let target: StoredVersion;
      try {
        if (!this.o.history) throw new Error('no config history: the agent runs without a state dir');
        target = 'version' in req.to ? this.o.history.get(req.to.version) : this.o.history.effectiveAt(req.to.timeMs);
      } catch (e) {
        const error = (e as Error).message;
        await this.audit({
          who: req.who,
          action: 'config.rollback',
          source: 'rollback',
          reason: error,
          outcome: 'refused',
        });
        return { ok: false, outcome: 'refused', error };
      }
      return this.apply(
        {
          bytes: target.bytes,
          ...(target.signature
            ? { signature: { text: target.signature, where: `the signature kept with v${target.version}` } }
            : {}),
          source: 'rollback',
          who: req.who,
          why: why ?? `rollback to v${target.version}`,
          ...(target.file ? { file: target.file } : {}),
        },
        target.version,
      );
    });
  }

  private async apply(req: ConfigApplyRequest, restoredFrom?: number): Promise<ConfigApplyResult> {
    const action = req.source === 'rollback' ? 'config.rollback' : 'config.apply';
    const what = req.source === 'rollback' ? `v${restoredFrom} from the history` : describe(req.source, req);
    const signature =
      req.signature ?? (req.file && req.source !== 'rollback' ? readSignatureFile(req.file) : undefined);
    const base = { who: req.who, action, source: req.source, ...(req.file ? { config: req.file } : {}) } as const;

    // 1. verify and validate, under the running config's signature policy
    let next: LoadedConfig;
    try {
      next = loadConfigBytes(req.bytes, what, { enforce: this.running.policy, signature, env: this.o.env });
    } catch (e) {
      const error = e instanceof NrdotError ? e.message : `cannot load: ${(e as Error).message}`;
      const hash = sha256Hex(req.bytes);
      const version = this.record(req, { result: 'failed', error, ...(restoredFrom ? { restoredFrom } : {}) });
      await this.audit({ ...base, hash, ...(version ? { version } : {}), reason: error, outcome: 'refused' });
      this.logger.warn({ source: req.source, who: req.who, hash, error }, 'config refused; the running config stays');
      this.emit({ hash, version, source: req.source, outcome: 'refused', error });
      return { ok: false, outcome: 'refused', error, hash, ...(version ? { version } : {}) };
    }
    if (next.hash === this.running.hash) {
      return {
        ok: true,
        outcome: 'unchanged',
        hash: next.hash,
        ...(this.runningVersion ? { version: this.runningVersion } : {}),
      };
    }

    // 2. build beside the running pipeline, then swap between two cycles
    let candidate: Candidate | undefined;
    try {
      candidate = await this.o.build(next);
      await candidate.commit();
    } catch (e) {
      await candidate?.discard().catch(() => undefined);
      const error = `could not build the pipeline for it: ${(e as Error).message}`;
      const version = this.record(req, { result: 'failed', error, ...(restoredFrom ? { restoredFrom } : {}) });
      await this.audit({ ...base, hash: next.hash, ...(version ? { version } : {}), reason: error, outcome: 'failed' });
      this.logger.error(
        { source: req.source, hash: next.hash, error },
        'config failed to build; the running config stays',
      );
      this.emit({ hash: next.hash, version, source: req.source, outcome: 'failed', error });
      return { ok: false, outcome: 'failed', error, hash: next.hash, ...(version ? { version } : {}) };
    }

    // 3. it runs: keep it, and watch it
    const version = this.record(req, {
      ...(next.signature.keyId ? { keyId: next.signature.keyId, signature: next.signature.text } : {}),
      ...(restoredFrom ? { restoredFrom } : {}),
    });
    this.running = next;
    this.runningVersion = version;
    this.watch = {
      loaded: next,
      version,
      source: req.source,
      cyclesLeft: this.o.healthCycles,
      previous: this.watch ? this.watch.previous : this.good,
    };
    await this.audit({
      ...base,
      hash: next.hash,
      ...(version ? { version } : {}),
      ...(next.signature.keyId ? { keyId: next.signature.keyId } : {}),
      ...(req.why ? { reason: req.why } : {}),
      outcome: 'ok',
    });
    this.logger.info(
      {
        source: req.source,
        who: req.who,
        version,
        hash: next.hash,
        keyId: next.signature.keyId,
        watchCycles: this.o.healthCycles,
      },
      'config applied; watching its health',
    );
    this.emit({ hash: next.hash, version, source: req.source, outcome: 'applied' });
    return {
      ok: true,
      outcome: 'applied',
      hash: next.hash,
      ...(version ? { version } : {}),
      ...(next.signature.keyId ? { keyId: next.signature.keyId } : {}),
      ...(restoredFrom ? { restoredFrom } : {}),
    };
  }

  /**
   * The agent calls this after every cycle. Inside a health window, a failed
   * cycle rolls back to the last good config; N good cycles confirm the new
   * one. Resolves once any rollback is done.
   */
  onCycle(health: CycleHealth): Promise<void> {
    if (!this.watch) return Promise.resolve();
    return this.serial(async () => {
      const w = this.watch;
      if (!w) return;
      if (health.hash !== undefined && health.hash !== w.loaded.hash) return;
      if (health.ok) {
        w.cyclesLeft--;
        if (w.cyclesLeft <= 0) {
          this.watch = undefined;
          this.good = { loaded: w.loaded, version: w.version };
          this.logger.info({ version: w.version, hash: w.loaded.hash }, 'config passed its health check');
          this.emit({ hash: w.loaded.hash, version: w.version, source: w.source, outcome: 'healthy' });
        }
        return;
      }
      await this.rollBack(w, health.reason ?? 'health check failed');
    });
  }

  private async rollBack(w: Watch, reason: string): Promise<void> {
    this.watch = undefined;
    const prev = w.previous;
    const why = `automatic rollback: v${w.version ?? '?'} failed its health check (${reason})`;
    let candidate: Candidate | undefined;
    try {
      candidate = await this.o.build(prev.loaded);
      await candidate.commit();
    } catch (e) {
      await candidate?.discard().catch(() => undefined);
      // nothing better to run: stay on the new config, loudly
      this.logger.error(
        { err: (e as Error).message, version: w.version },
        'automatic rollback failed to build the previous config',
      );
      await this.audit({
        who: 'nrdot',
        action: 'config.rollback',
        source: 'rollback',
        hash: prev.loaded.hash,
        reason: `${why}; the rollback failed: ${(e as Error).message}`,
        outcome: 'failed',
      });
      return;
    }
    if (this.o.history && w.version !== undefined) {
      try {
        this.o.history.setResult(w.version, 'rolled_back', reason);
      } catch (e) {
        this.logger.warn({ err: (e as Error).message }, 'could not mark the version rolled back in the history');
      }
    }
    const version = this.record(
      {
        bytes: prev.loaded.bytes,
        source: 'rollback',
        who: 'nrdot',
        why,
        ...(prev.loaded.files[1] ? { file: prev.loaded.files[1] } : {}),
      },
      {
        ...(prev.loaded.signature.keyId
          ? { keyId: prev.loaded.signature.keyId, signature: prev.loaded.signature.text }
          : {}),
        ...(prev.version ? { restoredFrom: prev.version } : {}),
      },
    );
    this.running = prev.loaded;
    this.runningVersion = version ?? prev.version;
    this.good = { loaded: prev.loaded, version: this.runningVersion };
    await this.audit({
      who: 'nrdot',
      action: 'config.rollback',
      source: 'rollback',
      hash: prev.loaded.hash,
      ...(version ? { version } : {}),
      reason: why,
      outcome: 'rolled_back',
    });
    this.logger.warn({ failedVersion: w.version, restored: prev.version, version, reason }, 'config rolled back');
    this.emit({ hash: w.loaded.hash, version: w.version, source: w.source, outcome: 'rolled_back', error: reason });
  }
}
