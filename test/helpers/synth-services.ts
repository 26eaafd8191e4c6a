/**
 * A synthetic host root for discovery through the agent: the generator's
 * procfs tree under <root>/proc, plus /proc/net tables in which the first
 * redis-server and nginx masters of the tree listen (on the socket inode of
 * their first socket fd), so that discovery finds them with a listener, as
 * on a real host. Everything else of the root (/etc, dpkg) is empty.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { generateHost, type SynthTruth } from '../../src/harness/synth/index.js';
import { hexV4 } from '../discovery/fixture.js';

export interface SynthService {
  comm: string;
  pid: number;
  port: number;
  /** pids of its tree (the master and its same-named children) */
  pids: number[];
}

const HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

function firstSocket(procRoot: string, pid: number): number {
  const dir = path.join(procRoot, String(pid), 'fd');
  for (const fd of fs.readdirSync(dir).sort((a, b) => Number(a) - Number(b))) {
    const t = fs.readlinkSync(path.join(dir, fd));
    if (t.startsWith('socket:[')) return Number(t.slice(8, -1));
  }
  throw new Error(`synthetic pid ${pid} holds no socket`);
}

export async function synthServiceHost(
  root: string,
  o: { processes: number; seed: number; listen?: Array<[comm: string, port: number]> },
): Promise<{ procRoot: string; truth: SynthTruth; services: SynthService[] }> {
  const procRoot = path.join(root, 'proc');
  const truth = await generateHost({ out: procRoot, processes: o.processes, seed: o.seed });
  const services: SynthService[] = [];
  const lines = [HEADER];
  for (const [comm, port] of o.listen ?? [
    ['redis-server', 6379],
    ['nginx', 8080],
  ]) {
    const master = truth.processes.find(
      (p) => p.comm === comm && !truth.processes.some((q) => q.pid === p.ppid && q.comm === comm),
    );
    if (!master) throw new Error(`the synthetic host (seed ${o.seed}) has no ${comm}`);
    const inode = firstSocket(procRoot, master.pid);
    const p4 = port.toString(16).toUpperCase().padStart(4, '0');
    lines.push(
      `${String(lines.length - 1).padStart(4)}: ${hexV4('127.0.0.1')}:${p4} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0 100 0 0 10 0`,
    );
    const pids = [
      master.pid,
      ...truth.processes.filter((p) => p.ppid === master.pid && p.comm === comm).map((p) => p.pid),
    ];
    services.push({ comm, pid: master.pid, port, pids });
  }
  const net = path.join(procRoot, 'net');
  fs.mkdirSync(net, { recursive: true });
  fs.writeFileSync(path.join(net, 'tcp'), `${lines.join('\n')}\n`);
  for (const t of ['tcp6', 'udp', 'udp6']) fs.writeFileSync(path.join(net, t), `${HEADER}\n`);
  fs.writeFileSync(path.join(net, 'unix'), 'Num       RefCount Protocol Flags    Type St Inode Path\n');
  return { procRoot, truth, services };
}
