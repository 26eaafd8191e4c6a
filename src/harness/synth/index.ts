/**
 * Synthetic host: procfs trees in the real text formats, with ground truth.
 *
 *   generateHost({ out, processes, seed?, cpus?, onProgress? }) -> SynthTruth
 *   advanceHost({ dir, seconds, anomalies?, churn?, onProgress? }) -> SynthTruth & { anomalies, exited, spawned }
 *   readTruth(dir) -> SynthTruth
 */

export { advanceHost } from './advance.js';
export { generateHost } from './generate.js';
export { type ProgressReporter, progressReporter } from './progress.js';
export { readState, readTruth } from './state.js';
export { STATE_FILE } from './tree.js';
export type {
  AdvanceOptions,
  AdvanceResult,
  AnomalyKind,
  Category,
  GenerateOptions,
  HostTruth,
  ProcessTruth,
  ProgressFn,
  SynthState,
  SynthTruth,
} from './types.js';
export { CATEGORIES } from './types.js';
