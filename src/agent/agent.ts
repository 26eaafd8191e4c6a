/**
 * The agent: everything `nrdot run` starts, composed in one place.
 *
 *   scanner ─► engine (classify, score, profile, paths) ─► sink (file | stdout | queue → breaker → retry → OTLP)
 *   memory governor ─► engine (tier cuts) · control server (/metrics, /health, /api)
 *   service discovery ─► engine (important pids, service resources) · status, /metrics
 *
 * Start order is downstream first (exporters, then the engine, then the
 * server that reports on them); shutdown is upstream first (stop cycling,
 * flush the engine and exporters), and the control server goes last so
 * /health answers until the end. `shutdown()` is safe to call twice.
 */

import * as path from 'node:path';
import { exporterOptions, governorOptions, receiverOptions } from '../config/components.js';
import type { Config } from '../config/schema.js';
import { criticalTest, gcRelief, InputAdmission, MemoryGovernor, readRssBytes } from '../control/index.js';
import type { Logger } from '../core/log.js';
import { discoverySettings } from '../discovery/config.js';
import { type CycleReport, type CycleResult, Engine, type EngineOptions, type MemoryView } from '../pipeline/engine.js';
import type { ExportSink } from '../pipeline/types.js';
import { AuditLog } from '../server/audit.js';
import type { MetricFamily } from '../server/exposition.js';
import { type ControlServer, startControlServer } from '../server/http.js';
import { parseListen } from '../server/listen.js';
import { collectAgentProcess } from '../server/process-metrics.js';
import { Registry } from '../server/registry.js';
import { oversizeFamilies, SelfMetrics } from '../server/self-metrics.js';
import { loadToken, tokenIdentity } from '../server/token.js';
import type { AgentControl } from '../server/types.js';
import type { BackendChoice, OpenedScanner } from '../sources/index.js';
import { openScanner } from '../sources/index.js';
import { type OtlpReceiver, startOtlpReceiver } from '../sources/receiver/index.js';
import type { HistorySnapshot, ScanHistory } from '../sources/recording/history.js';
import type { ProcessScanner } from '../sources/scanner.js';
import { StateStore } from '../state/store.js';
import { SelfMetric } from '../telemetry/names.js';
import { type DirLock, lockAgentDirs } from '../util/lock.js';
import { type CommandLinePrivacy, loadCommandLinePrivacy } from '../util/privacy.js';
import { VERSION } from '../util/version.js';
import { AgentControlLoop } from './control-loop.js';
import { AgentDiscovery, type AgentDiscoveryOptions, discoveryDecision } from './discovery.js';
import { historyStatus, withHistory } from './history.js';
import { processFamilies } from './pull.js';
import { ReceivedSelf } from './received-self.js';
import { ReceivedDataProcessor } from './receiving.js';
import { SwitchableSink } from './switch-sink.js';

export interface AgentOptions {
  config: Config;
  profile: string;
  logger: Logger;
  procRoot: string;
  backend: BackendChoice;
  intervalMs: number;
  exportSpecs: string[];
  stateDir?: string;
  /** "" or undefined = config queue.dir */
  queueDir?: string;
  /** "off" disables; undefined = config server.listen */
  listen?: string;
  workers?: number;
  /** memory reader for the governor (tests); default /proc/self/statm */
  readMemoryBytes?: () => number;
  /** OTLP/HTTP receiver address; "off" disables; undefined = config receiver.listen */
  otlpListen?: string;
  /** do not scan /proc: a pure OTLP processor behind a Collector */
  noScan?: boolean;
  /** host.name of scanned processes; undefined = config scan.host_name, "" = from the proc root */
  hostName?: string;
  /** --no-discovery */
  noDiscovery?: boolean;
  /** the discovery run (tests inject failures); default discover() */
  discoveryRun?: AgentDiscoveryOptions['run'];
  /** a scan source opened by the caller (the replay of a recording, src/sources/recording); default: openScanner */
  scanner?: OpenedScanner;
  /** what command-line flags set, so a reloaded config does not override them (src/agent/reload.ts) */
  flags?: { export?: string[]; intervalMs?: number; logLevel?: string };
  /** the control loop's clock (schedules, dwell, override expiry); default Date.now */
  controlNow?: () => number;
}

