/**
 * Synthetic host: procfs trees in the real text formats, with ground truth.
 *
 *   generateHost({ out, processes, seed?, cpus?, shape?, cgroupVersion?, cgroupUnreadable?, onProgress? }) -> SynthTruth
 *   advanceHost({ dir, seconds, anomalies?, churn?, onProgress? }) -> SynthTruth & { anomalies, exited, spawned }
 *   readTruth(dir) -> SynthTruth
 *
 * Shapes: mixed (default), web, k8s, ci, db, idle (see shapes.ts and the shape-*.ts files).
 */

export { advanceHost } from './advance.js';
export { cgroupLines } from './cgroup.js';
export { DEFAULT_CHURN } from './churn.js';
export { generateHost } from './generate.js';
export { type ProgressReporter, progressReporter } from './progress.js';
export { readState, readTruth } from './state.js';
export { STATE_FILE } from './tree.js';
export type {
  AdvanceOptions,
  AdvanceResult,
  AnomalyKind,
  Category,
  CgroupVersion,
  GenerateOptions,
  HostTruth,
  Placement,
  ProcessTruth,
  ProgressFn,
  Qos,
  Shape,
  SynthState,
  SynthTruth,
} from './types.js';
export { CATEGORIES, SHAPES } from './types.js';
