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
  /** socket inode → pids holding it (a pre-fork server's workers share the listener); every socket of every walked process */
  owners: Map<number, number[]>;
  walked: Set<number>;
  denied: Set<number>;
}

export function newFdOwners(): FdOwners {
  return { owners: new Map(), walked: new Set(), denied: new Set() };
}

const SOCKET_PREFIX = 'socket:[';

/** Walk one process's fd directory (once); record the owner of every socket it holds. */
export function walkProcessFds(host: Host, pid: number, into: FdOwners): number[] {
  const found: number[] = [];
  if (into.walked.has(pid) || into.denied.has(pid)) return found;
  const dir = host.proc(`${pid}/fd`);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'EACCES' || code === 'EPERM') into.denied.add(pid);
    return found;
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
    found.push(inode);
    const list = into.owners.get(inode);
    if (list) list.push(pid);
    else into.owners.set(inode, [pid]);
  }
  return found;
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
  const missing = new Set([...wanted].filter((i) => !into.owners.has(i)));
  for (let k = 0; k < pids.length && missing.size > 0; k++) {
    if (k > 0 && k % YIELD_EVERY === 0) await yieldNow();
    walkOne(host, pids[k]!, missing, into);
  }
}

/** The same, synchronously (a few inodes asked for during correlation). */
export function walkUntilOwnedSync(
  host: Host,
  pids: readonly number[],
  wanted: Iterable<number>,
  into: FdOwners,
): void {
  const missing = new Set([...wanted].filter((i) => !into.owners.has(i)));
  for (let k = 0; k < pids.length && missing.size > 0; k++) walkOne(host, pids[k]!, missing, into);
}

function walkOne(host: Host, pid: number, missing: Set<number>, into: FdOwners): void {
  if (into.walked.has(pid) || into.denied.has(pid)) return;
  for (const i of walkProcessFds(host, pid, into)) missing.delete(i);
}