/** Stands in for the scanner with --no-scan. */
const NO_SCANNER: ProcessScanner = {
  backend: 'ts',
  procRoot: '',
  scan: () => Promise.reject(new Error('scanning is off (--no-scan)')),
  close: () => {},
};

export class Agent implements AgentControl {
  /** the config in effect (hot reload replaces it, with the engine, between two cycles) */
  config: Config;
  readonly logger: Logger;
  engine: Engine;
  /** the export stage across reloads (src/agent/switch-sink.ts) */
  readonly sink: SwitchableSink;
  /** the cycle interval in effect */
  intervalMs: number;
  /** a cycle in progress, and a reload swapping engines (they exclude each other) */
  private inCycle?: Promise<unknown>;
  private gate?: Promise<void>;
  /** SHA-256 of the config in effect (hot reload sets it), and of the one each cycle ran on */
  configHash = '';
  private readonly ranOn = new WeakMap<CycleReport, string>();
  readonly scanner: ProcessScanner;
  readonly scannerNote: string;
  /** scan.history: the recent scans, for GET /api/history (undefined: `historyOff` says why) */
  readonly scanHistory?: ScanHistory;
  private readonly historyOff?: string;
  readonly governor: MemoryGovernor;
  readonly registry = new Registry();
  private readonly selfMetrics: SelfMetrics;
  private server?: ControlServer;
  private receiver?: OtlpReceiver;
  private received?: ReceivedDataProcessor;
  private admission?: InputAdmission;
  private readonly otlpListen: string;
  readonly scanning: boolean;
  private readonly listen: string;
  private startedAt = 0;
  private cycles = 0;
  private stopping?: Promise<void>;
  /** what the last scan cycle produced (status, /metrics, pull mode) */
  private lastCycle?: CycleResult;
  /** the control loop's per-cycle hook and knob, kept across engines (hot reload) */
  private readonly cycleHooks: ((r: CycleResult) => void)[] = [];
  private controlOverride?: Parameters<Engine['setProfileOverride']>[0];
  /** received data (behind a Collector): the agent's figures summed over hosts */
  private readonly receivedSelf = new ReceivedSelf();
  private lastReceived?: { host: string; report: CycleReport };
  private readonly receivedListeners: ((host: string, r: CycleResult) => void)[] = [];
  readonly queueDir: string;
  /** privacy.command_line, salt read: the build stage applies it to every exported process */
  commandLine: CommandLinePrivacy;
  readonly stateDir: string | undefined;
  private readonly state: StateStore | undefined;
  private locks: DirLock[] = [];
  /** service discovery, when it runs (discovery.enabled, --no-discovery) */
  readonly discovery?: AgentDiscovery;
  readonly discoveryNote: string;
  /** budgets, schedules and manual overrides (src/agent/control-loop.ts) */
  readonly control: AgentControlLoop;
  /**
   * server.audit_log: the one writer of the file, handed to every part that
   * audits (control server, control loop, config lifecycle, OpAMP, the start
   * version), so lines are in the order they were written
   */
  readonly audit?: AuditLog;

