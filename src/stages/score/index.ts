/** Stateful anomaly scoring: EWMA baselines per process identity, promotion with a hold. */
export { decodeBatch, encodeBatch } from './codec.js';
export { type ScoreParams, scoreParams } from './params.js';
export {
  departs,
  OUT_PROMOTED_NOW,
  OUT_REASON_MASK,
  REASON_CPU,
  REASON_MEMORY,
  REASON_NEW,
  REASON_NONE,
  REASONS,
  ROW_BORN,
  type ScoreInput,
  scoreRows,
} from './score.js';
export { createScorer, InlineScorer, PoolScorer, type Scorer } from './scorer.js';
export { ScoreStage } from './stage.js';
export { type ScoreBuffers, ScoreColumns, viewBuffers } from './table.js';
