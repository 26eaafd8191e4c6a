/**
 * The config schema. Every object is strict, so an unknown key is an error
 * that names the key. Defaults live in configs/default.yaml, not here: a user
 * file is merged over it and the result is validated as a whole.
 */
import { z } from 'zod';
import { configHistorySchema, reloadSchema, securitySchema } from '../control/config/schema.js';
import { opampSchema } from '../control/opamp/config.js';
import { controlSchema } from '../control/schema.js';
import { NOT_COLLECTED, PROCESS_METRICS } from '../stages/build/metrics.js';
import { GROUP_KINDS, TEMPLATE_FIELDS, unknownTemplateField } from '../stages/pool/naming.js';
import { TIERS } from '../telemetry/names.js';
import { COMMAND_LINE_MODES } from '../util/privacy.js';

const tier = z.enum(TIERS);

import { durationMs } from './duration.js';
import { duration, durationAtMost, durationString } from './duration-schema.js';

export { duration, durationMs };

/** A duration, or 0 (e.g. `fsync_interval: 0` = on every write). */
export const durationOrZero = z.union([z.literal(0), z.literal('0'), z.number().positive(), durationString]);

export function durationOrZeroMs(v: string | number): number {
  return v === 0 || v === '0' ? 0 : durationMs(v);
}

/** `host:port`, `[v6]:port` or `off`. */
export const listenAddress = z
  .string()
  .regex(/^(off|(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5})$/, 'expected host:port (e.g. 127.0.0.1:9464) or off')
  .refine((v) => v === 'off' || Number(v.slice(v.lastIndexOf(':') + 1)) <= 65535, 'the port must be 0-65535');

const patterns = z.array(z.string().min(1, 'empty pattern'));

/** Host names: `name`, `.domain` (it and its subdomains) or `*`. */
const allowedHosts = z.array(
  z.string().regex(/^(\*|\.?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?)$/, 'expected a host name, .domain or *'),
);

/** Connections at once: each holds a file descriptor, and Linux allows a process at most 1048576 (nr_open). */
const maxConnections = z
  .number()
  .int()
  .min(4)
  .max(1_048_576, 'at most 1048576 (each connection holds a file descriptor)');

const tierRules = z.strictObject({
  names: patterns.describe('RE2 patterns over the executable name (comm, at most 15 characters)'),
  paths: patterns.describe('RE2 patterns over the executable path (/proc/PID/exe)'),
  cmdlines: patterns.describe('RE2 patterns over the full command line, arguments joined by spaces'),
});

/**
 * Anomaly scoring of one profile. CPU values are percent of ONE core; a
 * departure must pass both an absolute floor (`min_cpu_percent`,
 * `min_rss_mib`) and a relative test (z-score after `min_samples`, or
 * `relative_jump`) to promote a process.
 */
const anomaly = z.strictObject({
  alpha: z
    .number()
    .gt(0, 'must be in (0, 1]')
    .lte(1, 'must be in (0, 1]')
    .describe('EWMA weight of the newest cycle in the baseline mean and variance'),
  z_threshold: z.number().positive().describe('z-score (after min_samples cycles) that counts as a relative departure'),
  min_samples: z.number().int().min(1).describe('cycles of history before the z-score test applies'),
  relative_jump: z
    .number()
    .positive()
    .describe('a value >= mean x (1 + relative_jump) is a relative departure (1.0 = doubled)'),
  noise_fraction: z
    .number()
    .nonnegative()
    .describe('the standard deviation is taken as at least this fraction of the mean'),
  min_cpu_percent: z
    .number()
    .nonnegative()
    .describe('absolute floor: CPU must rise at least this many percent of ONE core over the baseline'),
  min_rss_mib: z
    .number()
    .nonnegative()
    .describe('absolute floor: RSS must rise at least this many MiB over the baseline'),
  new_cpu_percent: z
    .number()
    .nonnegative()
    .describe('a process started since the previous scan is anomalous (`new`) at this CPU percent of a core'),
  new_rss_mib: z.number().nonnegative().describe('... or at this RSS in MiB'),
  new_routine_after: z
    .number()
    .int()
    .nonnegative()
    .optional()
    .describe(
      'default 5: once this many processes of one executable were seen starting, a busy start of that executable is routine (compilers on a build host, workers of a pool): it is `new` only at relative_jump over their usual start; 0 = every busy start is `new`',
    ),
  hold: duration.describe('an anomalous process stays exported at full resolution this long'),
});