  constructor(private readonly o: AgentOptions) {
    const { config, logger } = o;
    this.config = config;
    this.logger = logger;
    this.scanning = !o.noScan;
    this.commandLine = loadCommandLinePrivacy(config.privacy);
    const { reader, note } = o.scanner
      ? o.scanner
      : this.scanning
        ? openScanner(o.procRoot, o.backend, o.hostName ?? config.scan.host_name)
        : { reader: NO_SCANNER, note: 'scanning is off (--no-scan): processing received OTLP only' };
    const kept = withHistory(reader, config, this.scanning, {
      logger,
      config: () => this.config,
      privacy: () => this.commandLine,
      intervalMs: () => this.intervalMs,
    });
    this.scanner = kept.scanner;
    this.scanHistory = kept.history;
    this.historyOff = kept.off;
    this.scannerNote = note;
    this.queueDir = o.queueDir ?? config.queue.dir;
    this.sink = new SwitchableSink(o.exportSpecs, exporterOptions(config, { logger, queueDir: this.queueDir }), logger);
    this.intervalMs = o.intervalMs;
    this.governor = new MemoryGovernor({
      ...governorOptions(config),
      readMemoryBytes: o.readMemoryBytes ?? readRssBytes,
      // under pressure, a major collection gives the heap's dead pages back
      relieve: config.memory.limit_mib > 0 ? gcRelief() : undefined,
      logger,
      // a tier changes what is exported: a control decision (reason memory)
      onChange: (c) => {
        // the scan history is the first thing given up, and kept again once memory is back to normal
        if (c.to === 'normal') this.scanHistory?.resume();
        else this.scanHistory?.pause();
        this.control.memoryTier(c, this.governor.limit);
      },
    });
    const stateDir = o.stateDir ?? (config.state_dir || undefined);
    this.stateDir = stateDir;
    this.state = stateDir ? new StateStore(path.resolve(stateDir), o.procRoot, logger) : undefined;
    const ds = discoverySettings(config.discovery);
    const decision = discoveryDecision(ds, { procRoot: o.procRoot, scanning: this.scanning, flagOff: !!o.noDiscovery });
    this.discoveryNote = decision.why;
    if (decision.on) {
      this.discovery = new AgentDiscovery({ settings: ds, procRoot: o.procRoot, logger, run: o.discoveryRun });
      this.registry.collect(() => this.discovery!.families());
    }
    this.selfMetrics = new SelfMetrics(this.registry);
    this.audit = config.server.audit_log ? new AuditLog(path.resolve(config.server.audit_log), logger) : undefined;
    this.engine = this.newEngine(config, o.profile, o.intervalMs, this.commandLine);
    this.control = new AgentControlLoop({
      ...{ config, logger, registry: this.registry, intervalMs: o.intervalMs },
      ...{ engine: this.engineView(), baseProfile: o.profile, now: o.controlNow, audit: this.audit },
    });
    if (config.server.process_metrics) this.processFamilies = () => processFamilies(this.lastCycle?.request.request);
    // nrdot_build_info and process_* of the agent itself, as Prometheus exporters serve them
    collectAgentProcess(this.registry, this.scanning ? this.scanner.backend : 'none');
    this.registry.collect(oversizeFamilies);
    // queues drain and memory moves between cycles (and there are no cycles with --no-scan)
    this.registry.onScrape(() =>
      this.selfMetrics.live(
        this.sink.health(),
        config.memory.limit_mib > 0 ? { tier: this.governor.tier, usage: this.governor.usage } : undefined,
      ),
    );
    this.listen = o.listen ?? config.server.listen;
    this.otlpListen = o.otlpListen ?? config.receiver.listen;
    // a bad address is bad usage, found before anything starts
    parseListen(this.listen, '--listen');
    parseListen(this.otlpListen, '--otlp-listen');
  }

  /**
   * An engine over this agent's scanner, sink and state (hot reload builds
   * the next one with `from`, beside the running one). The engine gets the
   * sink without its start/shutdown: the agent owns those across engines.
   */
  newEngine(
    config: Config,
    profile: string,
    intervalMs: number,
    privacy: CommandLinePrivacy,
    from?: EngineOptions['from'],
  ): Engine {
    const sink = this.sink;
    const shared: ExportSink = {
      start: async () => {},
      shutdown: async () => {},
      export: (p, e, b) => sink.export(p, e, b),
      health: () => sink.health(),
      errorCounts: () => sink.errorCounts(),
    };
    const engine = new Engine({
      config,
      profile,
      scanner: this.scanner,
      sink: shared,
      intervalMs,
      logger: this.logger,
      state: this.state,
      workers: this.o.workers,
      // the governor's getters are the engine's view of it
      memory: config.memory.limit_mib > 0 ? this.governor : undefined,
      privacy,
      from,
      importantPids: this.discovery?.importantPids,
      extraResources: this.discovery?.resources,
    });
    engine.onCycle((r) => {
      this.lastCycle = r;
      this.selfMetrics.update(r.self, r.report.profile);
      for (const fn of this.cycleHooks) fn(r);
    });
    // a reloaded engine keeps the control loop's knob
    if (this.controlOverride) engine.setProfileOverride(this.controlOverride);
    return engine;
  }

