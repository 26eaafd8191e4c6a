/**
 * The config schema. Every object is strict, so an unknown key is an error
 * that names the key. Defaults live in configs/default.yaml, not here: a user
 * file is merged over it and the result is validated as a whole.
 */
import { z } from 'zod';
import { TIERS } from '../telemetry/names.js';

const tier = z.enum(TIERS);

/** "10s", "500ms", "2m", "1h" or a number of seconds. */
export const duration = z.union([
  z.number().positive(),
  z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'expected a duration like 10s, 500ms or 2m'),
]);

import { durationMs } from './duration.js';

export { durationMs };

/** A duration, or 0 (e.g. `fsync_interval: 0` = on every write). */
export const durationOrZero = z.union([z.literal(0), z.literal('0'), duration]);

export function durationOrZeroMs(v: string | number): number {
  return v === 0 || v === '0' ? 0 : durationMs(v);
}

/** `host:port`, `[v6]:port` or `off`. */
export const listenAddress = z
  .string()
  .regex(/^(off|(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5})$/, 'expected host:port (e.g. 127.0.0.1:9464) or off')
  .refine((v) => v === 'off' || Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'the port must be 0-65535');

const patterns = z.array(z.string().min(1, 'empty pattern'));

const tierRules = z.strictObject({
  names: patterns,
  paths: patterns,
  cmdlines: patterns,
});

/**
 * Anomaly scoring of one profile. CPU values are percent of ONE core; a
 * departure must pass both an absolute floor (`min_cpu_percent`,
 * `min_rss_mib`) and a relative test (z-score after `min_samples`, or
 * `relative_jump`) to promote a process.
 */
const anomaly = z.strictObject({
  alpha: z.number().gt(0, 'must be in (0, 1]').lte(1, 'must be in (0, 1]'),
  z_threshold: z.number().positive(),
  min_samples: z.number().int().min(1),
  relative_jump: z.number().positive(),
  noise_fraction: z.number().nonnegative(),
  min_cpu_percent: z.number().nonnegative(),
  min_rss_mib: z.number().nonnegative(),
  new_cpu_percent: z.number().nonnegative(),
  new_rss_mib: z.number().nonnegative(),
  hold: duration,
});

const profile = z.strictObject({
  full_resolution_tiers: z.array(tier),
  thresholds: z.strictObject({
    cpu_percent: z.number().nonnegative().nullable(),
    rss_mib: z.number().nonnegative().nullable(),
  }),
  top_n: z.strictObject({
    important: z.number().int().nonnegative(),
    standard: z.number().int().nonnegative(),
    noise: z.number().int().nonnegative(),
  }),
  max_series: z.number().int().positive(),
  /**
   * The sampled path: processes of these tiers that the profile rolls up are
   * sampled (a stable hash of the identity) toward `budget_points` data
   * points per cycle; each sampled resource carries `nrdot.sample.rate`.
   */
  sampling: z
    .strictObject({
      tiers: z.array(tier),
      budget_points: z.number().int().nonnegative(),
    })
    .optional(),
  anomaly: anomaly,
});

