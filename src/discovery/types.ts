/**
 * What discovery finds. Plain data (JSON-serialisable), so `nrdot discover
 * --json`, the agent's status and tests all read the same shape.
 */

/** A place where the service can be reached. */
export interface Endpoint {
  transport: 'tcp' | 'udp' | 'unix';
  /** the bound address (`0.0.0.0`, `::`, `127.0.0.1`...); tcp/udp only */
  address?: string;
  port?: number;
  /** unix sockets: the socket file */
  path?: string;
  /** where it was learnt: a listening socket, the service's config file, or the template's default */
  source: 'listener' | 'config';
  /** pid owning the socket, when the fd walk tied it to one */
  pid?: number;
}

/** One signal that supports the service. */
export interface Evidence {
  kind: 'process' | 'listener' | 'config' | 'package' | 'unit' | 'binary';
  /** human text: which signal, which file, which pid and port */
  detail: string;
  /** its weight in the confidence score (0-1) */
  weight: number;
  pid?: number;
  port?: number;
  file?: string;
}

export interface DiscoveredService {
  /** the template's service name (`redis`, `postgresql`...) */
  service: string;
  /** an id stable between runs: service plus port or socket (`redis/16379`) */
  id: string;
  displayName: string;
  /** running: a process or a listener was seen; installed: only packages, units or config files */
  state: 'running' | 'installed';
  /** 0-1: 1 - Π(1 - weight) over the evidence */
  confidence: number;
  evidence: Evidence[];
  /** the main process (the root of the matching process tree) */
  pid?: number;
  /** all pids of the instance (the main one and its matching children) */
  pids: number[];
  executable?: string;
  endpoints: Endpoint[];
  /** the endpoint a receiver would scrape (chosen by the template's port preference) */
  primary?: Endpoint;
  /** config file the values came from */
  configPath?: string;
  logPaths: string[];
  version?: { value: string; source: string };
  /** systemd unit, when one is known */
  unit?: string;
  /** values extracted from the config file and the command line, by the template's rules */
  values: Record<string, string>;
  /** setup hints: what the receiver needs that discovery could not confirm */
  notes: string[];
  /** the template file that matched */
  template: string;
}

/** Something discovery could not read or could not parse; it went on without it. */
export interface Problem {
  kind: 'unreadable' | 'malformed' | 'template' | 'unavailable';
  /** the file (or directory) at fault */
  file: string;
  /** 1-based line, when the fault is in a file's content */
  line?: number;
  message: string;
}

/** A listening socket no template claimed. */
export interface UnmatchedListener {
  transport: 'tcp' | 'udp' | 'unix';
  address?: string;
  port?: number;
  path?: string;
  pid?: number;
  process?: string;
}

export interface DiscoveryStats {
  processes: number;
  /** processes whose fd directory was walked */
  fdWalked: number;
  /** processes whose fd directory could not be read (other users' without CAP_SYS_PTRACE) */
  fdDenied: number;
  listeners: number;
  /** every listener was tied to its process (otherwise only those a template could claim) */
  ownersOfAll: boolean;
  packages: number;
  units: number;
  /** milliseconds per phase */
  timings: Record<string, number>;
}

export interface DiscoveryResult {
  /** the root every path was read under ('/' on the live host) */
  root: string;
  /** when the discovery ran (ms since the epoch, from the injected clock) */
  at: number;
  services: DiscoveredService[];
  unmatchedListeners: UnmatchedListener[];
  problems: Problem[];
  /** how sockets were read: netlink sock_diag (native) or the /proc/net text files */
  socketSource: 'sock_diag' | 'procfs';
  /** why sock_diag was not used on the live host (the addon is missing or older, netlink failed) */
  socketNote?: string;
  stats: DiscoveryStats;
}
