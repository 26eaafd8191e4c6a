/**
 * Discovery benchmark: a full `discover()` on a synthetic host (the synth
 * generator's procfs tree, 10k processes by default) to which this bench
 * adds what discovery reads beyond /proc/<pid>: /proc/net tables listing
 * every socket fd of the tree (listeners on the usual ports for the
 * synthetic redis, nginx and postgres processes, the rest established or
 * unconnected), this machine's dpkg status database and unit files. Then
 * rendering the Collector config, and how soon a new service is seen.
 *
 *   npm run bench:discovery [-- --processes 10000 --rounds 7 --connections 0,2500,5000]
 *
 * Listening sockets on the live host: the /proc/net text tables (read and
 * parsed) against netlink sock_diag (native/sock_diag.cc), with N extra
 * established loopback connections opened by this bench (2N sockets).
 *
 * Baselines measured in the same run, printed beside each figure:
 *   floor (fds)   readdir + readlink of every /proc/<pid>/fd entry, nothing else
 *   floor (procs) read stat and cmdline and readlink exe of every process
 *   render        YAML stringify of the same config object (what rendering must at least do)
 * and the same discovery on this machine's real /proc.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { ManualClock } from '../src/core/clock.js';
import { renderCollector } from '../src/discovery/collector.js';
import { discover } from '../src/discovery/discover.js';
import { Host, Problems } from '../src/discovery/host.js';
import { Rediscoverer } from '../src/discovery/rediscover.js';
import { readSockDiag } from '../src/discovery/signals/socket-source.js';
import { readSocketTables } from '../src/discovery/signals/sockets.js';
import { loadTemplates } from '../src/discovery/templates/load.js';
import { generateHost } from '../src/harness/synth/index.js';
import { fastTmpDir } from '../src/util/tmp.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const processes = Number(arg('processes', '10000'));
const rounds = Number(arg('rounds', '7'));
const connections = arg('connections', '0,2500,5000').split(',').map(Number);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

const hexV4 = (a: string) =>
  a
    .split('.')
    .map((b) => Number(b).toString(16).padStart(2, '0').toUpperCase())
    .reverse()
    .join('');
const port4 = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');

/** Add /proc/net tables, dpkg and units to a synthetic tree; returns the listener count. */
function dressHost(root: string): { sockets: number; listeners: number } {
  const procRoot = path.join(root, 'proc');
  const byComm = new Map<string, number[]>();
  const inodes: Array<{ pid: number; inode: number }> = [];
  for (const name of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = fs.readFileSync(path.join(procRoot, name, 'stat'), 'latin1');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const list = byComm.get(comm) ?? [];
    list.push(pid);
    byComm.set(comm, list);
    for (const fd of fs.readdirSync(path.join(procRoot, name, 'fd'))) {
      const t = fs.readlinkSync(path.join(procRoot, name, 'fd', fd));
      if (t.startsWith('socket:[')) inodes.push({ pid, inode: Number(t.slice(8, -1)) });
    }
  }
  // the first socket of each matching master listens on the usual port
  const listenerOf = new Map<number, number>();
  const usual: Array<[string, number]> = [
    ['redis-server', 6379],
    ['nginx', 80],
    ['postgres', 5432],
    ['mysqld', 3306],
  ];
  let extraPort = 20000;
  for (const [comm, port] of usual) {
    const pids = (byComm.get(comm) ?? []).slice(0, 4);
    pids.forEach((pid, i) => {
      const s = inodes.find((x) => x.pid === pid);
      if (s) listenerOf.set(s.inode, i === 0 ? port : port + 100 + i);
    });
  }
  // and about 1% of all sockets listen on some other port
  const tcp = ['  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode'];
  const udp = [tcp[0]!];
  const unix = ['Num       RefCount Protocol Flags    Type St Inode Path'];
  const seen = new Set<number>();
  let n = 0;
  let listeners = 0;
  for (const { inode } of inodes) {
    if (seen.has(inode)) continue;
    seen.add(inode);
    const port = listenerOf.get(inode) ?? (n % 100 === 0 ? extraPort++ : undefined);
    const kind = n % 10;
    if (port !== undefined) {
      tcp.push(
        `${String(n).padStart(4)}: ${hexV4('0.0.0.0')}:${port4(port)} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${inode} 1 0 100 0 0 10 0`,
      );
      listeners++;
    } else if (kind < 6) {
      tcp.push(
        `${String(n).padStart(4)}: ${hexV4('10.0.0.5')}:${port4(30000 + (n % 30000))} ${hexV4('10.0.0.9')}:${port4(443)} 01 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 1 0 20 4 30 10 -1`,
      );
    } else if (kind < 7) {
      udp.push(
        `${String(n).padStart(5)}: ${hexV4('10.0.0.5')}:${port4(40000 + (n % 20000))} ${hexV4('10.0.0.53')}:0035 01 00000000:00000000 00:00000000 00000000  1000        0 ${inode} 2 0 0`,
      );
    } else {
      unix.push(
        `0000000000000000: 00000003 00000000 00000000 0001 03 ${inode}${kind === 9 ? ` /run/app/sock-${n}` : ''}`,
      );
    }
    n++;
  }
  fs.mkdirSync(path.join(procRoot, 'net'), { recursive: true });
  fs.writeFileSync(path.join(procRoot, 'net/tcp'), `${tcp.join('\n')}\n`);
  fs.writeFileSync(path.join(procRoot, 'net/tcp6'), `${tcp[0]}\n`);
  fs.writeFileSync(path.join(procRoot, 'net/udp'), `${udp.join('\n')}\n`);
  fs.writeFileSync(path.join(procRoot, 'net/udp6'), `${udp[0]}\n`);
  fs.writeFileSync(path.join(procRoot, 'net/unix'), `${unix.join('\n')}\n`);
  // packages and units as on this machine
  for (const f of ['/var/lib/dpkg/status']) {
    if (!fs.existsSync(f)) continue;
    fs.mkdirSync(path.join(root, path.dirname(f)), { recursive: true });
    fs.copyFileSync(f, path.join(root, f));
  }
  for (const d of ['/lib/systemd/system', '/etc/systemd/system']) {
    if (!fs.existsSync(d)) continue;
    fs.mkdirSync(path.join(root, d), { recursive: true });
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isFile() && /\.(service|socket)$/.test(e.name))
        fs.copyFileSync(path.join(d, e.name), path.join(root, d, e.name));
    }
  }
  return { sockets: seen.size, listeners };
}

