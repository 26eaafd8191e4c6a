/**
 * score: every row against its own baseline (EWMA of CPU and RSS at its
 * slot), inline or on piscina workers. An anomalous row is held for the
 * profile's hold time; the frame's `anomaly` column carries reason |
 * OUT_PROMOTED_NOW, which makes the profile keep the row, the route put it on
 * the critical path and the build tag it with `nrdot.anomaly`.
 */
import type { Frame } from '../../core/frame.js';
import type { Column, IdentityTable } from '../../core/identity.js';
import type { Logger } from '../../core/log.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import type { Stateful } from '../../state/checkpoint.js';
import { type ScoreParams, scoreParams } from './params.js';
import { RoutineStarts } from './routine.js';
import { OUT_PROMOTED_NOW, OUT_REASON_MASK, REASON_CPU, REASON_MEMORY, REASON_NEW } from './score.js';
import { createScorer, InlineScorer, type Scorer } from './scorer.js';
import { ScoreColumns } from './table.js';

export class ScoreStage implements Stage, Stateful {
  readonly name = 'score';
  readonly stateName = 'score';
  private readonly cols: ScoreColumns;
  private readonly routine: RoutineStarts;
  private scorer: Scorer = new InlineScorer();
  private params?: { profile: string; params: ScoreParams };
  private started = false;

  constructor(
    ids: IdentityTable,
    private readonly workers: number,
    /** baselines older than this at restore are dropped (scoring.state_ttl) */
    private readonly stateTtlMs: number,
    private readonly logger: Logger,
  ) {
    this.cols = new ScoreColumns(ids);
    this.routine = new RoutineStarts(ids);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.scorer = createScorer(this.workers);
  }

  async shutdown(): Promise<void> {
    await this.scorer.close();
  }

  async process(f: Frame, ctx: CycleContext): Promise<void> {
    if (this.params?.profile !== ctx.profileName) {
      this.params = { profile: ctx.profileName, params: scoreParams(ctx.profile.anomaly) };
    }
    const params = this.params.params;
    const input = { count: f.n, slot: f.slot, cpu: f.cpuCores, rss: f.batch.rssBytes, flags: f.born };
    let out: Uint8Array;
    try {
      out = await this.scorer.score(this.cols, input, params, f.cycle, f.nowMs);
    } catch (e) {
      if (this.scorer.workers === 0) throw e;
      // A broken worker pool must not stop the agent: score inline from now on.
      this.logger.warn(
        { err: (e as Error).message, workers: this.scorer.workers },
        'scoring workers failed: scoring inline',
      );
      const broken = this.scorer;
      this.scorer = new InlineScorer();
      void broken.close().catch(() => undefined);
      out = await this.scorer.score(this.cols, input, params, f.cycle, f.nowMs);
    }
    // busy starts that are what their executable usually does are not `new`
    this.routine.apply(f, out, params, ctx.profile.anomaly.new_routine_after ?? 5);
    f.anomaly.set(out);
    const facts = f.facts;
    for (let i = 0; i < f.n; i++) {
      const o = out[i]!;
      const reason = o & OUT_REASON_MASK;
      if (reason === 0) continue;
      facts.anomaliesPresent++;
      if ((o & OUT_PROMOTED_NOW) === 0) continue;
      if (reason === REASON_CPU) facts.promoted.cpu++;
      else if (reason === REASON_MEMORY) facts.promoted.memory++;
      else if (reason === REASON_NEW) facts.promoted.new++;
    }
  }

  columns(): Column[] {
    return [...this.cols.all(), this.routine.column];
  }

  restoreAllowed(savedAtMs: number, nowMs: number): string | undefined {
    return nowMs - savedAtMs > this.stateTtlMs ? 'scoring baselines are older than scoring.state_ttl' : undefined;
  }
}
