/**
 * Where listening sockets come from.
 *
 * - `sock_diag`: netlink NETLINK_SOCK_DIAG through the native addon
 *   (native/sock_diag.cc). The kernel filters by state, so only listeners
 *   are returned however many connections the host has. Live host only
 *   (netlink sees this process's network namespace, like /proc/net).
 * - `procfs`: the /proc/net text tables (sockets.ts). Every socket is
 *   printed and parsed; works under any --root.
 * - `auto`: sock_diag on the live host when the addon has it, else procfs.
 *
 * docs/BENCHMARKS.md ("Service discovery") has the measurement.
 */
import { errnoOf } from '../../core/errors.js';
import { loadAddon } from '../../sources/native/loader.js';
import type { Host, Problems } from '../host.js';
import { type Listener, readSocketTables } from './sockets.js';

export const SOCKET_BACKENDS = ['auto', 'procfs', 'sock_diag'] as const;
export type SocketBackend = (typeof SOCKET_BACKENDS)[number];

export interface SocketRead {
  listeners: Listener[];
  source: 'procfs' | 'sock_diag';
  /** why sock_diag was not used, when auto fell back */
  note?: string;
}

/** The addon's sock_diag dump, or why it cannot be used. */
export async function readSockDiag(): Promise<{ listeners: Listener[] } | { reason: string }> {
  const load = loadAddon();
  if (!load.ok) return { reason: load.reason };
  if (typeof load.addon.listeningSockets !== 'function') {
    return { reason: `${load.file} has no sock_diag reader; rebuild it with \`npm run build:native\`` };
  }
  try {
    const raw = await load.addon.listeningSockets();
    return {
      listeners: raw.map((r) =>
        r.transport === 'unix'
          ? { transport: 'unix', path: r.path, inode: r.inode }
          : { transport: r.transport, address: r.address, port: r.port, inode: r.inode, uid: r.uid },
      ),
    };
  } catch (e) {
    return { reason: `netlink sock_diag failed (${errnoOf(e) ?? (e as Error).message})` };
  }
}

export async function readSockets(host: Host, problems: Problems, backend: SocketBackend): Promise<SocketRead> {
  const live = host.live && host.procRoot === '/proc';
  if (backend !== 'procfs') {
    if (backend === 'sock_diag' && !live) {
      throw new Error(`sockets: sock_diag reads the live host only, not ${host.procRoot}`);
    }
    if (live) {
      const r = await readSockDiag();
      if ('listeners' in r) return { listeners: r.listeners, source: 'sock_diag' };
      if (backend === 'sock_diag') throw new Error(`sockets: ${r.reason}`);
      return { listeners: readSocketTables(host, problems).listeners, source: 'procfs', note: r.reason };
    }
  }
  return { listeners: readSocketTables(host, problems).listeners, source: 'procfs' };
}
