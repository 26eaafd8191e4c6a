/**
 * Where listening sockets come from. `procfs` parses the /proc/net text
 * tables (works under any --root). See docs/ARCHITECTURE.md, "Service
 * discovery", for the netlink sock_diag measurement.
 */
import type { Host, Problems } from '../host.js';
import { type Listener, readSocketTables } from './sockets.js';

export type SocketBackend = 'auto' | 'procfs';

export async function readSockets(
  host: Host,
  problems: Problems,
  _backend: SocketBackend,
): Promise<{ listeners: Listener[]; source: 'procfs' | 'sock_diag' }> {
  return { listeners: readSocketTables(host, problems).listeners, source: 'procfs' };
}
