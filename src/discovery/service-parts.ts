/**
 * The pieces correlate.ts builds a service from: the signals it reads, a
 * memo of reads shared by the instances of one discovery, host-wide
 * evidence (packages, units), the choice of config file and of the primary
 * endpoint, and the finishing touches (logs, notes, confidence).
 */
import * as path from 'node:path';
import { confidence, WEIGHTS } from './evidence.js';
import type { Host, Problems } from './host.js';
import type { MatchField } from './matcher.js';
import { versionFromBinary } from './signals/binary.js';
import { type ConfigRead, expandGlob, readServiceConfig } from './signals/configs.js';
import type { FdOwners } from './signals/fds.js';
import { dpkgOwns, type PackageDb, upstreamVersion } from './signals/packages.js';
import type { ProcessTable } from './signals/processes.js';
import type { Listener } from './signals/sockets.js';
import { findUnits, type UnitFile, type UnitIndex, unitPattern } from './signals/units.js';
import type { ServiceTemplate } from './templates/types.js';
import type { DiscoveredService, Endpoint } from './types.js';

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
export class Memo {
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
export function memo(s: Signals): Memo {
  let m = memos.get(s);
  if (!m) {
    m = new Memo(s);
    memos.set(s, m);
  }
  return m;
}

export interface HostEvidence {
  packages: Array<{ name: string; version: string; manager: string }>;
  units: UnitFile[];
}

export const sanitize = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_');

export function toEndpoint(l: Listener, source: Endpoint['source'], pid?: number): Endpoint {
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

export function hostEvidence(s: Signals, tpl: ServiceTemplate): HostEvidence {
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

export function blank(tpl: ServiceTemplate, state: DiscoveredService['state']): DiscoveredService {
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

export function addPackageEvidence(s: Signals, svc: DiscoveredService, tpl: ServiceTemplate, hostEv: HostEvidence) {
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

export function addUnitEvidence(svc: DiscoveredService, tpl: ServiceTemplate, hostEv: HostEvidence, active?: string) {
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
export function pickConfig(
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

export function finish(
  svc: DiscoveredService,
  tpl: ServiceTemplate,
  s: Signals,
  config?: ConfigRead,
): DiscoveredService {
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

export function idSuffix(e?: Endpoint): string | undefined {
  if (!e) return undefined;
  if (e.transport === 'unix') return sanitize(path.posix.basename(e.path ?? 'socket'));
  return String(e.port);
}
