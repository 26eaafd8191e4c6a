/**
 * The engine: a runner over the stage list (stages.ts). One cycle = scan (or
 * a pushed batch of received data) → identities → every stage over the frame
 * → export → report. The engine starts downstream first (the exporters) and
 * shuts down upstream first (stop cycling, checkpoint, close the scoring
 * workers, then flush the exporters); `shutdown()` is safe to call twice.
 */
import type { Config, ProfileConfig } from '../config/schema.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { Frame, FrameBuffers } from '../core/frame.js';
import { IdentityTable } from '../core/identity.js';
import type { Logger } from '../core/log.js';
import { EncodedRequest } from '../exporters/exporter.js';
import { decodeRequest } from '../otlp/proto.js';
import type { ProcessBatch } from '../sources/batch.js';
import { boundsFromConfig } from '../sources/bounds-config.js';
import { ownerResolver } from '../sources/procfs/users.js';
import type { ScanOptions } from '../sources/scanner.js';
import type { StateStore } from '../state/store.js';
import { CommandLinePrivacy } from '../util/privacy.js';
import { cycleReport } from './report.js';
import type { CycleContext } from './stage.js';
import { StageTimer } from './stage.js';
import { buildStages, type StageList } from './stages.js';
import { PipelineTotals } from './telemetry.js';
import type {
  CycleReport,
  CycleResult,
  EngineHandOver,
  EngineOptions,
  ExportSink,
  MemoryView,
  Scanner,
} from './types.js';

export type {
  CycleReport,
  CycleResult,
  EngineHandOver,
  EngineOptions,
  ExportOutcome,
  ExportSink,
  MemoryView,
  Scanner,
} from './types.js';

function unknownProfile(name: string, config: Config): NrdotError {
  return new NrdotError(
    ErrorCodes.UNKNOWN_PROFILE,
    `unknown profile '${name}' (known: ${Object.keys(config.profiles).join(', ')})`,
  );
}

export class Engine {
  readonly timer = new StageTimer();
  private readonly config: Config;
  private profileName: string;
  private profile: ProfileConfig;
  private pendingProfile?: string;
  /** the control loop's knob: the profile the stages see, from the configured one (undefined: as configured) */
  private profileOverride?: (name: string, p: ProfileConfig) => ProfileConfig;
  private readonly scanner: Scanner;
  private readonly sink: ExportSink;
  private readonly logger: Logger;
  private readonly state?: StateStore;
  private readonly memory?: MemoryView;
  private readonly now: () => number;
  private readonly ids: IdentityTable;
  private readonly totals: PipelineTotals;
  private readonly agentStartMs: number;
  private readonly from: EngineOptions['from'];
  private readonly frameBuffers = new FrameBuffers();
  private readonly list: StageList;
  private readonly scanOptions: ScanOptions = {};
  private readonly listeners: ((r: CycleResult) => void)[] = [];
  private cycleNo = 0;
  private started = false;
  private stopped = false;

  constructor(o: EngineOptions) {
    this.config = o.config;
    const p = o.config.profiles[o.profile];
    if (!p) {
      const e = unknownProfile(o.profile, o.config);
      e.message = `--profile: ${e.message}`;
      throw e;
    }
    this.profileName = o.profile;
    this.profile = p;
    this.scanner = o.scanner;
    this.sink = o.sink;
    this.logger = o.logger;
    this.state = o.state;
    this.memory = o.memory;
    this.now = o.now ?? Date.now;
    this.ids = new IdentityTable(undefined, ownerResolver(o.scanner.procRoot));
    // hot reload: the counters and start time continue those of the engine this one replaces
    this.from = o.from;
    const prev = o.from?.engine.handOver();
    this.totals = prev?.totals ?? new PipelineTotals();
    this.agentStartMs = prev?.agentStartMs ?? this.now();
    this.list = buildStages({
      config: o.config,
      ids: this.ids,
      logger: o.logger,
      intervalMs: o.intervalMs,
      workers: o.workers ?? o.config.scoring.workers,
      selfTelemetry: o.selfTelemetry ?? true,
      agentStartMs: this.agentStartMs,
      health: () => this.sink.health?.() ?? [],
      totals: this.totals,
      scanMs: () => this.timer.last('scan'),
      privacy: o.privacy ?? new CommandLinePrivacy('keep'),
      importantPids: o.importantPids,
      extraResources: o.extraResources,
    });
  }

  get activeProfile(): string {
    return this.pendingProfile ?? this.profileName;
  }

  /** Profiles this engine can switch to. */
  get profiles(): string[] {
    return Object.keys(this.config.profiles);
  }

  /** Live process identities (the identity table's size). */
  get identities(): number {
    return this.ids.size;
  }

  /** Call `fn` with every cycle's result, right after the cycle. */
  onCycle(fn: (r: CycleResult) => void): void {
    this.listeners.push(fn);
  }

