/**
 * A strict reader of `/proc/<pid>/cgroup` for tests (cgroups(7)): lines of
 * `hierarchy-ID:controller-list:cgroup-path`, each ending in a newline.
 * v2: exactly one line, `0::/path`. v1: hierarchy ids > 0, each controller
 * in one hierarchy only, one `name=systemd` hierarchy. Returns the entries,
 * or throws with what is wrong.
 */

export interface CgroupEntry {
  id: number;
  controllers: string[];
  path: string;
}

const V1_CONTROLLERS = new Set([
  'cpuset',
  'cpu',
  'cpuacct',
  'blkio',
  'io',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
]);

export function parseCgroupFile(text: string, version: 1 | 2): CgroupEntry[] {
  if (!text.endsWith('\n')) throw new Error('the file does not end with a newline');
  const out: CgroupEntry[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const a = line.indexOf(':');
    const b = a < 0 ? -1 : line.indexOf(':', a + 1);
    if (a <= 0 || b < 0) throw new Error(`not id:controllers:path: ${JSON.stringify(line)}`);
    const idText = line.slice(0, a);
    if (!/^\d+$/.test(idText)) throw new Error(`hierarchy id is not a number: ${JSON.stringify(line)}`);
    const path = line.slice(b + 1);
    if (!path.startsWith('/')) throw new Error(`path is not absolute: ${JSON.stringify(line)}`);
    if (path.length > 1 && path.endsWith('/')) throw new Error(`path ends with a slash: ${JSON.stringify(line)}`);
    if (path.includes('//')) throw new Error(`empty path component: ${JSON.stringify(line)}`);
    const list = line.slice(a + 1, b);
    out.push({ id: Number(idText), controllers: list === '' ? [] : list.split(','), path });
  }
  if (version === 2) {
    if (out.length !== 1 || out[0].id !== 0 || out[0].controllers.length !== 0)
      throw new Error(`a cgroup v2 file is one "0::/path" line, got ${JSON.stringify(text)}`);
    return out;
  }
  const ids = new Set<number>();
  const seen = new Set<string>();
  let named = 0;
  for (const e of out) {
    if (e.id === 0) throw new Error('a legacy (v1) file has no unified "0::" line');
    if (ids.has(e.id)) throw new Error(`hierarchy ${e.id} listed twice`);
    ids.add(e.id);
    if (e.controllers.length === 0) throw new Error(`hierarchy ${e.id} has no controller`);
    for (const c of e.controllers) {
      if (c.startsWith('name=')) {
        if (c === 'name=systemd') named++;
        continue;
      }
      if (!V1_CONTROLLERS.has(c)) throw new Error(`unknown controller ${c}`);
      if (seen.has(c)) throw new Error(`controller ${c} in two hierarchies`);
      seen.add(c);
    }
  }
  if (named !== 1) throw new Error('a legacy file has exactly one name=systemd hierarchy');
  return out;
}

const HEX64 = '[0-9a-f]{64}';
const UID_ = '[0-9a-f]{8}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{4}_[0-9a-f]{12}';
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** A unit name: letters, digits, `:-_.\@` and systemd's `\x2d` escapes. */
const UNIT = '(?:[A-Za-z0-9:_.@-]|\\\\x[0-9a-f]{2})+';

/** Paths systemd (v2, and v1's systemd-managed hierarchies) and the container runtimes create. */
export const SYSTEMD_PATH = new RegExp(
  [
    '^/$',
    '^/init\\.scope$',
    `^/system\\.slice/(?:system-${UNIT}\\.slice/)?${UNIT}\\.(?:service|scope)$`,
    `^/user\\.slice/user-\\d+\\.slice/(?:session-\\d+\\.scope|user@\\d+\\.service/init\\.scope)$`,
    `^/kubepods\\.slice/(?:kubepods-(burstable|besteffort)\\.slice/kubepods-\\1-pod${UID_}\\.slice|kubepods-pod${UID_}\\.slice)/cri-containerd-${HEX64}\\.scope$`,
  ].join('|'),
);

/** Paths of the cgroupfs driver (v1 containers). */
export const CGROUPFS_PATH = new RegExp(
  `^/docker/${HEX64}$|^/kubepods/(?:(?:burstable|besteffort)/)?pod${UUID}/${HEX64}$`,
);
