/**
 * Group a template's matching processes into instances (a pre-fork server's
 * workers fold into their master) and tie listeners to them by the socket
 * inodes their fds hold.
 */
import type { FdOwners } from './signals/fds.js';
import type { ProcessTable } from './signals/processes.js';
import type { Listener } from './signals/sockets.js';

export interface Instance {
  root: number;
  pids: number[];
}

/**
 * Roots are matching processes with no matching ancestor; every other
 * matching process joins the instance of its nearest matching ancestor.
 */
export function groupInstances(matched: readonly number[], table: ProcessTable): Instance[] {
  const set = new Set(matched);
  const rootOf = new Map<number, number>();
  const find = (pid: number): number => {
    const known = rootOf.get(pid);
    if (known !== undefined) return known;
    let root = pid;
    let cur = table.byPid.get(pid);
    for (let hops = 0; cur && hops < 64; hops++) {
      const parent = cur.ppid;
      if (parent <= 0 || parent === cur.pid) break;
      if (set.has(parent)) root = parent;
      cur = table.byPid.get(parent);
    }
    rootOf.set(pid, root);
    return root;
  };
  const groups = new Map<number, number[]>();
  for (const pid of [...matched].sort((a, b) => a - b)) {
    const r = find(pid);
    const g = groups.get(r);
    if (g) g.push(pid);
    else groups.set(r, [pid]);
  }
  return [...groups].map(([root, pids]) => ({ root, pids })).sort((a, b) => a.root - b.root);
}

/** The listeners any pid of `pids` holds. */
export function ownedListeners(listeners: readonly Listener[], owners: FdOwners, pids: readonly number[]): Listener[] {
  const set = new Set(pids);
  return listeners.filter((l) => owners.owners.get(l.inode)?.some((p) => set.has(p)));
}

/** Listeners no walked process holds. */
export function unownedListeners(listeners: readonly Listener[], owners: FdOwners): Listener[] {
  return listeners.filter((l) => !owners.owners.has(l.inode));
}

/** A stable text for an endpoint: `127.0.0.1:6379`, `[::1]:6379`, `/run/mysqld/mysqld.sock`. */
export function listenerText(l: Pick<Listener, 'transport' | 'address' | 'port' | 'path'>): string {
  if (l.transport === 'unix') return l.path ?? '';
  if (l.address === undefined) return `port ${l.port}`;
  const a = l.address;
  return `${a.includes(':') ? `[${a}]` : a}:${l.port}`;
}
