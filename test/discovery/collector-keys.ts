/**
 * The config keys each Collector component documents, taken from the
 * components' READMEs in opentelemetry-collector-contrib and
 * opentelemetry-collector (receiver/<name>receiver/README.md,
 * exporter/otlphttpexporter/README.md, processor/*). `true` = a leaf (any
 * value), a nested table = a mapping with these keys, `[table]` = a list of
 * such mappings, `'any'` = a free-form map (metrics toggles, resource
 * attributes, headers). Rendered configs are checked against it, so a key
 * the Collector would reject ("has invalid keys") fails a test here.
 */
export type KeyTable = { [key: string]: true | 'any' | KeyTable | [KeyTable] };

const TLS_CLIENT: KeyTable = {
  insecure: true,
  insecure_skip_verify: true,
  server_name_override: true,
  ca_file: true,
  cert_file: true,
  key_file: true,
};

/** scraperhelper settings every scraping receiver accepts */
const SCRAPER: KeyTable = {
  collection_interval: true,
  initial_delay: true,
  timeout: true,
  metrics: 'any',
  resource_attributes: 'any',
};

export const RECEIVER_KEYS: Record<string, KeyTable> = {
  // receiver/mysqlreceiver/README.md
  mysql: {
    ...SCRAPER,
    endpoint: true,
    transport: true,
    username: true,
    password: true,
    database: true,
    allow_native_passwords: true,
    tls: TLS_CLIENT,
    statement_events: { digest_text_limit: true, time_limit: true, limit: true },
    query_sample_collection: 'any',
    top_query_collection: 'any',
  },
  // receiver/postgresqlreceiver/README.md
  postgresql: {
    ...SCRAPER,
    endpoint: true,
    transport: true,
    username: true,
    password: true,
    databases: true,
    exclude_databases: true,
    tls: TLS_CLIENT,
    query_sample_collection: 'any',
    top_query_collection: 'any',
    connection_pool: { max_idle_time: true, max_lifetime: true, max_idle: true, max_open: true },
  },
  // receiver/redisreceiver/README.md
  redis: {
    ...SCRAPER,
    endpoint: true,
    transport: true,
    username: true,
    password: true,
    tls: TLS_CLIENT,
  },
  // receiver/nginxreceiver/README.md
  nginx: { ...SCRAPER, endpoint: true },
  // receiver/apachereceiver/README.md
  apache: { ...SCRAPER, endpoint: true },
  // receiver/memcachedreceiver/README.md
  memcached: { ...SCRAPER, endpoint: true },
  // receiver/mongodbreceiver/README.md
  mongodb: {
    ...SCRAPER,
    hosts: [{ endpoint: true }],
    scheme: true,
    username: true,
    password: true,
    auth_mechanism: true,
    auth_source: true,
    auth_mechanism_properties: 'any',
    replica_set: true,
    tls: TLS_CLIENT,
    direct_connection: true,
  },
  // receiver/rabbitmqreceiver/README.md
  rabbitmq: { ...SCRAPER, endpoint: true, username: true, password: true, tls: TLS_CLIENT },
  // receiver/haproxyreceiver/README.md
  haproxy: { ...SCRAPER, endpoint: true },
  // receiver/filelogreceiver/README.md (the table of fields)
  filelog: {
    include: true,
    exclude: true,
    exclude_older_than: true,
    start_at: true,
    multiline: 'any',
    force_flush_period: true,
    encoding: true,
    include_file_name: true,
    include_file_path: true,
    include_file_name_resolved: true,
    include_file_path_resolved: true,
    include_file_owner_name: true,
    include_file_owner_group_name: true,
    include_file_record_number: true,
    poll_interval: true,
    fingerprint_size: true,
    max_log_size: true,
    max_concurrent_files: true,
    attributes: 'any',
    resource: 'any',
    operators: true,
    storage: true,
  },
  // receiver/hostmetricsreceiver/README.md ("Process" scraper options)
  hostmetrics: {
    collection_interval: true,
    initial_delay: true,
    root_path: true,
    scrapers: {
      process: {
        include: { names: true, match_type: true },
        exclude: { names: true, match_type: true },
        mute_process_all_errors: true,
        mute_process_name_error: true,
        mute_process_exe_error: true,
        mute_process_io_error: true,
        mute_process_user_error: true,
        mute_process_cgroup_error: true,
        scrape_process_delay: true,
        metrics: 'any',
        resource_attributes: 'any',
      },
      cpu: 'any',
      memory: 'any',
    },
  },
};

/** Keys a receiver cannot work without (the README's "required" settings). */
export const RECEIVER_REQUIRED: Record<string, string[]> = {
  redis: ['endpoint'],
  nginx: ['endpoint'],
  apache: ['endpoint'],
  memcached: ['endpoint'],
  haproxy: ['endpoint'],
  postgresql: ['username', 'password'],
  rabbitmq: ['username', 'password'],
  filelog: ['include'],
};

export const EXPORTER_KEYS: Record<string, KeyTable> = {
  // exporter/otlphttpexporter/README.md (+ confighttp headers, exporterhelper queue/retry)
  otlphttp: {
    endpoint: true,
    traces_endpoint: true,
    metrics_endpoint: true,
    logs_endpoint: true,
    tls: TLS_CLIENT,
    timeout: true,
    read_buffer_size: true,
    write_buffer_size: true,
    compression: true,
    encoding: true,
    headers: 'any',
    retry_on_failure: 'any',
    sending_queue: 'any',
  },
};

export const PROCESSOR_KEYS: Record<string, KeyTable> = {
  resourcedetection: { detectors: true, timeout: true, override: true },
  batch: { timeout: true, send_batch_size: true, send_batch_max_size: true },
};

/** Every key path in `value` that `table` does not allow. */
export function unknownKeys(value: unknown, table: KeyTable, at = ''): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${at || '(top)'}: not a mapping`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = at ? `${at}.${k}` : k;
    const rule = table[k];
    if (rule === undefined) out.push(p);
    else if (rule === true || rule === 'any') continue;
    else if (Array.isArray(rule)) {
      if (!Array.isArray(v)) out.push(`${p}: not a list`);
      else for (const [i, item] of v.entries()) out.push(...unknownKeys(item, rule[0], `${p}[${i}]`));
    } else out.push(...unknownKeys(v, rule, p));
  }
  return out;
}

/** The component type of an id (`redis/6379` → `redis`). */
export const typeOf = (id: string) => id.split('/')[0]!;
