/**
 * Listening sockets from the /proc/net text tables: tcp and tcp6 in LISTEN,
 * udp and udp6 bound with no peer, unix sockets accepting connections. Each
 * carries its inode, which ties it to a process through /proc/<pid>/fd.
 * The parsers are pure; a malformed line is reported (file and line) and
 * skipped.
 */
import type { Host, Problems } from '../host.js';

export interface Listener {
  transport: 'tcp' | 'udp' | 'unix';
  /** printable address: 127.0.0.1, ::1, 0.0.0.0, :: */
  address?: string;
  port?: number;
  /** unix: the socket path (`@name` for the abstract namespace) */
  path?: string;
  inode: number;
  uid?: number;
}

const TCP_LISTEN = 0x0a;
const TCP_CLOSE = 0x07;
/** __SO_ACCEPTCON in /proc/net/unix Flags: the socket listens */
const SO_ACCEPTCON = 0x10000;
const HEX = /^[0-9A-Fa-f]+$/;

/** An IPv4 address as /proc/net/tcp prints it: the 32-bit value in host (little-endian) order. */
export function decodeIPv4(hex: string): string | undefined {
  if (hex.length !== 8 || !HEX.test(hex)) return undefined;
  const b = [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return `${b[3]}.${b[2]}.${b[1]}.${b[0]}`;
}

/** An IPv6 address: four 32-bit words, each in host order; printed in RFC 5952 short form. */
export function decodeIPv6(hex: string): string | undefined {
  if (hex.length !== 32 || !HEX.test(hex)) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let i = 3; i >= 0; i--) bytes.push(Number.parseInt(word.slice(i * 2, i * 2 + 2), 16));
  }
  // v4-mapped ::ffff:a.b.c.d
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  // longest run of zero groups (length >= 2) becomes ::
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexes = groups.map((g) => g.toString(16));
  if (best < 0) return hexes.join(':');
  return `${hexes.slice(0, best).join(':')}::${hexes.slice(best + bestLen).join(':')}`;
}

/** The 4th space-separated field of a line, or undefined. */
function fourthField(line: string): string | undefined {
  let i = 0;
  const n = line.length;
  for (let f = 0; f < 3; f++) {
    while (i < n && line.charCodeAt(i) === 32) i++;
    while (i < n && line.charCodeAt(i) !== 32) i++;
  }
  while (i < n && line.charCodeAt(i) === 32) i++;
  const start = i;
  while (i < n && line.charCodeAt(i) !== 32) i++;
  return i > start ? line.slice(start, i) : undefined;
}

/**
 * Parse one of /proc/net/{tcp,tcp6,udp,udp6}: the listening (tcp) or bound
 * unconnected (udp) sockets. `file` names the table in problems.
 */
export function parseInetTable(
  text: string,
  file: string,
  transport: 'tcp' | 'udp',
  v6: boolean,
  problems: Problems,
): Listener[] {
  const out: Listener[] = [];
  const lines = text.split('\n');
  const want = transport === 'tcp' ? '0A' : '07';
  for (let n = 0; n < lines.length; n++) {
    const raw = lines[n]!;
    // Fast path: most lines are connections. Their 4th field (the state) is two hex digits
    // other than the listening state; those are skipped without splitting the line.
    const st = fourthField(raw);
    if (st !== undefined && st.length === 2 && st !== want && HEX.test(st)) continue;
    const line = raw.trim();
    if (line === '' || (n === 0 && line.startsWith('sl'))) continue;
    const f = line.split(/\s+/);
    const bad = (why: string) =>
      problems.malformed(file, n + 1, `malformed socket line (${why}); skipped: ${line.slice(0, 80)}`);
    if (f.length < 10 || !/^\d+:$/.test(f[0]!)) {
      bad(`expected at least 10 fields starting with 'N:', got ${f.length}`);
      continue;
    }
    const local = f[1]!.split(':');
    const remote = f[2]!.split(':');
    const addrLen = v6 ? 32 : 8;
    if (local.length !== 2 || local[0]!.length !== addrLen || !HEX.test(local[1]!) || remote.length !== 2) {
      bad(`local address '${f[1]}' is not ${addrLen} hex digits, ':', a hex port`);
      continue;
    }
    if (!HEX.test(f[3]!) || !/^\d+$/.test(f[9]!) || !/^\d+$/.test(f[7]!)) {
      bad('state must be hex, uid and inode decimal');
      continue;
    }
    const state = Number.parseInt(f[3]!, 16);
    const remotePort = Number.parseInt(remote[1]!, 16);
    const listening = transport === 'tcp' ? state === TCP_LISTEN : state === TCP_CLOSE && remotePort === 0;
    if (!listening) continue;
    const address = v6 ? decodeIPv6(local[0]!) : decodeIPv4(local[0]!);
    if (address === undefined) {
      bad(`local address '${local[0]}' is not hex`);
      continue;
    }
    out.push({
      transport,
      address,
      port: Number.parseInt(local[1]!, 16),
      inode: Number(f[9]),
      uid: Number(f[7]),
    });
  }
  return out;
}

/** Parse /proc/net/unix: the sockets that accept connections (and datagram sockets bound to a path). */
export function parseUnixTable(text: string, file: string, problems: Problems): Listener[] {
  const out: Listener[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.trim() === '' || (n === 0 && line.startsWith('Num'))) continue;
    // Num: RefCount Protocol Flags Type St Inode [Path]; the path may hold spaces
    const m =
      /^\s*([0-9A-Fa-f]+):\s+([0-9A-Fa-f]+)\s+([0-9A-Fa-f]+)\s+([0-9A-Fa-f]+)\s+([0-9A-Fa-f]+)\s+([0-9A-Fa-f]+)\s+(\d+)(?: (.*))?$/.exec(
        line,
      );
    if (!m) {
      problems.malformed(file, n + 1, `malformed unix socket line; skipped: ${line.slice(0, 80)}`);
      continue;
    }
    const flags = Number.parseInt(m[4]!, 16);
    const type = Number.parseInt(m[5]!, 16);
    const path = m[8]?.trim();
    if (!path) continue;
    // SOCK_STREAM/SEQPACKET listening, or SOCK_DGRAM bound to a path (syslog-style)
    const listening = (flags & SO_ACCEPTCON) !== 0 || type === 2;
    if (!listening) continue;
    out.push({ transport: 'unix', path, inode: Number(m[7]) });
  }
  return out;
}

export interface SocketTables {
  listeners: Listener[];
}

const TABLES: Array<{ name: string; transport: 'tcp' | 'udp'; v6: boolean }> = [
  { name: 'tcp', transport: 'tcp', v6: false },
  { name: 'tcp6', transport: 'tcp', v6: true },
  { name: 'udp', transport: 'udp', v6: false },
  { name: 'udp6', transport: 'udp', v6: true },
];

/** Read every table of `<procRoot>/net`. A missing table (no IPv6) is not a problem. */
export function readSocketTables(host: Host, problems: Problems): SocketTables {
  const listeners: Listener[] = [];
  for (const t of TABLES) {
    const file = host.proc(`net/${t.name}`);
    const text = host.readReal(file, file, problems);
    if (text !== undefined) listeners.push(...parseInetTable(text, file, t.transport, t.v6, problems));
  }
  const ufile = host.proc('net/unix');
  const utext = host.readReal(ufile, ufile, problems);
  if (utext !== undefined) listeners.push(...parseUnixTable(utext, ufile, problems));
  return { listeners };
}
