/**
 * One discovery: read the signals, tie sockets to processes, correlate.
 *
 *   templates → processes (matched by RE2 sets) → listening sockets
 *   → fd walk (matching process trees first, then the rest until every
 *   listener has an owner) → packages, units → correlate
 *
 * Reads only; what it could not read is in `problems`.
 */
import RE2 from 're2';
import { correlate } from './correlate.js';
import { Host, Problems } from './host.js';
import { type MatchField, ProcessMatcher } from './matcher.js';
import { newFdOwners, walkProcessFds, walkUntilOwned, walkUntilOwnedSync } from './signals/fds.js';
import { readPackages } from './signals/packages.js';
import { readProcesses, YIELD_EVERY, yieldNow } from './signals/processes.js';
import { readSockets, type SocketBackend } from './signals/socket-source.js';
import type { Listener } from './signals/sockets.js';
import { readUnitIndex } from './signals/units.js';
import { loadTemplates } from './templates/load.js';
import type { ServiceTemplate } from './templates/types.js';
import type { DiscoveryResult } from './types.js';

export interface DiscoverOptions {
  /** read every host path under this root (default '/') */
  root?: string;
  /** the procfs tree (default `<root>/proc`) */
  procRoot?: string;
  /** the user's template directory (config `discovery.template_dir`) */
  templateDir?: string;
  /** the embedded library (default configs/discovery of the package) */
  embeddedTemplateDir?: string;
  /** templates already loaded (a re-discovery reuses them); their load problems are not repeated */
  templates?: readonly ServiceTemplate[];
  /** how to read listening sockets (default auto: netlink sock_diag on the live host when the addon has it, else /proc/net) */
  sockets?: SocketBackend;
  /** collects what could not be read; pass one holding the template problems of a preloaded set */
  problems?: Problems;
  /**
   * tie every listening socket to its process (walks every fd of the host);
   * default: only the listeners a template could claim
   */
  ownersOfAll?: boolean;
  /** wall-clock milliseconds for `at` (injected in tests) */
  now?: () => number;
}

/** Listeners a template could claim: on a usual port, or a unix socket a template names. */
function relevantListeners(templates: readonly ServiceTemplate[], listeners: readonly Listener[]): number[] {
  const ports = new Set(templates.flatMap((t) => t.match.ports.map((p) => `${p.transport}/${p.port}`)));
  const sockets = templates.flatMap((t) => t.match.unixSockets);
  const set = sockets.length ? new RE2.Set(sockets) : undefined;
  return listeners
    .filter((l) => (l.transport === 'unix' ? !!set && set.test(l.path ?? '') : ports.has(`${l.transport}/${l.port}`)))
    .map((l) => l.inode);
}

export async function discover(opts: DiscoverOptions = {}): Promise<DiscoveryResult> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round((now - t) * 1000) / 1000;
    t = now;
  };
  const host = new Host({ root: opts.root, procRoot: opts.procRoot });
  const problems = opts.problems ?? new Problems();
  const templates =
    opts.templates ?? loadTemplates({ embeddedDir: opts.embeddedTemplateDir, userDir: opts.templateDir }, problems);
  lap('templates');

  const table = await readProcesses(host);
  const matcher = new ProcessMatcher(templates);
  const matches = new Map<number, Map<number, MatchField[]>>();
  const matchedPids: number[] = [];
  for (const p of table.procs) {
    const ms = matcher.match(p);
    if (ms.length === 0) continue;
    matchedPids.push(p.pid);
    for (const m of ms) {
      const per = matches.get(m.template) ?? new Map<number, MatchField[]>();
      matches.set(m.template, per);
      per.set(p.pid, m.fields);
    }
  }
  lap('processes');

  const { listeners, source, note: socketNote } = await readSockets(host, problems, opts.sockets ?? 'auto');
  lap('sockets');

  // The fd walk is most of the cost on a big host, so only what correlation needs is walked:
  // every matching process, then the others until each listener that could be a service's
  // (on a template's usual port or socket) has an owner. `ownersOfAll` ties every listener.
  // A matching tree's members (pre-fork workers, backends) inherit their root's listeners:
  // they are walked only when the root holds none or cannot be read.
  const owners = newFdOwners();
  const listenerInodes = new Set(listeners.map((l) => l.inode));
  const matchedSet = new Set(matchedPids);
  const rootOf = (pid: number): number => {
    let root = pid;
    for (let cur = table.byPid.get(pid), hops = 0; cur && hops < 64; hops++) {
      if (!matchedSet.has(cur.ppid) || cur.ppid === cur.pid) break;
      root = cur.ppid;
      cur = table.byPid.get(cur.ppid);
    }
    return root;
  };
  const roots = new Map<number, boolean>(); // root pid → holds a listener
  const members: Array<[number, number]> = [];
  for (let i = 0; i < matchedPids.length; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await yieldNow();
    const pid = matchedPids[i]!;
    const root = rootOf(pid);
    if (root !== pid) {
      members.push([pid, root]);
      continue;
    }
    roots.set(
      pid,
      walkProcessFds(host, pid, owners).some((inode) => listenerInodes.has(inode)),
    );
  }
  for (let i = 0; i < members.length; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await yieldNow();
    const [pid, root] = members[i]!;
    if (!roots.get(root)) walkProcessFds(host, pid, owners);
  }
  const allPids = table.procs.map((p) => p.pid);
  const wanted = opts.ownersOfAll ? listeners.map((l) => l.inode) : relevantListeners(templates, listeners);
  await walkUntilOwned(host, allPids, new Set(wanted), owners);
  lap('fds');

  const packages = await readPackages(host, problems);
  const units = readUnitIndex(host);
  lap('packages');

  const { services, unmatched } = correlate({
    host,
    problems,
    templates,
    table,
    matches,
    listeners,
    owners,
    resolveOwners: (inodes) => walkUntilOwnedSync(host, allPids, inodes, owners),
    packages,
    units,
  });
  lap('correlate');

  if (table.exeDenied > 0 || owners.denied.size > 0) {
    problems.add({
      kind: 'unreadable',
      file: host.procRoot,
      message:
        `could not read the executable of ${table.exeDenied} and the open fds of ${owners.denied.size} processes` +
        " (other users' processes need root, CAP_SYS_PTRACE or CAP_DAC_READ_SEARCH): their sockets have no known owner",
    });
  }
  return {
    root: host.root,
    at: (opts.now ?? Date.now)(),
    services,
    unmatchedListeners: unmatched,
    problems: problems.list,
    socketSource: source,
    ...(socketNote ? { socketNote } : {}),
    stats: {
      processes: table.procs.length,
      fdWalked: owners.walked.size,
      fdDenied: owners.denied.size,
      listeners: listeners.length,
      ownersOfAll: opts.ownersOfAll === true,
      packages: packages.packages.size,
      units: units.files.size,
      timings,
    },
  };
}
