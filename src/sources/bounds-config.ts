/**
 * ScanOptions.bounds from the `scan:` config block. Apart from bounds.ts so
 * that the scanners do not load the config schema (zod): under a tiny
 * `ulimit -n`, every module loaded at start-up is an fd that may not exist.
 */
import { durationMs } from '../config/schema.js';
import type { ScanBounds } from './bounds.js';

/** The `scan:` keys of the config that bound discovery. */
export interface ScanBoundsConfig {
  max_processes: number;
  exclude_names: readonly string[];
  min_cpu_percent: number;
  min_rss_mib: number;
  min_age: string | number;
}

/** ScanOptions.bounds from the `scan:` config (the defaults exclude nothing). */
export function boundsFromConfig(c: ScanBoundsConfig): ScanBounds {
  return {
    maxProcesses: c.max_processes,
    excludeNames: c.exclude_names,
    minCpuPercent: c.min_cpu_percent,
    minRssBytes: c.min_rss_mib * 1024 * 1024,
    minAgeSec: durationMs(c.min_age) / 1000,
  };
}

/** Whether the `scan:` config bounds discovery at all (any bound set). */
export function scanIsBounded(c: ScanBoundsConfig): boolean {
  return (
    c.max_processes > 0 ||
    c.exclude_names.length > 0 ||
    c.min_cpu_percent > 0 ||
    c.min_rss_mib > 0 ||
    durationMs(c.min_age) > 0
  );
}
