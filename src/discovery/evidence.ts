/**
 * Confidence: each signal has a weight, and the evidence combines as
 * independent indications (noisy-or): 1 - Π(1 - w). More agreeing signals
 * always raise it, none alone reaches 1, and the order does not matter.
 */
import type { Evidence } from './types.js';

export const WEIGHTS = {
  /** a process matches the template's name, path or command-line patterns */
  process: 0.4,
  /** the process holds a listening socket (tied through its fds) */
  listenerOwned: 0.3,
  /** a listener on the service's usual (or configured) port whose owner could not be read */
  listenerUnowned: 0.15,
  /** a config file of the service was read */
  config: 0.1,
  /** the config file's port or socket is the one the process listens on */
  configAgrees: 0.15,
  /** a package of the service is installed */
  package: 0.15,
  /** ... and it owns the running executable */
  packageOwnsExe: 0.25,
  /** a unit file of the service exists */
  unit: 0.05,
  /** ... and is enabled */
  unitEnabled: 0.1,
  /** the process runs in the service's systemd unit (its cgroup) */
  unitActive: 0.2,
  /** the executable states a version */
  binary: 0.05,
} as const;

export function confidence(evidence: readonly Evidence[]): number {
  let miss = 1;
  for (const e of evidence) miss *= 1 - Math.min(1, Math.max(0, e.weight));
  return Math.round((1 - miss) * 1000) / 1000;
}