  /**
   * The running engine as the control loop sees it: always the current one,
   * across hot reloads (which replace `this.engine`).
   */
  private engineView() {
    const agent = this;
    type Override = Parameters<Engine['setProfileOverride']>[0];
    return {
      get activeProfile(): string {
        return agent.engine.activeProfile;
      },
      get profiles(): string[] {
        return agent.engine.profiles;
      },
      setProfile: (name: string) => agent.engine.setProfile(name),
      setProfileOverride: (fn: Override) => {
        agent.controlOverride = fn;
        agent.engine.setProfileOverride(fn);
      },
      onCycle: (fn: (r: CycleResult) => void) => {
        agent.cycleHooks.push(fn);
      },
    };
  }

  /** Run `fn` between two cycles: waits for the cycle in progress, and the next one waits for `fn`. */
  async betweenCycles<T>(fn: () => Promise<T>): Promise<T> {
    while (this.gate) await this.gate;
    let open = () => {};
    this.gate = new Promise<void>((r) => {
      open = r;
    });
    try {
      await this.inCycle?.catch(() => undefined);
      return await fn();
    } finally {
      this.gate = undefined;
      open();
    }
  }

  /** The options the agent was started with (flags and all). */
  get options(): Readonly<AgentOptions> {
    return this.o;
  }

  /** The OTLP receiver's URL, once started (undefined when it is off). */
  get receiverUrl(): string | undefined {
    return this.receiver?.url;
  }

  /** The governor as the engines see it; undefined when there is no memory limit. */
  private get memoryView(): MemoryView | undefined {
    return this.config.memory.limit_mib > 0 ? this.governor : undefined;
  }

  /** The control server's URL, once started (undefined with --listen off). */
  get url(): string | undefined {
    return this.server?.url;
  }

  async start(): Promise<void> {
    this.startedAt = Date.now();
    // one agent per queue and state directory, for its whole life (exit 2 naming the holder)
    this.locks = lockAgentDirs({ queueDir: this.queueDir, stateDir: this.stateDir });
    this.governor.start();
    try {
      this.governor.check();
    } catch (e) {
      // the timer keeps trying (and logs); a memory reading must not stop the agent
      this.logger.warn({ err: (e as Error).message }, 'could not read memory use');
    }
    await this.sink.start(); // exporters first
    await this.engine.start();
    // upstream of the engine; the first run goes on in the background (never awaited)
    this.discovery?.start();
    if (this.otlpListen !== 'off') {
      const gov = this.governor;
      const memory = this.memoryView;
      this.received = new ReceivedDataProcessor({
        config: this.config,
        profile: () => this.engine.activeProfile,
        sink: this.sink,
        logger: this.logger,
        intervalMs: this.o.intervalMs,
        // received data follows hot reloads and the control loop's knob, as the scan engine does
        live: () => ({
          config: this.config,
          intervalMs: this.intervalMs,
          privacy: this.commandLine,
          knob: this.controlOverride,
        }),
        memory,
        onCycle: (host, r) => this.receivedCycle(host, r),
        onForget: (host) => this.receivedSelf.forget(host),
      });
      // received input is admitted by size against the memory limit (whole, critical part only, or 503)
      this.admission = memory ? new InputAdmission({ governor: gov }) : undefined;
      this.receiver = await startOtlpReceiver({
        ...receiverOptions(this.config),
        listen: this.otlpListen,
        sink: this.received,
        admission: this.admission,
        critical: criticalTest(this.config.classification),
        logger: this.logger,
        maxConnections: this.config.receiver.max_connections,
        allowedHosts: this.config.receiver.allowed_hosts,
      });
      this.registry.collect(() => this.receiverFamilies());
    }
    if (this.listen !== 'off') {
      const s = this.config.server;
      const tokenSource = { file: s.token_file || undefined, env: s.token_env };
      const token = loadToken(tokenSource);
      this.server = await startControlServer({
        listen: this.listen,
        control: this,
        registry: this.registry,
        token,
        tokenIdentity: tokenIdentity(tokenSource),
        audit: this.audit,
        logger: this.logger,
        maxConnections: s.max_connections,
        allowedHosts: s.allowed_hosts,
      });
      this.logger.info(
        { url: this.server.url, profileChanges: token ? 'enabled (bearer token)' : 'disabled (no token)' },
        'control server listening',
      );
    }
  }