/** floor (fds): readdir + readlink of every fd of every process. */
function fdFloor(procRoot: string): number {
  let links = 0;
  for (const name of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const dir = `${procRoot}/${name}/fd`;
    let fds: string[];
    try {
      fds = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const f of fds) {
      try {
        fs.readlinkSync(`${dir}/${f}`);
        links++;
      } catch {
        // closed meanwhile
      }
    }
  }
  return links;
}

/** floor (procs): read stat and cmdline, readlink exe, for every process. */
function procFloor(procRoot: string): number {
  let n = 0;
  for (const name of fs.readdirSync(procRoot)) {
    if (!/^\d+$/.test(name)) continue;
    const dir = `${procRoot}/${name}`;
    try {
      fs.readFileSync(`${dir}/stat`, 'latin1');
      fs.readFileSync(`${dir}/cmdline`, 'latin1');
      fs.readlinkSync(`${dir}/exe`);
      n++;
    } catch {
      // kernel thread or gone
    }
  }
  return n;
}

function time(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}
async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const root = fastTmpDir('nrdot-bench-disc-');
  try {
    const t0 = performance.now();
    await generateHost({ out: path.join(root, 'proc'), processes, seed: 7 });
    const { sockets, listeners } = dressHost(root);
    console.log(
      `synthetic host: ${processes} processes, ${sockets} sockets in /proc/net (${listeners} listening), dpkg status and unit files of this machine; built in ${((performance.now() - t0) / 1000).toFixed(1)} s (tmpfs)`,
    );
    const problems = new Problems();
    const templates = loadTemplates({}, problems);
    const procRoot = path.join(root, 'proc');

    // warm up every path once
    const warm = await discover({ root, templates });
    fdFloor(procRoot);
    procFloor(procRoot);
    console.log(
      `found: ${warm.services.map((s) => `${s.id} (${s.confidence.toFixed(2)})`).join(', ')}; fd dirs walked ${warm.stats.fdWalked}`,
    );

    const full: number[] = [];
    const cold: number[] = [];
    const floorFd: number[] = [];
    const floorProc: number[] = [];
    const phases: Record<string, number[]> = {};
    for (let r = 0; r < rounds; r++) {
      floorFd.push(time(() => fdFloor(procRoot)));
      floorProc.push(time(() => procFloor(procRoot)));
      let res: Awaited<ReturnType<typeof discover>> | undefined;
      full.push(
        await timeAsync(async () => {
          res = await discover({ root, templates });
        }),
      );
      for (const [k, v] of Object.entries(res!.stats.timings)) {
        phases[k] = [...(phases[k] ?? []), v];
      }
      cold.push(await timeAsync(() => discover({ root })));
    }
    const fl = median(floorFd) + median(floorProc);
    console.log('\nfull discovery (median of %d, ms)', rounds);
    console.log(`  discover(), templates loaded once (as Rediscoverer)  ${ms(median(full))}`);
    console.log(`  discover(), loading the templates too                ${ms(median(cold))}`);
    console.log(`  floor (fds): readdir+readlink of every fd             ${ms(median(floorFd))}`);
    console.log(`  floor (procs): stat+cmdline+exe of every process      ${ms(median(floorProc))}`);
    console.log(`  discover() / (floor fds + floor procs)                ${(median(full) / fl).toFixed(2)}x`);
    console.log(
      `  phases: ${Object.entries(phases)
        .map(([k, v]) => `${k} ${ms(median(v))}`)
        .join(', ')}`,
    );

    // rendering
    const rend: number[] = [];
    const base: number[] = [];
    let yamlBytes = 0;
    for (let r = 0; r < rounds * 3; r++) {
      let cfg: Record<string, unknown> = {};
      rend.push(
        time(() => {
          const out = renderCollector(warm, templates);
          cfg = out.config;
          yamlBytes = out.yaml.length;
        }),
      );
      base.push(time(() => stringify(cfg)));
    }
    console.log(`\nrender (median of ${rounds * 3}, ms; ${yamlBytes} bytes of YAML)`);
    console.log(`  renderCollector()                   ${ms(median(rend))}`);
    console.log(
      `  baseline: YAML stringify of config  ${ms(median(base))}  (render / baseline ${(median(rend) / median(base)).toFixed(2)}x)`,
    );

    // a new service: seen at the next run of the Rediscoverer (manual clock: the interval is exact)
    const clock = new ManualClock({ autoAdvance: false });
    const rd = new Rediscoverer({ intervalMs: 30_000, discover: { root }, clock });
    await rd.start();
    const pid = 4_000_000;
    const dir = path.join(procRoot, String(pid));
    fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'stat'),
      `${pid} (memcached) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 1 1 0 0 20 0 1 0 1 1 1 0 0 0\n`,
    );
    fs.writeFileSync(path.join(dir, 'cmdline'), '/usr/bin/memcached\0-p\x0011211\0');
    fs.symlinkSync('socket:[999999999]', path.join(dir, 'fd', '3'));
    fs.appendFileSync(
      path.join(procRoot, 'net/tcp'),
      ` 9999: ${hexV4('127.0.0.1')}:${port4(11211)} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999999999 1 0 100 0 0 10 0\n`,
    );
    const seen = new Promise<number>((resolve) => rd.once('appeared', () => resolve(clock.now())));
    const ran = performance.now();
    clock.advance(30_000);
    const at = await seen;
    const runMs = performance.now() - ran;
    await rd.shutdown();
    console.log(
      `\nnew service: memcached/11211 appeared at t=${at / 1000} s of the manual clock (interval 30 s), the run took ${ms(runMs)} ms`,
    );

    // the real /proc of this machine
    const real: number[] = [];
    const realFd: number[] = [];
    const realProc: number[] = [];
    let realRes: Awaited<ReturnType<typeof discover>> | undefined;
    for (let r = 0; r < rounds; r++) {
      realFd.push(time(() => fdFloor('/proc')));
      realProc.push(time(() => procFloor('/proc')));
      real.push(
        await timeAsync(async () => {
          realRes = await discover({ templates });
        }),
      );
    }
    console.log(
      `\nreal /proc: ${realRes!.stats.processes} processes, ${realRes!.stats.listeners} listeners, ${realRes!.stats.packages} packages: discover ${ms(median(real))} ms; floor fds ${ms(median(realFd))} + procs ${ms(median(realProc))} ms`,
    );
    console.log(
      `  phases: ${Object.entries(realRes!.stats.timings)
        .map(([k, v]) => `${k} ${ms(v)}`)
        .join(', ')}`,
    );

    console.log(`\nlistening sockets on the live host (median of ${rounds * 3}):`);
    for (const n of connections) await socketSources(n);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

