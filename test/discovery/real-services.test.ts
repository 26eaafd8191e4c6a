/**
 * Real Redis and NGINX from Debian (apt packages redis-server and nginx;
 * .ci/run installs them), each started here on loopback on a free
 * non-default port with its own config file in a temp dir. `nrdot discover`
 * must find each with its real port, pid and config path; the rendered
 * Collector config must point at endpoints that answer (PING, stub_status);
 * --diff must see NGINX go away; and without root the same discovery still
 * finds Redis and says what it could not read.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { DiscoveredService, DiscoveryResult } from '../../src/discovery/types.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';
import { closedPort } from '../helpers/loopback-http.js';

const REDIS = '/usr/bin/redis-server';
const NGINX = '/usr/sbin/nginx';
const noRedis = !fs.existsSync(REDIS);
const noNginx = !fs.existsSync(NGINX);
for (const [missing, bin, pkg] of [
  [noRedis, REDIS, 'redis-server'],
  [noNginx, NGINX, 'nginx'],
] as const) {
  if (missing) {
    console.warn(
      `skipping the real ${pkg} discovery tests: ${bin} is not installed (apt-get install ${pkg}; .ci/run installs it)`,
    );
  }
}
const SETPRIV = '/usr/bin/setpriv';
const canDropRoot = process.getuid?.() === 0 && fs.existsSync(SETPRIV);

let dir: string;
const children: ChildProcess[] = [];
let redis: { pid: number; port: number; conf: string; log: string } | undefined;
let nginx: { proc: ChildProcess; pid: number; port: number; conf: string; access: string } | undefined;

/** Poll until the port accepts a connection; bounded. */
async function waitForPort(port: number, child: ChildProcess, what: string, logFile: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) break;
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '(no log)';
  throw new Error(`${what} did not start on 127.0.0.1:${port} (exit ${child.exitCode}); log:\n${log}`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  dir = fastTmpDir('nrdot-real-');
  fs.chmodSync(dir, 0o755);
  if (!noRedis) {
    const port = await closedPort();
    const rdir = path.join(dir, 'redis');
    fs.mkdirSync(rdir);
    const conf = path.join(rdir, 'redis.conf');
    const log = path.join(rdir, 'redis.log');
    // the config sits beside the data: redis chdir()s to `dir`, where discovery looks
    fs.writeFileSync(
      conf,
      `port ${port}\nbind 127.0.0.1\ndaemonize no\nprotected-mode yes\nsave ""\nappendonly no\ndir ${rdir}\nlogfile ${log}\n`,
    );
    const child = spawn(REDIS, [conf], { stdio: 'ignore' });
    children.push(child);
    await waitForPort(port, child, 'redis-server', log);
    redis = { pid: child.pid!, port, conf, log };
  }
  if (!noNginx) {
    const port = await closedPort();
    const ndir = path.join(dir, 'nginx');
    fs.mkdirSync(ndir);
    const conf = path.join(ndir, 'nginx.conf');
    const access = path.join(ndir, 'access.log');
    const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
      .map((t) => `  ${t}_temp_path ${path.join(ndir, t)};`)
      .join('\n');
    fs.writeFileSync(
      conf,
      [
        'worker_processes 2;',
        `pid ${path.join(ndir, 'nginx.pid')};`,
        `error_log ${path.join(ndir, 'error.log')};`,
        'events { worker_connections 64; }',
        'http {',
        `  access_log ${access};`,
        temp,
        '  server {',
        `    listen 127.0.0.1:${port};`,
        '    location = /nginx_status { stub_status; }',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    const child = spawn(NGINX, ['-c', conf, '-e', path.join(ndir, 'error.log'), '-g', 'daemon off;'], {
      stdio: 'ignore',
    });
    children.push(child);
    await waitForPort(port, child, 'nginx', path.join(ndir, 'error.log'));
    nginx = { proc: child, pid: child.pid!, port, conf, access };
  }
});

afterAll(async () => {
  for (const c of children) await stop(c);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function discoverJson(args: string[] = [], asNobody = false): Promise<DiscoveryResult> {
  const argv = ['discover', '--json', ...args];
  const r = asNobody
    ? await (async () => {
        const { CLI } = await import('../helpers/cli.js');
        const out = spawnSync(
          SETPRIV,
          ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, ...argv],
          { encoding: 'utf8', timeout: 60_000 },
        );
        return { code: out.status, stdout: out.stdout, stderr: out.stderr };
      })()
    : await nrdot(argv);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as DiscoveryResult;
}

const find = (r: DiscoveryResult, id: string): DiscoveredService => {
  const s = r.services.find((x) => x.id === id);
  expect(s, `${id} among ${r.services.map((x) => x.id).join(', ')}`).toBeDefined();
  return s!;
};

describe('real services from Debian', () => {
  it.skipIf(noRedis || noNginx)('finds Redis and NGINX with their real port, pid and config path', async () => {
    const r = await discoverJson();
    const rs = find(r, `redis/${redis!.port}`);
    expect(rs).toMatchObject({
      state: 'running',
      pid: redis!.pid,
      configPath: redis!.conf,
      primary: { transport: 'tcp', address: '127.0.0.1', port: redis!.port, pid: redis!.pid },
      logPaths: [redis!.log],
    });
    expect(rs.confidence).toBeGreaterThanOrEqual(0.75);
    expect(rs.version?.value).toMatch(/^\d+\.\d+\.\d+$/);
    const ng = find(r, `nginx/${nginx!.port}`);
    expect(ng).toMatchObject({
      state: 'running',
      pid: nginx!.pid,
      configPath: nginx!.conf,
      primary: { transport: 'tcp', address: '127.0.0.1', port: nginx!.port },
    });
    expect(ng.pids.length).toBe(3); // the master and its two workers
    expect(ng.values.status_path).toBe('/nginx_status');
    expect(ng.logPaths).toContain(nginx!.access);
    expect(ng.version?.value).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.skipIf(noRedis || noNginx)(
    'renders receivers whose endpoints answer, writes only --out, and --diff sees NGINX stop',
    async () => {
      const outDir = fastTmpDir('nrdot-out-');
      try {
        const out = path.join(outDir, 'collector.yaml');
        const w = await nrdot(['discover', '--render', 'collector', '--out', out]);
        expect(w.code, w.stderr).toBe(0);
        expect(w.stderr).toMatch(new RegExp(`wrote ${out}: \\d+ service receivers \\(.*redis/${redis!.port}`));
        expect(fs.readdirSync(outDir)).toEqual(['collector.yaml']);
        const cfg = parse(fs.readFileSync(out, 'utf8'));
        const rr = cfg.receivers[`redis/${redis!.port}`];
        expect(rr).toMatchObject({ endpoint: `127.0.0.1:${redis!.port}`, transport: 'tcp' });
        // the endpoint is a live Redis: PING answers +PONG
        const pong = await new Promise<string>((resolve, reject) => {
          const [h, p] = rr.endpoint.split(':');
          const s = net.connect({ host: h, port: Number(p) }, () => s.write('PING\r\n'));
          s.once('data', (d) => {
            s.destroy();
            resolve(d.toString());
          });
          s.once('error', reject);
        });
        expect(pong).toBe('+PONG\r\n');
        // the nginx receiver's endpoint serves stub_status
        const nr = cfg.receivers[`nginx/${nginx!.port}`];
        expect(nr.endpoint).toBe(`http://127.0.0.1:${nginx!.port}/nginx_status`);
        const res = await request(nr.endpoint);
        expect(res.statusCode).toBe(200);
        expect(await res.body.text()).toMatch(/^Active connections: \d+/);
        expect(cfg.receivers[`filelog/nginx_${nginx!.port}`].include).toContain(nginx!.access);

        const same = await nrdot(['discover', '--diff', out]);
        expect(same.code, same.stderr).toBe(0);
        expect(same.stdout).toBe('no changes\n');

        await stop(nginx!.proc);
        const d = await nrdot(['discover', '--diff', out]);
        expect(d.code, d.stderr).toBe(0);
        expect(d.stdout).toContain(`- receivers.nginx/${nginx!.port}: `);
        expect(d.stdout).toContain(`- receivers.filelog/nginx_${nginx!.port}: `);
        expect(d.stdout).toContain(
          `~ service.pipelines.metrics/services.receivers: [ nginx/${nginx!.port}, redis/${redis!.port} ] -> [ redis/${redis!.port} ]`,
        );
        expect(d.stdout).not.toMatch(/^[-+] receivers\.(filelog\/)?redis/m);
        expect(fs.readdirSync(outDir)).toEqual(['collector.yaml']);
      } finally {
        fs.rmSync(outDir, { recursive: true, force: true });
      }
    },
  );

  it.skipIf(noRedis || !canDropRoot)(
    'without root still finds Redis (process title and its port) and says what it could not read',
    async () => {
      const r = await discoverJson([], true);
      const rs = find(r, `redis/${redis!.port}`);
      expect(rs.pid).toBe(redis!.pid);
      expect(rs.primary).toMatchObject({ transport: 'tcp', port: redis!.port, source: 'listener' });
      expect(rs.primary?.pid).toBeUndefined(); // the fds of root's process are not readable
      expect(rs.evidence.map((e) => e.detail).join('\n')).toMatch(
        /configured port; the socket's owner could not be read/,
      );
      expect(rs.notes.join(' ')).toMatch(/CAP_SYS_PTRACE/);
      expect(r.stats.fdDenied).toBeGreaterThan(0);
      expect(r.problems).toContainEqual(
        expect.objectContaining({ kind: 'unreadable', message: expect.stringMatching(/CAP_SYS_PTRACE/) }),
      );
    },
  );
});

describe('privileges', () => {
  it.skipIf(!canDropRoot)('names a config file it may not read, and goes on', async () => {
    const { HostFixture } = await import('./fixture.js');
    const fx = new HostFixture();
    try {
      fs.chmodSync(fx.root, 0o755);
      fx.file('/etc/redis/redis.conf', 'port 6379\n', 0o600)
        .proc({
          pid: 10,
          comm: 'redis-server',
          argv: ['redis-server *:6379'],
          exe: '/usr/bin/redis-server',
          sockets: [5],
        })
        .listen({ transport: 'tcp', address: '0.0.0.0', port: 6379, inode: 5 });
      spawnSync('chmod', ['-R', 'go+rX', fx.root]);
      fs.chmodSync(path.join(fx.root, 'etc/redis/redis.conf'), 0o600);
      const r = await discoverJson(['--root', fx.root], true);
      expect(r.problems).toContainEqual({
        kind: 'unreadable',
        file: '/etc/redis/redis.conf',
        message: 'cannot read: permission denied',
      });
      expect(find(r, 'redis/6379').primary).toMatchObject({ port: 6379, pid: 10 });
    } finally {
      fx.remove();
    }
  });
});
