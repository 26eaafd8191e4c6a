/**
 * Join the signals about one service into a DiscoveredService: its
 * processes, the listeners they hold (or that sit on its port when their
 * owner could not be read), its config file, package, unit and version,
 * each a piece of evidence with a weight. Three kinds of services come out:
 * running instances (a matching process tree), listener-only ones (a usual
 * port whose owner is unknown) and installed-only ones (package, unit or
 * config, nothing running).
 */
import * as path from 'node:path';
import { confidence, WEIGHTS } from './evidence.js';
import type { Host, Problems } from './host.js';
import { groupInstances, type Instance, listenerText, ownedListeners } from './instances.js';
import type { MatchField } from './matcher.js';
import { versionFromBinary } from './signals/binary.js';
import {
  type ConfigRead,
  compiled,
  configCandidates,
  expandGlob,
  extractValues,
  readServiceConfig,
} from './signals/configs.js';
import type { FdOwners } from './signals/fds.js';
import { dpkgOwns, type PackageDb, upstreamVersion } from './signals/packages.js';
import { type ProcessTable, readCwd, readUnitOfProcess } from './signals/processes.js';
import type { Listener } from './signals/sockets.js';
import { findUnits, type UnitFile, type UnitIndex, unitPattern } from './signals/units.js';
import type { ServiceTemplate } from './templates/types.js';
import type { DiscoveredService, Endpoint, Evidence, UnmatchedListener } from './types.js';

export interface Signals {
  host: Host;
  problems: Problems;
  templates: readonly ServiceTemplate[];
  table: ProcessTable;
  /** template index → pid → fields that matched */
  matches: Map<number, Map<number, MatchField[]>>;
  listeners: readonly Listener[];
  owners: FdOwners;
  /** walk more of the host until these socket inodes have an owner (or every process was walked) */
  resolveOwners: (inodes: number[]) => void;
  packages: PackageDb;
  units: UnitIndex;
}

/** Reads shared by the instances of one discovery (many workers of one server read the same files). */
class Memo {
  private readonly configs = new Map<string, ConfigRead | undefined>();
  private readonly owns = new Map<string, boolean>();
  private readonly versions = new Map<string, string | undefined>();
  private readonly globs = new Map<string, boolean>();

  constructor(private readonly s: Pick<Signals, 'host' | 'problems'>) {}

  config(tpl: ServiceTemplate, file: string): ConfigRead | undefined {
    const k = `${tpl.file}\0${file}`;
    if (!this.configs.has(k)) this.configs.set(k, readServiceConfig(this.s.host, tpl, file, this.s.problems));
    return this.configs.get(k);
  }

  dpkgOwns(pkg: string, exe: string): boolean {
    const k = `${pkg}\0${exe}`;
    if (!this.owns.has(k)) this.owns.set(k, dpkgOwns(this.s.host, pkg, exe, this.s.problems));
    return this.owns.get(k)!;
  }

  binaryVersion(exe: string, pattern: string): string | undefined {
    const k = `${pattern}\0${exe}`;
    if (!this.versions.has(k)) this.versions.set(k, versionFromBinary(this.s.host.real(exe), pattern));
    return this.versions.get(k);
  }

  globHas(glob: string): boolean {
    if (!this.globs.has(glob)) this.globs.set(glob, expandGlob(this.s.host, glob).length > 0);
    return this.globs.get(glob)!;
  }
}

const memos = new WeakMap<Signals, Memo>();
function memo(s: Signals): Memo {
  let m = memos.get(s);
  if (!m) {
    m = new Memo(s);
    memos.set(s, m);
  }
  return m;
}

interface HostEvidence {
  packages: Array<{ name: string; version: string; manager: string }>;
  units: UnitFile[];
}

const sanitize = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

function toEndpoint(l: Listener, source: Endpoint['source'], pid?: number): Endpoint {
  const e: Endpoint = { transport: l.transport, source };
  if (l.address !== undefined) e.address = l.address;
  if (l.port !== undefined) e.port = l.port;
  if (l.path !== undefined) e.path = l.path;
  if (pid !== undefined) e.pid = pid;
  return e;
}

/** The endpoint a receiver scrapes: preferred ports first, then the configured port, then the lowest; IPv4 before IPv6. */
export function choosePrimary(
  endpoints: readonly Endpoint[],
  spec: ServiceTemplate['endpoint'],
  values: Record<string, string>,
): Endpoint | undefined {
  const unix = endpoints.filter((e) => e.transport === 'unix' && e.source === 'listener');
  const pickUnix = () => unix.find((e) => e.path === values.socket) ?? unix[0];
  if (spec.preferTransport === 'unix' && unix.length > 0) return pickUnix();
  const fromValue = spec.preferValue ? /(\d+)\s*$/.exec(values[spec.preferValue] ?? '')?.[1] : undefined;
  const prefer = fromValue ? [Number(fromValue), ...spec.preferPorts] : spec.preferPorts;
  const tcp = endpoints.filter((e) => e.transport === 'tcp' && e.source === 'listener');
  if (tcp.length > 0) {
    const rank = (e: Endpoint) => {
      const i = prefer.indexOf(e.port!);
      if (i >= 0) return i;
      if (values.port && Number(values.port) === e.port) return prefer.length;
      return prefer.length + 1 + e.port! / 65536;
    };
    const fam = (e: Endpoint) => (e.address?.includes(':') ? 1 : 0);
    const loop = (e: Endpoint) => (e.address === '127.0.0.1' || e.address === '::1' ? 0 : 1);
    return [...tcp].sort((a, b) => rank(a) - rank(b) || fam(a) - fam(b) || loop(a) - loop(b))[0];
  }
  return unix.length > 0 ? pickUnix() : undefined;
}

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