/** /proc/net text vs sock_diag on the live host, with `n` loopback connections held open. */
async function socketSources(n: number): Promise<void> {
  const server = net.createServer((c) => c.on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const clients: net.Socket[] = [];
  try {
    for (let i = 0; i < n; i++) {
      await new Promise<void>((resolve, reject) => {
        const c = net.connect(port, '127.0.0.1', () => resolve());
        c.once('error', reject);
        clients.push(c);
      });
    }
    const host = new Host();
    const text: number[] = [];
    const diag: number[] = [];
    let lt = 0;
    let ld = 0;
    for (let r = 0; r < rounds * 3; r++) {
      text.push(time(() => (lt = readSocketTables(host, new Problems()).listeners.length)));
      diag.push(
        await timeAsync(async () => {
          const d = await readSockDiag();
          if (!('listeners' in d)) throw new Error(d.reason);
          ld = d.listeners.length;
        }),
      );
    }
    const lines = fs.readFileSync('/proc/net/tcp', 'latin1').split('\n').length - 2;
    console.log(
      `  ${String(n).padStart(5)} connections (${lines} lines in /proc/net/tcp): /proc/net ${ms(median(text))} ms (${lt} listeners), sock_diag ${ms(median(diag))} ms (${ld}); text / netlink ${(median(text) / median(diag)).toFixed(1)}x`,
    );
  } finally {
    for (const c of clients) c.destroy();
    await new Promise((r) => server.close(r));
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