  async cycle(): Promise<CycleReport> {
    while (this.gate) await this.gate; // a reload is swapping engines
    const hash = this.configHash;
    const run = this.engine.cycle();
    this.inCycle = run;
    try {
      const report = await run;
      this.cycles++;
      this.ranOn.set(report, hash);
      return report;
    } finally {
      this.inCycle = undefined;
    }
  }

  /** The hash of the config a cycle's report ran on (health checks judge only their own config's cycles). */
  configOf(report: CycleReport): string | undefined {
    return this.ranOn.get(report);
  }

  // ---- AgentControl -------------------------------------------------------

  /** PUT /api/config and /api/config/rollback: set by the config lifecycle (src/agent/live-config.ts) */
  applyConfig?: AgentControl['applyConfig'];
  rollbackConfig?: AgentControl['rollbackConfig'];

  /** pull mode: per-process families for /metrics (set when server.process_metrics is on) */
  processFamilies?: () => MetricFamily[];

  ready(): boolean {
    if (this.stopping) return false;
    return this.scanning ? this.cycles > 0 : this.receiver !== undefined;
  }

  private receiverFamilies(): MetricFamily[] {
    const r = this.receiver?.stats();
    const p = this.received?.stats();
    if (!r || !p) return [];
    return [
      {
        name: SelfMetric.datapointsReceived,
        help: 'Data points received over OTLP/HTTP.',
        type: 'counter',
        samples: [{ value: r.dataPoints }],
      },
      {
        name: 'nrdot.receiver.requests',
        help: 'OTLP/HTTP requests answered, by HTTP status.',
        type: 'counter',
        samples: Object.entries(r.requests).map(([status, value]) => ({ labels: { status }, value })),
      },
      {
        name: 'nrdot.receiver.hosts',
        help: 'Hosts whose process data arrives over OTLP.',
        type: 'gauge',
        samples: [{ value: p.hosts }],
      },
      {
        name: 'nrdot.receiver.shed.datapoints',
        help: 'Received data points of non-critical processes refused (OTLP partial success) to stay under the memory limit.',
        type: 'counter',
        samples: [{ value: r.memory.shedDataPoints }],
      },
      {
        name: 'nrdot.receiver.passthrough.datapoints',
        help: 'Received data points passed through unchanged (not process data, or hosts beyond receiver.max_hosts).',
        type: 'counter',
        samples: [{ value: p.passthroughPoints }],
      },
      {
        name: 'nrdot.receiver.hosts.evicted',
        help: 'Hosts forgotten to make room for a new one at receiver.max_hosts (quiet for receiver.host_idle).',
        type: 'counter',
        samples: [{ value: p.hostsEvicted }],
      },
      {
        name: 'nrdot.receiver.hosts.over_limit.resources',
        help: 'Process resources of hosts beyond receiver.max_hosts, passed through as received.',
        type: 'counter',
        samples: [{ value: p.hostsPassedThrough }],
      },
    ];
  }

