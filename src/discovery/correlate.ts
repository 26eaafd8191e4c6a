/**
 * Join the signals about one service into a DiscoveredService: its
 * processes, the listeners they hold (or that sit on its port when their
 * owner could not be read), its config file, package, unit and version,
 * each a piece of evidence with a weight. Three kinds of services come out:
 * running instances (a matching process tree), listener-only ones (a usual
 * port whose owner is unknown) and installed-only ones (package, unit or
 * config, nothing running).
 */
import { WEIGHTS } from './evidence.js';
import { groupInstances, type Instance, listenerText, ownedListeners } from './instances.js';
import type { MatchField } from './matcher.js';
import {
  addPackageEvidence,
  addUnitEvidence,
  blank,
  choosePrimary,
  finish,
  type HostEvidence,
  hostEvidence,
  idSuffix,
  pickConfig,
  type Signals,
  toEndpoint,
} from './service-parts.js';
import { compiled, configCandidates, extractValues } from './signals/configs.js';
import { readCwd, readUnitOfProcess } from './signals/processes.js';
import type { Listener } from './signals/sockets.js';
import type { ServiceTemplate } from './templates/types.js';
import type { DiscoveredService, UnmatchedListener } from './types.js';

export { choosePrimary, packageGlob } from './service-parts.js';
export type { Signals };

export function correlate(s: Signals): { services: DiscoveredService[]; unmatched: UnmatchedListener[] } {
  const services: DiscoveredService[] = [];
  const claimed = new Set<number>(); // listener inodes a service took
  s.templates.forEach((tpl, ti) => {
    const hostEv = hostEvidence(s, tpl);
    const pidFields = s.matches.get(ti) ?? new Map<number, MatchField[]>();
    const instances = groupInstances([...pidFields.keys()], s.table);
    const mine: DiscoveredService[] = [];
    for (const inst of instances) mine.push(runningInstance(s, tpl, inst, pidFields, hostEv, claimed));
    mine.push(...listenerOnly(s, tpl, hostEv, claimed));
    if (mine.length === 0) {
      const inst = installedOnly(s, tpl, hostEv);
      if (inst) mine.push(inst);
    }
    services.push(...mine);
  });
  const ids = new Set<string>();
  for (const svc of services) {
    let id = svc.id;
    for (let k = 2; ids.has(id); k++) id = `${svc.id}_${k}`;
    svc.id = id;
    ids.add(id);
  }
  const unmatched: UnmatchedListener[] = [];
  for (const l of s.listeners) {
    if (claimed.has(l.inode) || l.transport === 'unix') continue;
    const pid = s.owners.owners.get(l.inode)?.[0];
    const u: UnmatchedListener = { transport: l.transport, address: l.address, port: l.port };
    if (pid !== undefined) {
      u.pid = pid;
      u.process = s.table.byPid.get(pid)?.comm;
    }
    unmatched.push(u);
  }
  services.sort((a, b) => a.service.localeCompare(b.service) || a.id.localeCompare(b.id));
  unmatched.sort((a, b) => (a.port ?? 0) - (b.port ?? 0) || (a.address ?? '').localeCompare(b.address ?? ''));
  return { services, unmatched };
}

