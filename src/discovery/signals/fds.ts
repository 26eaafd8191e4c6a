/**
 * Tie socket inodes to processes: readdir `/proc/<pid>/fd` and readlink each
 * entry; a socket reads `socket:[<inode>]`. Other users' fd directories need
 * CAP_SYS_PTRACE (or CAP_DAC_READ_SEARCH): those are counted as denied, and
 * their sockets stay without an owner.
 */
import * as fs from 'node:fs';
import { errnoOf } from '../../core/errors.js';
import type { Host } from '../host.js';
import { YIELD_EVERY, yieldNow } from './processes.js';

export interface FdOwners {
  /** socket inode → pids holding it (a pre-fork server's workers share the listener) */
  owners: Map<number, number[]>;
  walked: Set<number>;
  denied: Set<number>;
}

export function newFdOwners(): FdOwners {
  return { owners: new Map(), walked: new Set(), denied: new Set() };
}

const SOCKET_PREFIX = 'socket:[';

/** Walk one process's fd directory; record the owners of the `wanted` inodes. */
export function walkProcessFds(host: Host, pid: number, wanted: ReadonlySet<number>, into: FdOwners): void {
  if (into.walked.has(pid) || into.denied.has(pid)) return;
  const dir = host.proc(`${pid}/fd`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'EACCES' || code === 'EPERM') into.denied.add(pid);
    return;
  }
  into.walked.add(pid);
  for (const n of names) {
    let target: string;
    try {
      target = fs.readlinkSync(`${dir}/${n}`);
    } catch {
      continue; // closed meanwhile
    }
    if (!target.startsWith(SOCKET_PREFIX)) continue;
    const inode = Number(target.slice(SOCKET_PREFIX.length, -1));
    if (!wanted.has(inode)) continue;
    const list = into.owners.get(inode);
    if (list) list.push(pid);
    else into.owners.set(inode, [pid]);
  }
}

/**
 * Walk `pids` in order until every wanted inode has an owner (or the list
 * ends). Yields to the event loop now and then.
 */
export async function walkUntilOwned(
  host: Host,
  pids: readonly number[],
  wanted: ReadonlySet<number>,
  into: FdOwners,
): Promise<void> {
  let missing = 0;
  for (const i of wanted) if (!into.owners.has(i)) missing++;
  for (let k = 0; k < pids.length && missing > 0; k++) {
    if (k > 0 && k % YIELD_EVERY === 0) {
      await yieldNow();
      missing = 0;
      for (const i of wanted) if (!into.owners.has(i)) missing++;
    }
    const before = into.owners.size;
    walkProcessFds(host, pids[k]!, wanted, into);
    missing -= into.owners.size - before;
  }
}
