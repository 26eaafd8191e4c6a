/**
 * memory-cut: under memory pressure, the governor's tier says which kept
 * rows to roll up instead (noise, then standard, then half of important,
 * then all but critical). Critical rows and anomalies are never cut; a cut
 * row is rolled up, not lost.
 */
import type { Frame } from '../../core/frame.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import { applyMemoryCut } from './cut.js';

export { applyMemoryCut, type MemoryCut } from './cut.js';

export class MemoryCutStage implements Stage {
  readonly name = 'memory_cut';

  process(f: Frame, ctx: CycleContext): void {
    if (!ctx.memory) return;
    const cut = applyMemoryCut(f.batch, f.keep, f.tier, f.anomaly, ctx.memory.policy, f.series);
    f.facts.kept -= cut.rows;
    f.facts.droppedBy.memory = cut.rows;
    f.facts.droppedPoints.memory = cut.points;
  }
}
