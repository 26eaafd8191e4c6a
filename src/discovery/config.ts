/**
 * The `discovery:` section of the nrdot config (validated by the zod schema
 * in src/config/schema.ts, defaults in configs/default.yaml) as the values
 * discovery and the renderer take.
 */
import * as path from 'node:path';
import { durationMs } from '../config/duration.js';
import type { DiscoveryConfig } from '../config/schema.js';
import type { CollectorSettings } from './collector.js';

export interface DiscoverySettings {
  /** in the agent: 'auto' = when it scans this host's /proc */
  enabled: boolean | 'auto';
  /** absolute host root for the agent's discovery ('/' by default) */
  root: string;
  intervalMs: number;
  /** services below it are not rendered, exported or used in classification */
  minConfidence: number;
  /** absolute, or undefined for none */
  templateDir?: string;
  collector: CollectorSettings;
}

/** `baseDir` resolves a relative template_dir and root (the config file's directory). */
export function discoverySettings(c: DiscoveryConfig, baseDir = process.cwd()): DiscoverySettings {
  return {
    enabled: c.enabled,
    root: c.root ? path.resolve(baseDir, c.root) : '/',
    intervalMs: durationMs(c.interval),
    minConfidence: c.min_confidence,
    templateDir: c.template_dir ? path.resolve(baseDir, c.template_dir) : undefined,
    collector: {
      collectionInterval: c.collector.collection_interval,
      nrdotEndpoint: c.collector.nrdot_endpoint,
      exporter: { endpoint: c.collector.exporter.endpoint, headers: { ...c.collector.exporter.headers } },
      minConfidence: c.min_confidence,
    },
  };
}
