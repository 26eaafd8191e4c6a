/**
 * A host root written by a test, in the real formats: proc/<pid>/{stat,
 * cmdline, exe, cwd, cgroup, fd/}, proc/net/{tcp,tcp6,udp,udp6,unix}, and
 * any other file (configs, the dpkg status database, unit files). `nrdot
 * discover --root` reads it as it reads the live host.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fastTmpDir } from '../../src/util/tmp.js';

export interface FixtureProc {
  pid: number;
  ppid?: number;
  comm: string;
  argv: string[];
  exe?: string;
  cwd?: string;
  /** cgroup v2 path, e.g. /system.slice/mysql.service */
  cgroup?: string;
  /** socket inodes this process holds as fds (plus a few ordinary files) */
  sockets?: number[];
}

export interface FixtureListener {
  transport: 'tcp' | 'udp';
  address: string; // 127.0.0.1, 0.0.0.0, ::1, ::
  port: number;
  inode: number;
}

/** /proc/net/tcp's address: the 32-bit value in little-endian order. */
export function hexV4(addr: string): string {
  return addr
    .split('.')
    .map((b) => Number(b).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
}

/** /proc/net/tcp6's address: four 32-bit words, each little-endian. */
export function hexV6(addr: string): string {
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const bytes = groups.flatMap((g) => {
    const v = Number.parseInt(g || '0', 16);
    return [v >> 8, v & 0xff];
  });
  let out = '';
  for (let w = 0; w < 4; w++) {
    for (let i = 3; i >= 0; i--) out += bytes[w * 4 + i]!.toString(16).padStart(2, '0').toUpperCase();
  }
  return out;
}

function inetLine(i: number, l: FixtureListener): string {
  const v6 = l.address.includes(':');
  const a = v6 ? hexV6(l.address) : hexV4(l.address);
  const zero = v6 ? '0'.repeat(32) : '00000000';
  const state = l.transport === 'tcp' ? '0A' : '07';
  const port = l.port.toString(16).toUpperCase().padStart(4, '0');
  return `${String(i).padStart(4)}: ${a}:${port} ${zero}:0000 ${state} 00000000:00000000 00:00000000 00000000   100        0 ${l.inode} 1 0000000000000000 100 0 0 10 0`;
}

const TCP_HEADER = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';
const UNIX_HEADER = 'Num       RefCount Protocol Flags    Type St Inode Path';

export class HostFixture {
  readonly root: string;
  private readonly listeners: FixtureListener[] = [];
  private readonly unix: Array<{ path: string; inode: number; listening: boolean }> = [];

  constructor(prefix = 'nrdot-disc-') {
    this.root = fastTmpDir(prefix);
    fs.mkdirSync(path.join(this.root, 'proc/net'), { recursive: true });
    for (const f of ['uptime', 'stat', 'meminfo']) fs.writeFileSync(path.join(this.root, 'proc', f), '');
    this.flushNet();
  }

  /** Write a file under the root (a host path), creating its directory. */
  file(hostPath: string, text: string, mode?: number): this {
    const p = path.join(this.root, hostPath);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, text);
    if (mode !== undefined) fs.chmodSync(p, mode);
    return this;
  }

  symlink(hostPath: string, target: string): this {
    const p = path.join(this.root, hostPath);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.rmSync(p, { force: true });
    fs.symlinkSync(target, p);
    return this;
  }

  proc(p: FixtureProc): this {
    const dir = path.join(this.root, 'proc', String(p.pid));
    fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
    const ppid = p.ppid ?? 1;
    fs.writeFileSync(
      path.join(dir, 'stat'),
      `${p.pid} (${p.comm}) S ${ppid} ${p.pid} ${p.pid} 0 -1 4194560 1200 0 3 0 150 40 0 0 20 0 4 0 5000 250000000 3000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 2 0 0\n`,
    );
    fs.writeFileSync(path.join(dir, 'cmdline'), `${p.argv.join('\0')}\0`);
    if (p.exe) fs.symlinkSync(p.exe, path.join(dir, 'exe'));
    if (p.cwd) fs.symlinkSync(p.cwd, path.join(dir, 'cwd'));
    fs.writeFileSync(path.join(dir, 'cgroup'), `0::${p.cgroup ?? '/user.slice'}\n`);
    const fds = ['/dev/null', '/dev/null', '/dev/null', ...(p.sockets ?? []).map((i) => `socket:[${i}]`)];
    for (const [i, t] of fds.entries()) fs.symlinkSync(t, path.join(dir, 'fd', String(i)));
    return this;
  }

  listen(l: FixtureListener): this {
    this.listeners.push(l);
    this.flushNet();
    return this;
  }

  /** Close a listener (its line leaves /proc/net). */
  unlisten(inode: number): this {
    const i = this.listeners.findIndex((l) => l.inode === inode);
    if (i >= 0) this.listeners.splice(i, 1);
    this.flushNet();
    return this;
  }

  unixSocket(socketPath: string, inode: number, listening = true): this {
    this.unix.push({ path: socketPath, inode, listening });
    this.flushNet();
    return this;
  }

  /** Replace one /proc/net table with raw text (malformed-input tests). */
  rawNet(table: 'tcp' | 'tcp6' | 'udp' | 'udp6' | 'unix', text: string): this {
    fs.writeFileSync(path.join(this.root, 'proc/net', table), text);
    return this;
  }

  dpkg(packages: Array<{ name: string; version: string; status?: string }>, tail = ''): this {
    const text = packages
      .map(
        (p) =>
          `Package: ${p.name}\nStatus: ${p.status ?? 'install ok installed'}\nPriority: optional\nArchitecture: amd64\nVersion: ${p.version}\nDescription: ${p.name}\n the ${p.name} package\n`,
      )
      .join('\n');
    return this.file('/var/lib/dpkg/status', text + (tail ? `\n${tail}` : ''));
  }

  unit(name: string, execStart: string, enabled = true): this {
    this.file(`/lib/systemd/system/${name}`, `[Unit]\nDescription=${name}\n\n[Service]\nExecStart=${execStart}\n`);
    if (enabled) this.symlink(`/etc/systemd/system/multi-user.target.wants/${name}`, `/lib/systemd/system/${name}`);
    return this;
  }

  private flushNet(): void {
    const net = path.join(this.root, 'proc/net');
    const of = (transport: 'tcp' | 'udp', v6: boolean) =>
      [
        TCP_HEADER,
        ...this.listeners
          .filter((l) => l.transport === transport && l.address.includes(':') === v6)
          .map((l, i) => inetLine(i, l)),
      ].join('\n') + '\n';
    fs.writeFileSync(path.join(net, 'tcp'), of('tcp', false));
    fs.writeFileSync(path.join(net, 'tcp6'), of('tcp', true));
    fs.writeFileSync(path.join(net, 'udp'), of('udp', false));
    fs.writeFileSync(path.join(net, 'udp6'), of('udp', true));
    const unix = this.unix.map(
      (u) =>
        `0000000000000000: 00000002 00000000 ${u.listening ? '00010000' : '00000000'} 0001 01 ${u.inode} ${u.path}`,
    );
    fs.writeFileSync(path.join(net, 'unix'), `${[UNIX_HEADER, ...unix].join('\n')}\n`);
  }

  remove(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