export const configSchema = z.strictObject({
  profile: z.string().min(1),
  interval: duration,
  export: z.array(z.string()).min(1, 'at least one export spec'),
  export_options: z.strictObject({
    file: z.strictObject({
      max_bytes: z.number().int().positive(),
      max_files: z.number().int().positive(),
    }),
    otlp: z.strictObject({
      timeout: duration,
      headers: z.record(z.string(), z.string()),
      /** uncompressed protobuf bytes per request (New Relic accepts 1 MB) */
      max_request_bytes: z.number().int().min(4096),
      /** concurrent requests per endpoint while draining the queue */
      connections: z.number().int().min(1).max(16),
      retry: z.strictObject({
        initial_interval: duration,
        max_interval: duration,
        max_attempts: z.number().int().min(1),
        max_elapsed: duration,
      }),
      breaker: z.strictObject({
        failure_threshold: z.number().int().min(1),
        open_time: duration,
        max_open_time: duration,
      }),
      /** at shutdown, keep sending what is queued for at most this long */
      shutdown_drain: durationOrZero,
    }),
  }),
  /** The export queue in front of every OTLP endpoint. */
  queue: z.strictObject({
    /** "" = in memory (what is queued at exit is lost); a directory = persistent segments */
    dir: z.string(),
    max_bytes: z
      .number()
      .int()
      .min(1 << 20),
    segment_bytes: z
      .number()
      .int()
      .min(64 << 10),
    fsync_interval: durationOrZero,
  }),
  paths: z.strictObject({
    critical: z.strictObject({
      /** smaller requests for critical data: quicker to send and to retry */
      max_request_bytes: z.number().int().min(4096),
    }),
    standard: z.strictObject({
      /** an idle process whose values did not change is sent every N cycles (1 = every cycle) */
      heartbeat_cycles: z.number().int().min(1),
    }),
  }),
  memory: z.strictObject({
    /** the agent's memory limit; 0 disables the governor */
    limit_mib: z.number().nonnegative(),
    check_interval: duration,
    /** a tier is left only when usage falls this fraction of the limit below its threshold */
    hysteresis: z.number().min(0).max(0.5),
  }),
  server: z.strictObject({
    /** /metrics, /health, /api/*; "off" disables, port 0 picks a free port */
    listen: listenAddress,
    /** file holding the bearer token for PUT /api/profile (mode 600) */
    token_file: z.string(),
    /** environment variable holding the token when token_file is "" */
    token_env: z.string(),
    /** JSON-lines audit log of profile changes; "" = none */
    audit_log: z.string(),
    /** also serve per-process metrics of exported processes on /metrics (pull mode) */
    process_metrics: z.boolean(),
  }),
  receiver: z.strictObject({
    /** OTLP/HTTP receiver; "off" disables */
    listen: listenAddress,
    max_body_bytes: z.number().int().min(1024),
    /** piscina threads for decoding large bodies; 0 = inline */
    decode_workers: z.number().int().min(0).max(16),
  }),
  scan: z.strictObject({
    proc_root: z.string().min(1),
    detail: z.enum(['exported', 'all']),
    /** bounded discovery (src/sources/bounds.ts); 0 / [] = off */
    max_processes: z.number().int().nonnegative(),
    /** exact comm names, or a prefix with one trailing `*` */
    exclude_names: z.array(
      z.string().superRefine((p, ctx) => {
        const star = p.indexOf('*');
        if (p.length === 0) ctx.addIssue({ code: 'custom', message: 'empty pattern' });
        else if (star >= 0 && star !== p.length - 1)
          ctx.addIssue({
            code: 'custom',
            message: `'${p}': only an exact name or a prefix followed by one trailing '*' (no regex, no other wildcard)`,
          });
        else if (p.includes('\uFFFD'))
          ctx.addIssue({ code: 'custom', message: `'${p}': U+FFFD cannot match raw comm bytes` });
      }),
    ),
    min_cpu_percent: z.number().nonnegative(),
    min_rss_mib: z.number().nonnegative(),
    /** a duration; 0 (or 0s) = off */
    min_age: z.union([
      z.number().nonnegative(),
      z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'expected a duration like 30s, 500ms or 2m, or 0'),
    ]),
  }),
  state_dir: z.string(),
  scoring: z.strictObject({
    /** scoring worker threads; 0 = inline on the main thread */
    workers: z.number().int().min(0).max(64),
    /** save the state every N cycles (and at shutdown) */
    checkpoint_cycles: z.number().int().positive(),
    /** baselines saved longer ago than this are stale and dropped at start */
    state_ttl: duration,
  }),
  cost: z.strictObject({
    price_per_gb: z.number().nonnegative(),
  }),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /** service discovery and Collector config rendering (src/discovery/) */
  discovery: z.strictObject({
    interval: duration,
    template_dir: z.string(),
    min_confidence: z.number().min(0).max(1),
    collector: z.strictObject({
      collection_interval: z.string().regex(/^\d+(ms|s|m|h)$/, 'expected a Collector duration like 10s or 1m'),
      nrdot_endpoint: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
      exporter: z.strictObject({
        endpoint: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
        headers: z.record(
          z.string(),
          z
            .string()
            .regex(
              /^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/,
              'header values must be ${env:VAR} references (credentials are never written into a rendered config)',
            ),
        ),
      }),
    }),
  }),
  classification: z.strictObject({
    protected: patterns,
    default_tier: tier,
    kernel_threads: tier,
    demote_pool_workers: z.boolean(),
    rules: z.strictObject({
      critical: tierRules,
      important: tierRules,
      standard: tierRules,
      noise: tierRules,
    }),
  }),
  profiles: z.record(z.string().regex(/^[a-z][a-z0-9_-]*$/, 'profile names are lower-case words'), profile),
});

export type Config = z.infer<typeof configSchema>;
export type ProfileConfig = z.infer<typeof profile>;
export type TierRules = z.infer<typeof tierRules>;
export type AnomalyConfig = z.infer<typeof anomaly>;
export type ScoringConfig = Config['scoring'];
export type DiscoveryConfig = Config['discovery'];