/** `process.<name>: { enabled: bool }`, as the Collector's hostmetrics process scraper is configured. */
const METRIC_NAMES: readonly string[] = PROCESS_METRICS.map((m) => m.name);
const metricToggles = z
  .record(z.string(), z.strictObject({ enabled: z.boolean().describe('export this metric') }))
  .superRefine((m, ctx) => {
    for (const name of Object.keys(m)) {
      if (METRIC_NAMES.includes(name)) continue;
      const why = NOT_COLLECTED[name];
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: why
          ? `'${name}' is a hostmetrics metric nrdot does not collect (${why})`
          : `unknown metric '${name}' (known: ${METRIC_NAMES.join(', ')})`,
      });
    }
  });

const profile = z.strictObject({
  full_resolution_tiers: z
    .array(tier)
    .describe('tiers exported at full resolution whatever their activity (must include critical)'),
  thresholds: z.strictObject({
    cpu_percent: z
      .number()
      .nonnegative()
      .nullable()
      .describe('a process of another tier using at least this percent of one core is exported (null: never)'),
    rss_mib: z
      .number()
      .nonnegative()
      .nullable()
      .describe('... or at least this much resident memory in MiB (null: never)'),
  }),
  top_n: z.strictObject({
    important: z
      .number()
      .int()
      .nonnegative()
      .describe('at most this many important processes exported, most active first'),
    standard: z.number().int().nonnegative().describe('at most this many standard processes exported'),
    noise: z.number().int().nonnegative().describe('at most this many noise processes exported'),
  }),
  max_series: z
    .number()
    .int()
    .positive()
    .describe(
      'cap on data-point series per cycle (a process costs about 7 with the hostmetrics set); critical processes are never capped',
    ),
  tier_metrics: z
    .boolean()
    .optional()
    .describe(
      "default true: export metrics_per_tier's extras under this profile (false: every exported process carries the `metrics` set only)",
    ),
  pools: z.strictObject({
    top_k: z
      .number()
      .int()
      .nonnegative()
      .describe('of a pool (the same executable in the same group), the busiest workers kept at full resolution'),
  }),
  groups: z.strictObject({
    budget: z
      .number()
      .int()
      .nonnegative()
      .describe('groups that keep their own aggregate (the biggest by CPU and memory); the rest roll up into _other_'),
    min_members: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe(
        'a group keeps its own aggregate only with at least this many rolled-up members (an aggregate of one process costs what the process would, and hides which it is)',
      ),
  }),
  /**
   * The sampled path: processes of these tiers that the profile rolls up are
   * sampled (a stable hash of the identity) toward `budget_points` data
   * points per cycle; each sampled resource carries `nrdot.sample.rate`.
   */
  sampling: z
    .strictObject({
      tiers: z.array(tier).describe('tiers whose rolled-up processes are sampled'),
      budget_points: z
        .number()
        .int()
        .nonnegative()
        .optional()
        .describe('data points per cycle the sample aims at (at most)'),
      budget_share: z
        .number()
        .min(0)
        .max(1)
        .optional()
        .describe(
          "... or at most this share of the hostmetrics default's points for every process present (0.02 = 2%); with both, the smaller budget",
        ),
    })
    .refine((v) => v.budget_points !== undefined || v.budget_share !== undefined, {
      message: 'needs budget_points, budget_share or both',
    })
    .optional()
    .describe('Optional. Each sampled resource carries nrdot.sample.rate.'),
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
    /** connections at once (capped by the fd limit too) */
    max_connections: maxConnections,
    /** Host header names served besides loopback names, IP literals and this host's name */
    allowed_hosts: allowedHosts,
  }),
  receiver: z.strictObject({
    /** OTLP/HTTP receiver; "off" disables */
    listen: listenAddress,
    max_body_bytes: z.number().int().min(1024),
    /** piscina threads for decoding large bodies; 0 = inline */
    decode_workers: z.number().int().min(0).max(16),
    /** connections at once (capped by the fd limit too) */
    max_connections: maxConnections,
    allowed_hosts: allowedHosts,
    max_hosts: z.number().int().min(1).describe('hosts whose process data is optimized at once'),
    host_idle: duration.describe(
      'at max_hosts, a new host replaces the least recently seen one if it was quiet this long',
    ),
    host_ttl: duration.describe('a host not heard from this long is forgotten'),
  }),
  scan: z.strictObject({
    proc_root: z.string().min(1),
    /** host.name of scanned processes; "" = `<proc_root>/sys/kernel/hostname` */
    host_name: z.string(),
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
    history: z.strictObject({
      window: durationAtMost('24h', durationOrZero).describe(
        'how far back the agent keeps its scans in memory for `nrdot optimize suggest --url` (GET /api/history); 0 = keep none',
      ),
      max_mib: z
        .number()
        .positive()
        .max(4096)
        .describe('most memory the kept scans may take, compressed, in MiB; the oldest leave first'),
    }),
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
  /** per-process metrics exported for every process (the hostmetrics scraper's defaults) */
  metrics: metricToggles,
  /** metrics added (or removed) per tier, on top of `metrics` */
  metrics_per_tier: z.strictObject({
    critical: metricToggles.optional().describe('metrics added (enabled: true) or left out for critical processes'),
    important: metricToggles.optional().describe('the same, for important processes'),
    standard: metricToggles.optional().describe('the same, for standard processes'),
    noise: metricToggles.optional().describe('the same, for noise processes'),
  }),
  /** how rolled-up processes are grouped (src/stages/pool/naming.ts) */
  groups: z.strictObject({
    by: z
      .array(z.enum(GROUP_KINDS))
      .min(1, 'at least one of pod, container, service, executable')
      .describe('group by the first of these that applies to a process'),
    template: z
      .string()
      .superRefine((t, ctx) => {
        const f = unknownTemplateField(t);
        if (f !== undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown template field '.${f}' (known: ${TEMPLATE_FIELDS.map((x) => `.${x}`).join(', ')})`,
          });
        }
      })
      .describe('a group name template in the manner of process-exporter; "" = use `by`'),
  }),
  /** what exported attributes may reveal (src/util/privacy.ts) */
  privacy: z.strictObject({
    command_line: z.enum(COMMAND_LINE_MODES),
    salt_file: z.string(),
    salt_env: z.string(),
  }),
  log_level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /** service discovery and Collector config rendering (src/discovery/) */
  discovery: z.strictObject({
    /** run discovery in `nrdot run`: auto = on when the agent scans this host's /proc */
    enabled: z.union([z.boolean(), z.literal('auto')], { error: 'expected true, false or auto' }),
    /** host paths (/etc, /var/lib/dpkg, unit files) are read under this root; "" = / */
    root: z.string(),
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
  /** config lifecycle (src/control/config, src/control/opamp) */
  security: securitySchema,
  reload: reloadSchema,
  config_history: configHistorySchema,
  opamp: opampSchema,
  /** the cost control loop: schedules, webhooks (src/control/schema.ts) */
  control: controlSchema,
});

export type Config = z.infer<typeof configSchema>;
export type ProfileConfig = z.infer<typeof profile>;
export type TierRules = z.infer<typeof tierRules>;
export type AnomalyConfig = z.infer<typeof anomaly>;
export type ScoringConfig = Config['scoring'];
export type DiscoveryConfig = Config['discovery'];
