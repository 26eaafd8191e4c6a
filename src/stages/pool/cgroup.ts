/**
 * What a process's `/proc/<pid>/cgroup` says about where it runs: its cgroup
 * path, and the Kubernetes pod, container and systemd unit that path names.
 * Both formats: cgroup v2 (`0::/path`) and v1 (`N:controllers:/path` lines,
 * where the `name=systemd` hierarchy, else the first one with a path, is
 * taken). Pure; nothing is read here.
 */

export interface CgroupInfo {
  path: string;
  /** Kubernetes pod UID (dashes, as the API shows it) */
  podUid?: string;
  /** container id (64 hex digits) */
  containerId?: string;
  /** systemd service unit, e.g. `nginx.service` */
  unit?: string;
}

const POD = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;
/** a 64-hex container id as the last path segment: docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope, /docker/<id> */
const CONTAINER = /(?:^|[-/])([0-9a-f]{64})(?:\.scope)?$/;
const SERVICE = '.service';

/** The cgroup path of a v1 or v2 cgroup file, or undefined when it has none. */
export function cgroupPath(text: string): string | undefined {
  let v1: string | undefined;
  let systemd: string | undefined;
  for (const line of text.split('\n')) {
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (b < 0) continue;
    const path = line.slice(b + 1);
    if (!path.startsWith('/')) continue;
    const id = line.slice(0, a);
    const controllers = line.slice(a + 1, b);
    if (id === '0' && controllers === '') return path; // v2 (unified)
    if (controllers === 'name=systemd') systemd ??= path;
    else v1 ??= path;
  }
  return systemd ?? v1;
}

export function parseCgroup(text: string): CgroupInfo | undefined {
  const path = cgroupPath(text);
  if (path === undefined) return undefined;
  const info: CgroupInfo = { path };
  const pod = path.includes('pod') ? POD.exec(path) : null;
  if (pod) info.podUid = pod[1]!.replaceAll('_', '-');
  const last = path.slice(path.lastIndexOf('/') + 1) || path;
  const c = last.length >= 64 ? CONTAINER.exec(last) : null;
  if (c) info.containerId = c[1]!;
  const unit = lastUnit(path);
  if (unit !== undefined) info.unit = unit;
  return info;
}

/** The last path segment naming a systemd service (`<something>.service`), or undefined. */
function lastUnit(path: string): string | undefined {
  let end = path.length;
  for (;;) {
    const slash = end > 0 ? path.lastIndexOf('/', end - 1) : -1;
    const start = slash + 1;
    if (end - start > SERVICE.length && path.endsWith(SERVICE, end)) return path.slice(start, end);
    if (slash < 0) return undefined;
    end = slash;
  }
}
