/**
 * What each component gets from the config. Components take complete options
 * objects and hold no defaults of their own for configurable values: the
 * agent, the CLI commands, the tests and the benches build those objects here
 * from a loaded config, so every default lives in configs/default.yaml.
 */
import * as path from 'node:path';
import type { MemoryGovernorOptions } from '../control/governor.js';
import type { Logger } from '../core/log.js';
import type { QueuedBreakerOptions, QueuedRetryOptions } from '../exporters/otlp/queued.js';
import type { QueueOptions } from '../exporters/queue/types.js';
import type { CreateExporterOptions } from '../exporters/spec.js';
import { expandEnv } from './load.js';
import { type Config, durationMs, durationOrZeroMs } from './schema.js';

/** `export_options.otlp.retry`, in milliseconds. */
export function retryOptions(config: Config): QueuedRetryOptions {
  const r = config.export_options.otlp.retry;
  return {
    initialMs: durationMs(r.initial_interval),
    maxMs: durationMs(r.max_interval),
    maxAttempts: r.max_attempts,
    maxElapsedMs: durationMs(r.max_elapsed),
  };
}

/** `export_options.otlp.breaker`, in milliseconds. */
export function breakerOptions(config: Config): QueuedBreakerOptions {
  const b = config.export_options.otlp.breaker;
  return {
    failureThreshold: b.failure_threshold,
    openMs: durationMs(b.open_time),
    maxOpenMs: durationMs(b.max_open_time),
  };
}

/** `queue.*` without the directory. */
export function queueOptions(config: Config): Pick<QueueOptions, 'maxBytes' | 'segmentBytes' | 'fsyncIntervalMs'> {
  return {
    maxBytes: config.queue.max_bytes,
    segmentBytes: config.queue.segment_bytes,
    fsyncIntervalMs: durationOrZeroMs(config.queue.fsync_interval),
  };
}

/**
 * Options of every exporter: `export_options.*` and `queue.*`, with OTLP
 * header values expanded from the environment (`${VAR}` or `${env:VAR}`).
 * `queueDir` overrides `queue.dir` (--queue-dir); "" keeps the queue in memory.
 */
export function exporterOptions(
  config: Config,
  o: { logger: Logger; queueDir?: string; env?: NodeJS.ProcessEnv },
): CreateExporterOptions {
  const otlp = config.export_options.otlp;
  const dir = o.queueDir ?? config.queue.dir;
  return {
    logger: o.logger,
    file: { maxBytes: config.export_options.file.max_bytes, maxFiles: config.export_options.file.max_files },
    otlp: {
      headers: Object.fromEntries(Object.entries(otlp.headers).map(([k, v]) => [k, expandEnv(v, o.env)])),
      timeoutMs: durationMs(otlp.timeout),
      connections: otlp.connections,
    },
    reliable: {
      queue: { dir: dir ? path.resolve(dir) : '', ...queueOptions(config) },
      retry: retryOptions(config),
      breaker: breakerOptions(config),
      shutdownDrainMs: durationOrZeroMs(otlp.shutdown_drain),
    },
  };
}

/** `memory.*` for the governor (the memory reader and logger are the caller's). */
export function governorOptions(config: Config): Pick<MemoryGovernorOptions, 'limitMib' | 'intervalMs' | 'hysteresis'> {
  return {
    limitMib: config.memory.limit_mib,
    intervalMs: durationMs(config.memory.check_interval),
    hysteresis: config.memory.hysteresis,
  };
}

/** `receiver.*` for the OTLP/HTTP receiver. */
export function receiverOptions(config: Config): { listen: string; maxBodyBytes: number; decodeWorkers: number } {
  return {
    listen: config.receiver.listen,
    maxBodyBytes: config.receiver.max_body_bytes,
    decodeWorkers: config.receiver.decode_workers,
  };
}