function hostEvidence(s: Signals, tpl: ServiceTemplate): HostEvidence {
  const packages: HostEvidence['packages'] = [];
  for (const pattern of tpl.match.packages) {
    if (!/[*?[]/.test(pattern)) {
      const p = s.packages.packages.get(pattern);
      if (p) packages.push({ name: pattern, version: p.version, manager: p.manager });
      continue;
    }
    const re = packageGlob(pattern);
    for (const p of s.packages.packages.values()) {
      if (re.test(p.name) && !packages.some((x) => x.name === p.name)) {
        packages.push({ name: p.name, version: p.version, manager: p.manager });
      }
    }
  }
  const units = tpl.match.units.length ? findUnits(s.host, s.units, tpl.match.units, s.problems) : [];
  return { packages, units };
}

/** A package name glob: `*`, `?` and `[...]` classes. */
export function packageGlob(glob: string): RegExp {
  const esc = glob
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

function blank(tpl: ServiceTemplate, state: DiscoveredService['state']): DiscoveredService {
  return {
    service: tpl.service,
    id: tpl.service,
    displayName: tpl.displayName,
    state,
    confidence: 0,
    evidence: [],
    pids: [],
    endpoints: [],
    logPaths: [],
    values: {},
    notes: [],
    template: tpl.file,
  };
}

function addPackageEvidence(s: Signals, svc: DiscoveredService, tpl: ServiceTemplate, hostEv: HostEvidence) {
  let owner: (typeof hostEv.packages)[number] | undefined;
  if (svc.executable) {
    owner = hostEv.packages.find((p) => p.manager === 'dpkg' && memo(s).dpkgOwns(p.name, svc.executable!));
  }
  if (owner) {
    svc.evidence.push({
      kind: 'package',
      detail: `package ${owner.name} ${owner.version} (${owner.manager}) owns ${svc.executable}`,
      weight: WEIGHTS.packageOwnsExe,
    });
    svc.version = { value: upstreamVersion(owner.version), source: `package ${owner.name} ${owner.version}` };
  } else if (hostEv.packages.length > 0) {
    // the most precise version (postgresql-15 15.18 over the postgresql 15 metapackage)
    const p = [...hostEv.packages].sort(
      (a, b) => upstreamVersion(b.version).length - upstreamVersion(a.version).length,
    )[0]!;
    svc.evidence.push({
      kind: 'package',
      detail: `package ${hostEv.packages.map((x) => `${x.name} ${x.version}`).join(', ')} installed (${p.manager})`,
      weight: WEIGHTS.package,
    });
    // a binary outside the package manager's tree (/usr/local, /opt, a home) may be another version
    if (!svc.executable || /^\/(usr\/(?!local\/)|bin\/|sbin\/|lib)/.test(svc.executable)) {
      svc.version = { value: upstreamVersion(p.version), source: `package ${p.name} ${p.version}` };
    }
  }
  if (!svc.version && svc.executable && tpl.version.binary) {
    const v = memo(s).binaryVersion(svc.executable, tpl.version.binary);
    if (v) {
      svc.version = { value: v, source: `binary ${svc.executable}` };
      svc.evidence.push({ kind: 'binary', detail: `${svc.executable} states version ${v}`, weight: WEIGHTS.binary });
    }
  }
}

function addUnitEvidence(svc: DiscoveredService, tpl: ServiceTemplate, hostEv: HostEvidence, active?: string) {
  if (active && tpl.match.units.some((u) => unitPattern(u).test(active))) {
    svc.unit = active;
    svc.evidence.push({ kind: 'unit', detail: `runs in systemd unit ${active}`, weight: WEIGHTS.unitActive });
    return;
  }
  const u = hostEv.units.find((x) => x.enabled) ?? hostEv.units[0];
  if (!u) return;
  svc.unit ??= u.name;
  svc.evidence.push({
    kind: 'unit',
    detail: `unit file ${u.file}${u.enabled ? ' (enabled)' : ''}`,
    weight: u.enabled ? WEIGHTS.unitEnabled : WEIGHTS.unit,
    file: u.file,
  });
}

/** Read the candidates; prefer the one whose port or socket is the one observed. */
function pickConfig(
  s: Signals,
  tpl: ServiceTemplate,
  candidates: readonly string[],
  observed: readonly Endpoint[],
): { read?: ConfigRead; agrees?: string } {
  let first: ConfigRead | undefined;
  for (const c of candidates.slice(0, 8)) {
    const read = memo(s).config(tpl, c);
    if (!read) continue;
    first ??= read;
    const port = read.values.port ? Number(read.values.port) : undefined;
    const hit = observed.find(
      (e) => (port !== undefined && e.port === port) || (read.values.socket && e.path === read.values.socket),
    );
    if (hit) return { read, agrees: hit.transport === 'unix' ? hit.path : `port ${hit.port}` };
  }
  return { read: first };
}

function finish(svc: DiscoveredService, tpl: ServiceTemplate, s: Signals, config?: ConfigRead): DiscoveredService {
  if (config) {
    svc.configPath = config.path;
    svc.logPaths = [...config.logs];
  }
  if (svc.logPaths.length === 0) {
    for (const g of tpl.defaultLogs) if (memo(s).globHas(g)) svc.logPaths.push(g);
  }
  for (const [k, note] of Object.entries(tpl.notesIfDefault)) if (svc.values[k] === undefined) svc.notes.push(note);
  svc.notes.push(...tpl.notes);
  svc.confidence = confidence(svc.evidence);
  return svc;
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

function idSuffix(e?: Endpoint): string | undefined {
  if (!e) return undefined;
  if (e.transport === 'unix') return sanitize(path.posix.basename(e.path ?? 'socket'));
  return String(e.port);
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

export type { Evidence };
