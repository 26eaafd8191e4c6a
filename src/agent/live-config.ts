/**
 * The running agent's config lifecycle, wired (docs/CONFIG-LIFECYCLE.md):
 * one ConfigLifecycle whose engine part is src/agent/reload.ts, and every
 * way a config change arrives:
 *
 *   SIGHUP                     re-read the --config file (and FILE.sig)
 *   a change of those files    ConfigWatcher, debounced (reload.watch, reload.debounce)
 *   PUT /api/config[/rollback] the agent's applyConfig / rollbackConfig (nrdot config apply, nrdot rollback)
 *   OpAMP remote config        when opamp.endpoint is set: APPLIED, or FAILED with the reason
 *                              (also after an automatic rollback)
 *
 * `afterCycle(report)` gives the lifecycle each cycle's health verdict; a
 * config failing it inside its window (reload.health_check_cycles) is rolled
 * back by the lifecycle before the next cycle.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { durationMs } from '../config/schema.js';
import { ConfigHistory } from '../control/config/history/store.js';
import { ConfigLifecycle, type CycleHealth } from '../control/config/lifecycle.js';
import { localWho } from '../control/config/startup.js';
import { ConfigWatcher, onReloadSignal } from '../control/config/watcher.js';
import type { OpampClient } from '../control/opamp/index.js';
import type { Logger } from '../core/log.js';
import type { CycleReport } from '../pipeline/types.js';
import type { Agent } from './agent.js';
import { buildCandidate, HealthVerdict } from './reload.js';

export interface LiveConfigOptions {
  agent: Agent;
  /** the config the agent started with */
  loaded: LoadedConfig;
  /** --config, when given: what SIGHUP and the watcher re-read */
  configFile?: string;
  /** --state-dir or state_dir: the history lives there */
  stateDir?: string;
  /** the start config's history version */
  startVersion?: number;
  logger: Logger;
}

export class LiveConfig {
  readonly life: ConfigLifecycle;
  private readonly verdict: HealthVerdict;
  private lastHealth: CycleHealth = { ok: true };
  private watcher?: ConfigWatcher;
  private offHup: () => void = () => {};
  private opamp?: OpampClient;

  private constructor(private readonly o: LiveConfigOptions) {
    const { agent, loaded, logger } = o;
    const config = loaded.config;
    agent.configHash = loaded.hash;
    const history = o.stateDir
      ? ConfigHistory.inStateDir(path.resolve(o.stateDir), { maxVersions: config.config_history.max_versions, logger })
      : undefined;
    this.life = new ConfigLifecycle({
      running: loaded,
      runningVersion: o.startVersion,
      build: (next) => buildCandidate(agent, next),
      healthCycles: config.reload.health_check_cycles,
      history,
      audit: agent.audit,
      logger,
    });
    this.verdict = new HealthVerdict(agent);
    agent.applyConfig = (r) => this.life.applyConfig(r);
    agent.rollbackConfig = (r) => this.life.rollbackConfig(r);
  }

  /** Wire everything (the agent is started). */
  static async start(o: LiveConfigOptions): Promise<LiveConfig> {
    const live = new LiveConfig(o);
    const { logger } = o;
    const config = o.loaded.config;
    const file = o.configFile ? path.resolve(o.configFile) : undefined;
    live.offHup = onReloadSignal(
      file
        ? () => live.fromFile(file, 'sighup')
        : () => logger.warn('SIGHUP: the agent runs without --config, there is no file to reload; nothing changes'),
      logger,
    );
    if (file && config.reload.watch) {
      live.watcher = new ConfigWatcher({
        files: [file, `${file}.sig`],
        debounceMs: durationMs(config.reload.debounce),
        onChange: () => live.fromFile(file, 'file'),
        logger,
      });
      live.watcher.start();
    }
    if (config.opamp.endpoint) await live.startOpamp(file);
    return live;
  }

  /** Apply the --config file as it is now (FILE.sig is read by the lifecycle). */
  private async fromFile(file: string, source: 'file' | 'sighup'): Promise<void> {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch (e) {
      this.o.logger.error({ file, err: (e as Error).message }, 'cannot read the config file; the running config stays');
      return;
    }
    const r = await this.life.applyConfig({ bytes, source, who: localWho(), file });
    if (r.ok)
      this.o.logger.info({ source, file, outcome: r.outcome, version: r.version }, 'config reloaded from its file');
  }

  private async startOpamp(file: string | undefined): Promise<void> {
    const { agent, logger } = this.o;
    const config = this.o.loaded.config;
    // loaded only when configured: it brings protobufjs and the OpAMP definitions
    const { startOpamp, effectiveFiles } = await import('../control/opamp/index.js');
    const who = `opamp:${new URL(config.opamp.endpoint).host}`;
    this.opamp = startOpamp(config.opamp, {
      stateDir: this.o.stateDir,
      logger,
      pollIntervalMs: durationMs(config.opamp.poll_interval),
      apply: async (bytes, meta) => {
        const r = await this.life.applyConfig({ bytes, signature: meta.signature, source: 'opamp', who });
        return r.ok ? { ok: true } : { ok: false, error: r.error };
      },
      health: () => ({
        healthy: this.lastHealth.ok,
        status: agent.ready() ? 'running' : 'starting',
        ...(this.lastHealth.reason ? { lastError: this.lastHealth.reason } : {}),
      }),
      effectiveConfig: () => effectiveFiles(this.life.current, file),
      signaturePolicy: () => this.life.current.policy,
      audit: agent.audit,
    });
    this.life.onEvent((e) => {
      if (e.outcome === 'rolled_back' && e.error) this.opamp?.reportRolledBack(e.hash, e.error);
      this.opamp?.wake();
    });
  }

  /** The cycle's health verdict for the lifecycle (rolls back a failing new config by itself). */
  async afterCycle(report: CycleReport): Promise<void> {
    const h = this.verdict.check(report);
    const changed = h.ok !== this.lastHealth.ok;
    this.lastHealth = h;
    if (changed) this.opamp?.wake();
    await this.life.onCycle(h);
  }

  /** Stop the triggers (the watcher, SIGHUP, OpAMP); the agent shuts down after. */
  async shutdown(): Promise<void> {
    await this.watcher?.shutdown();
    this.offHup();
    await this.opamp?.shutdown();
  }
}