  /**
   * Switch the cost profile from the next cycle on (the cycle running now
   * finishes with the old one). Throws NrdotError(UNKNOWN_PROFILE).
   */
  setProfile(name: string): { before: string; after: string } {
    if (!this.config.profiles[name]) throw unknownProfile(name, this.config);
    const before = this.activeProfile;
    this.pendingProfile = name === this.profileName ? undefined : name;
    return { before, after: name };
  }

  /** Hand the stages `fn(name, profile)` instead of the configured profile from the next cycle on (undefined: stop). */
  setProfileOverride(fn: ((name: string, p: ProfileConfig) => ProfileConfig) | undefined): void {
    this.profileOverride = fn;
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.sink.start(); // downstream first
    if (this.from) {
      const h = this.from.engine.handOver();
      this.cycleNo = h.cycleNo;
      this.from.restore(h, this.ids, this.list.stateful);
    } else if (this.state) {
      this.state.prepare();
      const r = this.state.load(this.ids, this.list.stateful, this.now());
      if (r.parts.length > 0) {
        this.logger.info({ file: this.state.file, processes: r.processes, parts: r.parts }, 'state restored');
      }
    }
    await this.list.score.start();
    this.started = true;
  }

  /**
   * Run one full cycle and export its data. `pushed`: process data that
   * arrived from elsewhere (the OTLP receiver) instead of a scan.
   */
  async cycle(pushed?: ProcessBatch): Promise<CycleReport> {
    if (!this.started) throw new Error('engine not started');
    if (this.stopped) throw new Error('engine shut down');
    const t0 = performance.now();
    if (this.pendingProfile !== undefined) {
      this.logger.info({ from: this.profileName, to: this.pendingProfile }, 'profile switched');
      this.profileName = this.pendingProfile;
      this.profile = this.config.profiles[this.pendingProfile]!;
      this.pendingProfile = undefined;
    }
    const cycle = ++this.cycleNo;
    const timer = this.timer;
    const b = pushed ?? (await timer.runAsync('scan', async () => this.scanner.scan(this.nextScan())));
    this.totals.scanned(b.counters);
    const frame = new Frame(b, pushed !== undefined, cycle, this.now(), this.ids.assign(b), this.frameBuffers);
    const ctx: CycleContext = {
      profileName: this.profileName,
      profile: this.profileOverride ? this.profileOverride(this.profileName, this.profile) : this.profile,
      memory: this.memory,
      logger: this.logger,
      cycleStart: t0,
    };
    for (const s of this.list.stages) await timer.stage(s, frame, ctx);
    this.ids.sweep();
    const out = this.list.cost.output!;
    const request = new EncodedRequest(() => decodeRequest(out.encoded), out.encoded);
    const exports = await timer.runAsync('export', () => this.sink.export(request, undefined, out.batches));
    const report = cycleReport({
      frame,
      out,
      profile: this.profileName,
      backend: this.scanner.backend,
      memory: this.memory,
      scanMs: timer.last('scan'),
      cycleMs: performance.now() - t0,
      exports,
      exportErrors: this.totals.exported(exports, this.sink.errorCounts?.()),
    });
    if (report.coverageCritical < 1) {
      this.logger.error({ critical: report.critical }, 'critical coverage below 100%: this is a bug');
    }
    if (report.coverageAnomaly < 1) {
      this.logger.error({ anomalies: report.anomalies }, 'anomaly coverage below 100%: this is a bug');
    }
    if (this.state && cycle % this.config.scoring.checkpoint_cycles === 0) this.checkpoint();
    const result: CycleResult = {
      report,
      self: out.self,
      request,
      exportedPids: frame.built?.exportedPids,
      heldPids: frame.built?.heldPids ?? [],
    };
    for (const fn of this.listeners) fn(result);
    return report;
  }

  /** What the next scan reads: full detail for last cycle's exported pids, bounds and their keep list. */
  private nextScan(): ScanOptions {
    const next = this.list.route.next;
    const o = this.scanOptions;
    if (next.detail) o.detail = next.detail;
    if (this.list.route.bounded) {
      o.bounds ??= boundsFromConfig(this.config.scan);
      if (next.keep) o.keep = next.keep;
    }
    return o;
  }

  /** Hot reload: what the engine that replaces this one continues (read between two cycles). */
  handOver(): EngineHandOver {
    const { ids, totals, cycleNo, agentStartMs } = this;
    return { ids, stateful: this.list.stateful, totals, cycleNo, agentStartMs };
  }

  /** Save state now (also done every scoring.checkpoint_cycles cycles and at shutdown). */
  checkpoint(): void {
    this.state?.save(this.ids, this.list.stateful, this.now());
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.started) this.checkpoint();
    await this.list.score.shutdown(); // upstream first
    await this.sink.shutdown();
  }
}
