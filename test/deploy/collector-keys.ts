/**
 * The configuration keys the OpenTelemetry Collector documents for the
 * components deploy/collector/otelcol-gateway.yaml uses, transcribed from
 * their READMEs (open-telemetry/opentelemetry-collector and -contrib):
 *
 *   receiver/otlpreceiver/config.md, config/confighttp/README.md (server)
 *   exporter/otlphttpexporter/README.md + config.schema.yaml,
 *     config/confighttp/README.md (client), exporter/exporterhelper/README.md
 *   processor/batchprocessor/README.md, processor/memorylimiterprocessor/README.md
 *   extension/storage/filestorage/README.md (contrib)
 *
 * A nested object is a map of its keys; `true` is a leaf; `'any'` accepts
 * any key (header names, compression parameters).
 */
export type Keys = { [key: string]: Keys | true | 'any' };

const tls: Keys = {
  ca_file: true,
  cert_file: true,
  key_file: true,
  client_ca_file: true,
  insecure: true,
  insecure_skip_verify: true,
  min_version: true,
  max_version: true,
};

const httpServer: Keys = {
  endpoint: true,
  tls,
  cors: { allowed_origins: true, allowed_headers: true, max_age: true },
  max_request_body_size: true,
  include_metadata: true,
  response_headers: 'any',
  compression_algorithms: true,
  read_timeout: true,
  read_header_timeout: true,
  write_timeout: true,
  idle_timeout: true,
  keep_alives_enabled: true,
  auth: { authenticator: true, request_params: true },
  middlewares: true,
  traces_url_path: true,
  metrics_url_path: true,
  logs_url_path: true,
  profiles_url_path: true,
};

const grpcServer: Keys = {
  endpoint: true,
  transport: true,
  tls,
  max_recv_msg_size_mib: true,
  max_concurrent_streams: true,
  read_buffer_size: true,
  write_buffer_size: true,
  keepalive: 'any',
  auth: { authenticator: true },
  include_metadata: true,
};

const httpClient: Keys = {
  endpoint: true,
  proxy_url: true,
  tls,
  headers: 'any',
  read_buffer_size: true,
  write_buffer_size: true,
  timeout: true,
  compression: true,
  compression_params: 'any',
  max_idle_conns: true,
  max_idle_conns_per_host: true,
  max_conns_per_host: true,
  idle_conn_timeout: true,
  auth: { authenticator: true },
  disable_keep_alives: true,
  force_attempt_http2: true,
  http2_read_idle_timeout: true,
  http2_ping_timeout: true,
  cookies: { enabled: true },
  middlewares: true,
};

export const DOCUMENTED: Record<'receivers' | 'processors' | 'exporters' | 'extensions', Record<string, Keys>> = {
  receivers: {
    otlp: { protocols: { http: httpServer, grpc: grpcServer } },
  },
  processors: {
    batch: {
      send_batch_size: true,
      timeout: true,
      send_batch_max_size: true,
    },
    memory_limiter: {
      check_interval: true,
      limit_mib: true,
      spike_limit_mib: true,
      limit_percentage: true,
      spike_limit_percentage: true,
    },
  },
  exporters: {
    otlphttp: {
      ...httpClient,
      traces_endpoint: true,
      metrics_endpoint: true,
      logs_endpoint: true,
      profiles_endpoint: true,
      encoding: true,
      retry_on_failure: {
        enabled: true,
        initial_interval: true,
        max_interval: true,
        max_elapsed_time: true,
        multiplier: true,
        randomization_factor: true,
      },
      sending_queue: {
        enabled: true,
        num_consumers: true,
        wait_for_result: true,
        block_on_overflow: true,
        sizer: true,
        queue_size: true,
        storage: true,
        batch: { flush_timeout: true, min_size: true, max_size: true, sizer: true },
      },
    },
  },
  extensions: {
    file_storage: {
      directory: true,
      timeout: true,
      fsync: true,
      create_directory: true,
      directory_permissions: true,
      compaction: {
        on_start: true,
        on_rebound: true,
        directory: true,
        max_transaction_size: true,
        cleanup_on_start: true,
        rebound_needed_threshold_mib: true,
        rebound_trigger_threshold_mib: true,
        check_interval: true,
      },
    },
  },
};

/** Keys of `value` (recursively) that `schema` does not document, as dotted paths. */
export function undocumented(value: unknown, schema: Keys | true | 'any', at: string): string[] {
  if (schema === 'any' || schema === true) {
    // a leaf holds a scalar or a list; a map under a documented leaf is not documented
    return schema === true && value !== null && typeof value === 'object' && !Array.isArray(value) ? [at] : [];
  }
  if (value === null || value === undefined) return [];
  if (typeof value !== 'object' || Array.isArray(value)) return [`${at} (expected a map)`];
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
    k in schema ? undocumented(v, schema[k]!, `${at}.${k}`) : [`${at}.${k}`],
  );
}

/** A Go duration (time.ParseDuration): 300ms, 1.5h, 2h45m. */
export const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
