/**
 * Listening sockets from the real /proc/net tables: sockets this test opens
 * (TCP on 127.0.0.1 and ::1, UDP, a unix socket) are found with their
 * address and port, and the fd walk ties their inodes to this process.
 */
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Host, Problems } from '../../src/discovery/host.js';
import { newFdOwners, walkProcessFds } from '../../src/discovery/signals/fds.js';
import { readSockDiag, readSockets } from '../../src/discovery/signals/socket-source.js';
import {
  decodeIPv4,
  decodeIPv6,
  parseInetTable,
  parseUnixTable,
  readSocketTables,
} from '../../src/discovery/signals/sockets.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { hasNative, requireNativeAddon } from '../sources/native-helpers.js';
import { hexV4, hexV6 } from './fixture.js';

requireNativeAddon();

const servers: net.Server[] = [];
let udp: dgram.Socket;
let dir: string;
let ports: { v4: number; v6: number; udp: number; sock: string };

const listen = (s: net.Server, arg: net.ListenOptions) =>
  new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(arg, () => resolve());
  });

beforeAll(async () => {
  dir = fastTmpDir('nrdot-sock-');
  const v4 = net.createServer();
  const v6 = net.createServer();
  const ux = net.createServer();
  servers.push(v4, v6, ux);
  await listen(v4, { host: '127.0.0.1', port: 0 });
  await listen(v6, { host: '::1', port: 0, ipv6Only: true });
  const sock = path.join(dir, 'test.sock');
  await listen(ux, { path: sock });
  udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  ports = {
    v4: (v4.address() as net.AddressInfo).port,
    v6: (v6.address() as net.AddressInfo).port,
    udp: udp.address().port,
    sock,
  };
});

afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  udp?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the real /proc/net tables', () => {
  it('list the sockets this process listens on, and the fd walk ties each to this pid', () => {
    const host = new Host();
    const problems = new Problems();
    const { listeners } = readSocketTables(host, problems);
    expect(problems.list).toEqual([]);
    const find = (pred: (l: (typeof listeners)[number]) => boolean) => {
      const l = listeners.find(pred);
      expect(l).toBeDefined();
      return l!;
    };
    const a = find((l) => l.transport === 'tcp' && l.address === '127.0.0.1' && l.port === ports.v4);
    const b = find((l) => l.transport === 'tcp' && l.address === '::1' && l.port === ports.v6);
    const c = find((l) => l.transport === 'udp' && l.address === '127.0.0.1' && l.port === ports.udp);
    const d = find((l) => l.transport === 'unix' && l.path === ports.sock);
    const owners = newFdOwners();
    walkProcessFds(host, process.pid, owners);
    for (const l of [a, b, c, d]) expect(owners.owners.get(l.inode)).toEqual([process.pid]);
  });
});

describe.skipIf(!hasNative)('netlink sock_diag (native/sock_diag.cc)', () => {
  it('returns the same listeners as the /proc/net tables', async () => {
    const diag = await readSockDiag();
    if (!('listeners' in diag)) throw new Error(diag.reason);
    const problems = new Problems();
    const text = readSocketTables(new Host(), problems).listeners;
    const key = (l: { transport: string; address?: string; port?: number; path?: string; inode: number }) =>
      `${l.transport} ${l.address ?? ''} ${l.port ?? ''} ${l.path ?? ''} ${l.inode}`;
    // both include this test's sockets
    for (const want of [
      `tcp 127.0.0.1 ${ports.v4}`,
      `tcp ::1 ${ports.v6}`,
      `udp 127.0.0.1 ${ports.udp}`,
      `unix   ${ports.sock}`,
    ]) {
      expect(diag.listeners.map(key).some((k) => k.startsWith(want))).toBe(true);
    }
    // and agree on everything (the two reads are a moment apart: compare the sockets this process holds)
    const owners = newFdOwners();
    const mine = new Set(walkProcessFds(new Host(), process.pid, owners));
    const ours = (ls: typeof text) =>
      ls
        .filter((l) => mine.has(l.inode))
        .map(key)
        .sort();
    expect(ours(diag.listeners)).toEqual(ours(text));
    expect(ours(text).length).toBeGreaterThanOrEqual(4);
  });

  it('is what auto uses on the live host, and never under another root', async () => {
    const problems = new Problems();
    expect((await readSockets(new Host(), problems, 'auto')).source).toBe('sock_diag');
    const other = new Host({ root: dir });
    fs.mkdirSync(path.join(dir, 'proc/net'), { recursive: true });
    expect((await readSockets(other, problems, 'auto')).source).toBe('procfs');
    await expect(readSockets(other, problems, 'sock_diag')).rejects.toThrow(/sock_diag reads the live host only/);
  });
});

describe('parsers', () => {
  it('decode addresses the way the kernel prints them', () => {
    expect(decodeIPv4('0100007F')).toBe('127.0.0.1');
    expect(decodeIPv4('00000000')).toBe('0.0.0.0');
    expect(decodeIPv4(hexV4('10.1.2.3'))).toBe('10.1.2.3');
    expect(decodeIPv6('00000000000000000000000001000000')).toBe('::1');
    expect(decodeIPv6('00000000000000000000000000000000')).toBe('::');
    expect(decodeIPv6('0000000000000000FFFF00000100007F')).toBe('::ffff:127.0.0.1');
    expect(decodeIPv6(hexV6('fe80::1:2'))).toBe('fe80::1:2');
    expect(decodeIPv6(hexV6('2001:db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(decodeIPv4('XYZ')).toBeUndefined();
  });

  it('keep TCP sockets in LISTEN only and UDP sockets without a peer', () => {
    const problems = new Problems();
    const tcp = [
      '  sl  local_address rem_address   st ...',
      '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1 0',
      '   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 112 1 0',
    ].join('\n');
    expect(parseInetTable(tcp, 'tcp', 'tcp', false, problems)).toEqual([
      { transport: 'tcp', address: '127.0.0.1', port: 8080, inode: 111, uid: 0 },
    ]);
    const udp = [
      '   sl  local_address rem_address   st ...',
      '  10: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 210 2 0',
      '  11: 0100007F:A000 0100007F:0035 01 00000000:00000000 00:00000000 00000000     0        0 211 2 0',
    ].join('\n');
    expect(parseInetTable(udp, 'udp', 'udp', false, problems).map((l) => l.port)).toEqual([68]);
    expect(problems.list).toEqual([]);
  });

  it('keep unix sockets that accept connections, with paths that hold spaces', () => {
    const problems = new Problems();
    const text = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 301 /run/my app/app.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03 302 /run/my app/app.sock',
      '0000000000000000: 00000002 00000000 00000000 0002 01 303 /run/systemd/journal/dev-log',
      '0000000000000000: 00000003 00000000 00000000 0001 03 304',
      'garbage',
    ].join('\n');
    expect(parseUnixTable(text, '/proc/net/unix', problems)).toEqual([
      { transport: 'unix', path: '/run/my app/app.sock', inode: 301 },
      { transport: 'unix', path: '/run/systemd/journal/dev-log', inode: 303 },
    ]);
    expect(problems.list).toEqual([
      { kind: 'malformed', file: '/proc/net/unix', line: 6, message: 'malformed unix socket line; skipped: garbage' },
    ]);
  });
});