  profile(): { active: string; available: string[] } {
    return { active: this.engine.activeProfile, available: this.engine.profiles };
  }

  setProfile(
    name: string,
    by: { who: string; reason?: string; expiresInMs?: number },
  ): { before: string; after: string } {
    const r = this.control.setOverride(name, by);
    this.logger.info(
      { ...r, who: by.who, reason: by.reason },
      'profile change requested (applies from the next cycle)',
    );
    return r;
  }

  /** Called for each received batch once processed (with --no-scan: the summary line). */
  onReceivedCycle(fn: (host: string, r: CycleResult) => void): void {
    this.receivedListeners.push(fn);
  }

  private receivedCycle(host: string, r: CycleResult): void {
    const total = this.receivedSelf.update(host, r.self);
    this.lastReceived = { host, report: r.report };
    // with a scan, the scan cycle owns the nrdot.* gauges; without one, received data does
    if (!this.scanning) this.selfMetrics.update(total, r.report.profile);
    for (const fn of this.receivedListeners) fn(host, r);
  }

  /** GET /api/history: the recent scans as a recording, or why there are none */
  history(): { snapshot?: HistorySnapshot; off?: string } {
    if (!this.scanHistory) return { off: this.historyOff };
    const snapshot = this.scanHistory.snapshot();
    if (snapshot) return { snapshot };
    return {
      off:
        this.scanHistory.failed ??
        (this.scanHistory.isPaused
          ? 'the scan history is given up while memory is over its normal tier (memory.limit_mib): none is kept'
          : 'no scan kept yet: the agent has not finished a cycle since it started, or since privacy.command_line, scan.detail or the scan bounds changed'),
    };
  }

  status(): unknown {
    const r = this.lastCycle?.report;
    return {
      version: VERSION,
      uptimeSec: Math.round((Date.now() - this.startedAt) / 1000),
      backend: this.scanner.backend,
      profile: this.profile(),
      cycles: this.cycles,
      lastCycle: r
        ? {
            cycle: r.cycle,
            processes: r.processes,
            exported: r.exported,
            rolledUp: r.rolledUp,
            critical: r.critical,
            anomalies: r.anomalies,
            datapoints: r.datapoints,
            bytes: r.bytes,
            reduction: r.reduction,
            coverage: { critical: r.coverageCritical, anomaly: r.coverageAnomaly, visibility: r.visibility },
            cost: r.cost,
            droppedBy: r.droppedBy,
            paths: r.paths,
            cycleMs: Math.round(r.cycleMs * 10) / 10,
          }
        : null,
      memory: { ...this.governor.stats(), admission: this.admission?.counts ?? null },
      receiver: this.receiver
        ? {
            url: this.receiver.url,
            ...this.receiver.stats(),
            ...this.received?.stats(),
            lastBatch: this.lastReceived
              ? {
                  host: this.lastReceived.host,
                  processes: this.lastReceived.report.processes,
                  exported: this.lastReceived.report.exported,
                  datapoints: this.lastReceived.report.datapoints,
                  reduction: this.lastReceived.report.reduction,
                  coverage: { critical: this.lastReceived.report.coverageCritical },
                }
              : null,
          }
        : null,
      exporters: this.sink.exporterStats(),
      queues: this.sink.health(),
      discovery: this.discovery?.status() ?? { enabled: false, why: this.discoveryNote },
      history: this.scanHistory ? historyStatus(this.scanHistory.stats) : { off: this.historyOff },
      control: this.control.status(),
    };
  }

  // ---- shutdown -----------------------------------------------------------

  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        // upstream first: stop taking input, finish what was accepted
        await this.receiver?.close();
        await this.received?.close();
        await this.discovery?.shutdown();
        await this.betweenCycles(() => this.engine.shutdown());
        await this.sink.shutdown();
        await this.control.close();
      } finally {
        this.governor.shutdown();
        this.scanner.close();
        await this.server?.close();
        for (const l of this.locks.splice(0).reverse()) l.release();
      }
    })();
    return this.stopping;
  }
}
