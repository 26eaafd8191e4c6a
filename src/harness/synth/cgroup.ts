/**
 * `/proc/<pid>/cgroup`: where each process sits, in the kernel's formats.
 *
 * cgroup v2 (the default): one line, `0::<path>`, with systemd's layout
 * (`/init.scope`, `/system.slice/nginx.service`,
 * `/system.slice/system-postgresql.slice/postgresql@16-main.service`,
 * `/user.slice/user-1000.slice/session-3.scope`,
 * `/system.slice/docker-<id>.scope`,
 * `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/cri-containerd-<id>.scope`).
 *
 * cgroup v1 (legacy hierarchy, no unified line): twelve `N:controllers:path`
 * lines. systemd units show their path in pids, memory, devices and
 * name=systemd, their slice in cpu,cpuacct and blkio, and `/` in the
 * controllers systemd does not manage; containers use the cgroupfs driver
 * (`/docker/<id>`, `/kubepods/burstable/pod<uid>/<id>`) in every hierarchy.
 *
 * A configurable share of processes gets a *directory* named `cgroup`
 * instead of the file: opening it succeeds and reading fails with EISDIR,
 * which a reader must treat as "unreadable" (it is neither a vanished
 * process, ENOENT, nor a permission problem, EACCES, and unlike a FIFO it
 * cannot block a reader). Mode 000 would not do: the agent runs as root.
 */
import * as fs from 'node:fs';
import { mixSeed } from './prng.js';
import type { CgroupVersion, Placement, ProcCore, Qos, SynthProc } from './types.js';

export const KERNEL_CG: Placement = { k: 'kernel' };
export const INIT_CG: Placement = { k: 'init' };

export const svcCg = (unit: string): Placement => ({ k: 'svc', unit });
export const userCg = (uid: number, unit: string): Placement => ({ k: 'user', uid, unit });
export const dockerCg = (id: string): Placement => ({ k: 'docker', id });
export const podCg = (qos: Qos, pod: string, id: string): Placement => ({ k: 'pod', qos, pod, id });

/** systemd's unit-name escaping of `-` inside a slice component. */
function escSlice(s: string): string {
  return s.replace(/-/g, '\\x2d');
}

/** The cgroup v2 path (also the v1 path of systemd units). */
export function v2Path(c: Placement): string {
  switch (c.k) {
    case 'kernel':
      return '/';
    case 'init':
      return '/init.scope';
    case 'svc': {
      const at = c.unit.indexOf('@');
      return at > 0
        ? `/system.slice/system-${escSlice(c.unit.slice(0, at))}.slice/${c.unit}`
        : `/system.slice/${c.unit}`;
    }
    case 'user':
      return `/user.slice/user-${c.uid}.slice/${c.unit}${c.unit.startsWith('user@') ? '/init.scope' : ''}`;
    case 'docker':
      return `/system.slice/docker-${c.id}.scope`;
    case 'pod': {
      const u = c.pod.replace(/-/g, '_');
      return c.qos === 'guaranteed'
        ? `/kubepods.slice/kubepods-pod${u}.slice/cri-containerd-${c.id}.scope`
        : `/kubepods.slice/kubepods-${c.qos}.slice/kubepods-${c.qos}-pod${u}.slice/cri-containerd-${c.id}.scope`;
    }
  }
}

/** The v1 path of the hierarchies the manager of the cgroup uses (systemd or the cgroupfs driver). */
export function v1Path(c: Placement): string {
  if (c.k === 'docker') return `/docker/${c.id}`;
  if (c.k === 'pod')
    return c.qos === 'guaranteed' ? `/kubepods/pod${c.pod}/${c.id}` : `/kubepods/${c.qos}/pod${c.pod}/${c.id}`;
  return v2Path(c);
}

/** The lines of the file (no newlines). */
export function cgroupLines(c: Placement, version: CgroupVersion): string[] {
  if (version === 2) return [`0::${v2Path(c)}`];
  const p = v1Path(c);
  const container = c.k === 'docker' || c.k === 'pod';
  // Slice-level controllers (no per-unit CPU/IO accounting) and the ones systemd leaves alone.
  const slice = container ? p : c.k === 'svc' ? '/system.slice' : c.k === 'user' ? '/user.slice' : '/';
  const other = container ? p : '/';
  const devices = c.k === 'user' ? '/user.slice' : p;
  return [
    `12:pids:${p}`,
    `11:memory:${p}`,
    `10:devices:${devices}`,
    `9:blkio:${slice}`,
    `8:cpu,cpuacct:${slice}`,
    `7:freezer:${other}`,
    `6:net_cls,net_prio:${other}`,
    `5:perf_event:${other}`,
    `4:cpuset:${other}`,
    `3:hugetlb:${other}`,
    '2:rdma:/',
    `1:name=systemd:${p}`,
  ];
}

export function cgroupText(c: Placement, version: CgroupVersion): string {
  return `${cgroupLines(c, version).join('\n')}\n`;
}

/** The systemd unit a process runs in: the first `.service` of its path, else its `.scope`. */
export function unitOf(c: Placement, version: CgroupVersion): string | null {
  switch (c.k) {
    case 'kernel':
      return null;
    case 'init':
      return 'init.scope';
    case 'svc':
    case 'user':
      return c.unit;
    case 'docker':
      return version === 2 ? `docker-${c.id}.scope` : null;
    case 'pod':
      return version === 2 ? `cri-containerd-${c.id}.scope` : null;
  }
}

export function containerOf(c: Placement): string | null {
  return c.k === 'docker' || c.k === 'pod' ? c.id : null;
}

export function podOf(c: Placement): string | null {
  return c.k === 'pod' ? c.pod : null;
}

/** Whether this process's cgroup file is made unreadable (stable for a pid + start time). */
export function cgroupUnreadable(seed: number, share: number, p: ProcCore): boolean {
  if (!(share > 0) || p.pid <= 2) return false;
  return mixSeed(mixSeed(seed ^ 0x6c67, p.pid), p.starttimeTicks) / 4294967296 < share;
}

export interface CgroupCtx {
  seed: number;
  version: CgroupVersion;
  unreadable: number;
}

/** Write `dir/cgroup`: the file, or a directory for the unreadable share. */
export function writeCgroup(dir: string, p: SynthProc, c: CgroupCtx): void {
  if (cgroupUnreadable(c.seed, c.unreadable, p)) fs.mkdirSync(`${dir}/cgroup`);
  else fs.writeFileSync(`${dir}/cgroup`, cgroupText(p.m.cg ?? KERNEL_CG, c.version));
}

/**
 * Where a new process goes: its own placement if its group gave one, its
 * container's, else its parent's (fork keeps the cgroup). A process started
 * by pid 1 without a unit of its own gets a transient `run-u<pid>.service`.
 */
export function resolvePlacement(
  p: SynthProc,
  own: Placement | undefined,
  nsCg: Placement | undefined,
  parent: SynthProc | undefined,
): Placement {
  if (p.kernel) return KERNEL_CG;
  if (own) return own;
  if (nsCg) return nsCg;
  if (!parent) return INIT_CG;
  if (parent.pid === 1 || !parent.m.cg) return svcCg(`run-u${p.pid}.service`);
  return parent.m.cg;
}

/** A Kubernetes pod uid (a version 4 UUID) from a hex source. */
export function uuidOf(hex32: string): string {
  const h = hex32.slice(0, 32);
  const v = `4${h.slice(13, 16)}`;
  const variant = ((Number.parseInt(h[16], 16) & 0x3) | 0x8).toString(16) + h.slice(17, 20);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${v}-${variant}-${h.slice(20, 32)}`;
}
