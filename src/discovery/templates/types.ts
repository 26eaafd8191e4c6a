/**
 * A service template: one YAML file that says how to recognise a service
 * (process patterns, ports, packages, units, config files) and which
 * OpenTelemetry Collector receiver config to render for it. The embedded
 * library is configs/discovery/*.yaml; users add or replace templates in
 * the directory `discovery.template_dir` names. configs/discovery/README.md
 * documents the format.
 */

export interface PortSpec {
  transport: 'tcp' | 'udp';
  port: number;
}

/** An include directive in a config file: the first group is a path or glob (relative to the file's directory). */
export interface IncludeRule {
  pattern: string;
  /** appended to the captured path (`/*.cnf` for MySQL's `!includedir`) */
  append: string;
}

export interface ComponentSpec {
  /** the Collector component type (`redis`, `filelog`) */
  type: string;
  /** its config, with ${var} references */
  body: unknown;
}

export interface ServiceTemplate {
  /** the file it was loaded from */
  file: string;
  origin: 'embedded' | 'user';
  service: string;
  displayName: string;
  match: {
    names: string[];
    paths: string[];
    cmdlines: string[];
    ports: PortSpec[];
    packages: string[];
    units: string[];
    /** re2 over unix socket paths that count as this service's endpoints (none: no unix endpoints) */
    unixSockets: string[];
  };
  /** values from the command line (re2, first group) */
  cmdline: Record<string, string>;
  config: {
    /** candidate config files, in order; may use ${var} (command-line values) and `*` */
    paths: string[];
    /** file names looked for in the process's working directory */
    inCwd: string[];
    includes: IncludeRule[];
    /** values from the config text (re2, multi-line, first group of the first match) */
    extract: Record<string, string>;
    /** log file paths (re2, every match) */
    logs: string[];
  };
  /** log files used when the config names none, if they exist (globs allowed) */
  defaultLogs: string[];
  version: { binary?: string };
  endpoint: {
    tcp: string;
    unix: string;
    preferPorts: number[];
    /** a value (from the config or command line) whose port is preferred over the others */
    preferValue?: string;
    /** which transport wins when the service has both (default tcp) */
    preferTransport: 'tcp' | 'unix';
  };
  defaults: Record<string, string>;
  /** a note shown when the named variable fell back to its default */
  notesIfDefault: Record<string, string>;
  notes: string[];
  receiver: ComponentSpec;
  logs?: ComponentSpec;
  /** 1-based line of a YAML path in the file (for render-time messages) */
  lineOf: (path: readonly (string | number)[]) => number | undefined;
}

/** Variables every template may use, set by discovery for each service instance. */
export const BUILTIN_VARS = [
  'service',
  'host',
  'port',
  'host_port',
  'endpoint',
  'transport',
  'socket',
  'socket_dir',
  'socket_port',
  'log_paths',
  'config_path',
  'collection_interval',
  'pid',
  'id',
] as const;

/** Keys whose values must be `${env:VAR}` references: credentials are never written into a config. */
export const SECRET_KEY = /(pass(word)?|secret|token|api[-_]?key|credential)s?$/i;
