/**
 * One discovery: read the signals, tie sockets to processes, correlate.
 *
 *   templates → processes (matched by RE2 sets) → listening sockets
 *   → fd walk (matching process trees first, then the rest until every
 *   listener has an owner) → packages, units → correlate
 *
 * Reads only; what it could not read is in `problems`.
 */
import { correlate } from './correlate.js';
import { Host, Problems } from './host.js';
import { type MatchField, ProcessMatcher } from './matcher.js';
import { newFdOwners, walkProcessFds, walkUntilOwned } from './signals/fds.js';
import { readPackages } from './signals/packages.js';
import { readProcesses, YIELD_EVERY, yieldNow } from './signals/processes.js';
import { readSockets, type SocketBackend } from './signals/socket-source.js';
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
  /** how to read listening sockets (default auto: sock_diag when the addon has it and the root is live) */
  sockets?: SocketBackend;
  /** collects what could not be read; pass one holding the template problems of a preloaded set */
  problems?: Problems;
  /** wall-clock milliseconds for `at` (injected in tests) */
  now?: () => number;
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

  const { listeners, source } = await readSockets(host, problems, opts.sockets ?? 'auto');
  lap('sockets');

  // matching processes first (they are what we need), then the rest until every listener has an owner
  const wanted = new Set(listeners.map((l) => l.inode));
  const owners = newFdOwners();
  for (let i = 0; i < matchedPids.length; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await yieldNow();
    walkProcessFds(host, matchedPids[i]!, wanted, owners);
  }
  await walkUntilOwned(
    host,
    table.procs.map((p) => p.pid),
    wanted,
    owners,
  );
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
    stats: {
      processes: table.procs.length,
      fdWalked: owners.walked.size,
      fdDenied: owners.denied.size,
      listeners: listeners.length,
      packages: packages.packages.size,
      units: units.files.size,
      timings,
    },
  };
}