function runningInstance(
  s: Signals,
  tpl: ServiceTemplate,
  inst: Instance,
  pidFields: Map<number, MatchField[]>,
  hostEv: HostEvidence,
  claimed: Set<number>,
): DiscoveredService {
  const root = s.table.byPid.get(inst.root)!;
  const svc = blank(tpl, 'running');
  svc.pid = root.pid;
  svc.pids = inst.pids;
  svc.executable = root.exe ?? inst.pids.map((p) => s.table.byPid.get(p)?.exe).find(Boolean);
  const fields = pidFields.get(root.pid) ?? [];
  const more = inst.pids.length - 1;
  svc.evidence.push({
    kind: 'process',
    detail: `process ${root.comm} (pid ${root.pid}) matches by ${fields.join(', ')}${more > 0 ? `; ${more} more process${more > 1 ? 'es' : ''} in its tree` : ''}`,
    weight: WEIGHTS.process,
    pid: root.pid,
  });

  // listeners its processes hold
  const unixOk = (p?: string) => !!p && tpl.match.unixSockets.some((re) => compiled(re, '').test(p));
  const owned = ownedListeners(s.listeners, s.owners, inst.pids).filter(
    (l) => l.transport !== 'unix' || unixOk(l.path),
  );
  for (const l of owned) {
    const pid = s.owners.owners.get(l.inode)!.find((p) => inst.pids.includes(p));
    svc.endpoints.push(toEndpoint(l, 'listener', pid));
    claimed.add(l.inode);
  }
  const cmdValues = extractValues(root.cmdline, tpl.cmdline);
  const cwd = readCwd(s.host, root.pid);
  const { read, agrees } = pickConfig(s, tpl, configCandidates(s.host, tpl, cmdValues, cwd), svc.endpoints);
  svc.values = { ...(read?.values ?? {}), ...cmdValues };

  // listeners whose owner could not be read, on this service's port or socket
  const denied = inst.pids.filter((p) => s.owners.denied.has(p));
  if (denied.length > 0) {
    const cfgPort = svc.values.port ? Number(svc.values.port) : undefined;
    const onPort = (l: Listener) =>
      l.transport !== 'unix' &&
      (tpl.match.ports.some((p) => p.port === l.port && p.transport === l.transport) ||
        (cfgPort !== undefined && l.port === cfgPort));
    const onSocket = (l: Listener) => l.transport === 'unix' && (l.path === svc.values.socket || unixOk(l.path));
    const candidates = s.listeners.filter((l) => !claimed.has(l.inode) && (onPort(l) || onSocket(l)));
    // is some readable process holding them? then they are not this service's
    s.resolveOwners(candidates.map((l) => l.inode));
    for (const l of candidates) {
      if (s.owners.owners.has(l.inode)) continue;
      svc.endpoints.push(toEndpoint(l, 'listener'));
      claimed.add(l.inode);
      const configured = l.transport === 'unix' ? l.path === svc.values.socket : cfgPort === l.port;
      svc.evidence.push({
        kind: 'listener',
        detail: `${l.transport} ${listenerText(l)} is on its ${configured ? 'configured' : 'usual'} ${l.transport === 'unix' ? 'socket' : 'port'}; the socket's owner could not be read`,
        weight: WEIGHTS.listenerUnowned,
        port: l.port,
      });
    }
  }
  if (denied.length > 0) {
    svc.notes.push(
      `could not read the fds of pid ${denied.slice(0, 5).join(', ')}${denied.length > 5 ? ', ...' : ''} (another user's process): run as root or with CAP_SYS_PTRACE to tie its sockets to it`,
    );
  }
  const ownedEps = svc.endpoints.filter((e) => e.pid !== undefined);
  if (ownedEps.length > 0) {
    svc.evidence.push({
      kind: 'listener',
      detail: `pid ${ownedEps[0]!.pid} listens on ${ownedEps.map((e) => `${e.transport} ${listenerText(e)}`).join(', ')}`,
      weight: WEIGHTS.listenerOwned,
      pid: ownedEps[0]!.pid,
      port: ownedEps.find((e) => e.port !== undefined)?.port,
    });
  }
  if (read) {
    svc.evidence.push({
      kind: 'config',
      detail: `config file ${read.path}${read.files.length > 1 ? ` (+${read.files.length - 1} included)` : ''}`,
      weight: WEIGHTS.config,
      file: read.path,
    });
    if (agrees) {
      svc.evidence.push({
        kind: 'config',
        detail: `${read.path} sets ${agrees}, where the process listens`,
        weight: WEIGHTS.configAgrees,
        file: read.path,
      });
    }
  }
  addUnitEvidence(svc, tpl, hostEv, readUnitOfProcess(s.host, root.pid));
  addPackageEvidence(s, svc, tpl, hostEv);
  svc.primary = choosePrimary(svc.endpoints, tpl.endpoint, svc.values);
  svc.id = `${tpl.service}/${idSuffix(svc.primary) ?? `pid${root.pid}`}`;
  if (!svc.primary) svc.notes.push('no listening socket found for it: nothing to scrape, so no receiver is rendered');
  return finish(svc, tpl, s, read);
}

/** Listeners on a usual port of the template whose owner is unknown and that no instance took. */
function listenerOnly(
  s: Signals,
  tpl: ServiceTemplate,
  hostEv: HostEvidence,
  claimed: Set<number>,
): DiscoveredService[] {
  const byPort = new Map<string, Listener[]>();
  for (const l of s.listeners) {
    if (l.transport === 'unix' || claimed.has(l.inode) || s.owners.owners.has(l.inode)) continue;
    if (!tpl.match.ports.some((p) => p.port === l.port && p.transport === l.transport)) continue;
    const k = `${l.transport}/${l.port}`;
    const list = byPort.get(k);
    if (list) list.push(l);
    else byPort.set(k, [l]);
  }
  const out: DiscoveredService[] = [];
  for (const ls of byPort.values()) {
    const svc = blank(tpl, 'running');
    for (const l of ls) {
      svc.endpoints.push(toEndpoint(l, 'listener'));
      claimed.add(l.inode);
    }
    svc.evidence.push({
      kind: 'listener',
      detail: `${ls.map((l) => `${l.transport} ${listenerText(l)}`).join(', ')} on the usual ${tpl.displayName} port; no readable process holds it`,
      weight: WEIGHTS.listenerUnowned,
      port: ls[0]!.port,
    });
    addUnitEvidence(svc, tpl, hostEv);
    addPackageEvidence(s, svc, tpl, hostEv);
    svc.primary = choosePrimary(svc.endpoints, tpl.endpoint, svc.values);
    svc.id = `${tpl.service}/${idSuffix(svc.primary)}`;
    svc.notes.push('the process could not be identified (its owner is another user): run as root to confirm');
    out.push(finish(svc, tpl, s));
  }
  return out;
}

/** Nothing runs, but a package, a unit file or a standard config file says the service is installed. */
function installedOnly(s: Signals, tpl: ServiceTemplate, hostEv: HostEvidence): DiscoveredService | undefined {
  const unitCmd = hostEv.units.map((u) => u.execStart).find(Boolean) ?? '';
  const cmdValues = extractValues(unitCmd, tpl.cmdline);
  const candidates = configCandidates(s.host, tpl, cmdValues, undefined);
  if (hostEv.packages.length === 0 && hostEv.units.length === 0) return undefined;
  const svc = blank(tpl, 'installed');
  const { read } = pickConfig(s, tpl, candidates, []);
  svc.values = { ...(read?.values ?? {}), ...cmdValues };
  if (read) {
    svc.evidence.push({ kind: 'config', detail: `config file ${read.path}`, weight: WEIGHTS.config, file: read.path });
    if (svc.values.port) svc.endpoints.push({ transport: 'tcp', port: Number(svc.values.port), source: 'config' });
    if (svc.values.socket) svc.endpoints.push({ transport: 'unix', path: svc.values.socket, source: 'config' });
  }
  addUnitEvidence(svc, tpl, hostEv);
  addPackageEvidence(s, svc, tpl, hostEv);
  svc.id = `${tpl.service}/installed`;
  svc.notes.push('installed but not running: no receiver is rendered until it runs');
  return finish(svc, tpl, s, read);
}
