/**
 * The engine: a runner over the stage list (stages.ts). One cycle = scan (or
 * a pushed batch of received data) → identities → every stage over the frame
 * → export → report. The engine starts downstream first (the exporters) and
 * shuts down upstream first (stop cycling, checkpoint, close the scoring
 * workers, then flush the exporters); `shutdown()` is safe to call twice.
 */
import type { ProfileConfig } from '../config/schema.js';
import { Frame, FrameBuffers } from '../core/frame.js';
import { IdentityTable } from '../core/identity.js';
import type { ProcessBatch } from '../sources/batch.js';
import { ownerResolver } from '../sources/procfs/users.js';
import { type ProfileOverride, ProfileSelection } from './profile.js';
import { checkCoverage, cycleReport, cycleResult } from './report.js';
import type { CycleContext } from './stage.js';
import { StageTimer } from './stage.js';
import { buildStages, type StageList } from './stages.js';
import { PipelineTotals } from './telemetry.js';
import type { CycleReport, CycleResult, EngineHandOver, EngineOptions } from './types.js';

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

export class Engine {
  readonly timer = new StageTimer();
  private readonly profile: ProfileSelection;
  private readonly now: () => number;
  private readonly ids: IdentityTable;
  private readonly totals: PipelineTotals;
  private readonly agentStartMs: number;
  private readonly frameBuffers = new FrameBuffers();
  private readonly list: StageList;
  private readonly listeners: ((r: CycleResult) => void)[] = [];
  private cycleNo = 0;
  private started = false;
  private stopped = false;

  constructor(private readonly o: EngineOptions) {
    this.profile = new ProfileSelection(o.config, o.profile, o.logger);
    this.now = o.now ?? Date.now;
    this.ids = new IdentityTable(undefined, ownerResolver(o.scanner.procRoot));
    // hot reload: the counters and start time continue those of the engine this one replaces
    const prev = o.from?.engine.handOver();
    this.totals = prev?.totals ?? new PipelineTotals();
    this.agentStartMs = prev?.agentStartMs ?? this.now();
    this.list = buildStages({
      config: o.config,
      logger: o.logger,
      intervalMs: o.intervalMs,
      workers: o.workers,
      selfTelemetry: o.selfTelemetry,
      privacy: o.privacy,
      importantPids: o.importantPids,
      extraResources: o.extraResources,
      ids: this.ids,
      agentStartMs: this.agentStartMs,
      health: () => this.o.sink.health?.() ?? [],
      totals: this.totals,
      scanMs: () => this.timer.last('scan'),
    });
  }

  get activeProfile(): string {
    return this.profile.active;
  }

  /** Profiles this engine can switch to. */
  get profiles(): string[] {
    return this.profile.names;
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
    return this.profile.set(name);
  }

  /** Hand the stages `fn(name, profile)` instead of the configured profile from the next cycle on (undefined: stop). */
  setProfileOverride(fn: ProfileOverride | undefined): void {
    this.profile.override = fn;
  }

  async start(): Promise<void> {
    if (this.started) return;
    await this.o.sink.start(); // downstream first
    const from = this.o.from;
    if (from) {
      const h = from.engine.handOver();
      this.cycleNo = h.cycleNo;
      from.restore(h, this.ids, this.list.stateful);
    } else {
      this.o.state?.restore(this.ids, this.list.stateful, this.now());
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
    this.profile.begin();
    const cycle = ++this.cycleNo;
    const { timer, list, o } = this;
    const b = pushed ?? (await timer.runAsync('scan', async () => o.scanner.scan(list.route.scanOptions())));
    this.totals.scanned(b.counters);
    const frame = new Frame(b, pushed !== undefined, cycle, this.now(), this.ids.assign(b), this.frameBuffers);
    const ctx: CycleContext = { ...this.profile.current(), memory: o.memory, logger: o.logger, cycleStart: t0 };
    for (const s of list.stages) await timer.stage(s, frame, ctx);
    this.ids.sweep();
    const out = list.cost.output!;
    const exports = await timer.runAsync('export', () => o.sink.export(out.request, undefined, out.batches));
    const report = cycleReport({
      frame,
      out,
      profile: ctx.profileName,
      backend: o.scanner.backend,
      memory: o.memory,
      scanMs: timer.last('scan'),
      cycleMs: performance.now() - t0,
      exports,
      exportErrors: this.totals.exported(exports, o.sink.errorCounts?.()),
    });
    checkCoverage(report, o.logger);
    if (o.state && cycle % o.config.scoring.checkpoint_cycles === 0) this.checkpoint();
    const result = cycleResult(report, out, frame);
    for (const fn of this.listeners) fn(result);
    return report;
  }

  /** Hot reload: what the engine that replaces this one continues (read between two cycles). */
  handOver(): EngineHandOver {
    const { ids, totals, cycleNo, agentStartMs } = this;
    return { ids, stateful: this.list.stateful, totals, cycleNo, agentStartMs };
  }

  /** Save state now (also done every scoring.checkpoint_cycles cycles and at shutdown). */
  checkpoint(): void {
    this.o.state?.save(this.ids, this.list.stateful, this.now());
  }

  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.started) this.checkpoint();
    await this.list.score.shutdown(); // upstream first
    await this.o.sink.shutdown();
  }
}
