/**
 * deploy/systemd: the unit, its unprivileged drop-in, the sysusers file and
 * the config it points at. `systemd-analyze verify` runs for real on an
 * alternate root (a copy of this machine's unit directory, a stand-in for
 * the nrdot executable) and any warning about an nrdot unit fails the test;
 * the rest checks that what the unit says matches the code: flags, paths,
 * the memory limit, the fd budget, the exit code that must not restart.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { EXIT_USAGE } from '../../src/core/errors.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { CLI, REPO } from '../helpers/cli.js';
import { one, parseUnit, sizeBytes, words } from './unit-file.js';

const DIR = path.join(REPO, 'deploy', 'systemd');
const unitText = fs.readFileSync(path.join(DIR, 'nrdot.service'), 'utf8');
const unit = parseUnit(unitText);
const dropIn = parseUnit(fs.readFileSync(path.join(DIR, 'unprivileged.conf'), 'utf8'));
const config = loadConfig(path.join(DIR, 'config.yaml'), {
  env: { ...process.env, NEW_RELIC_LICENSE_KEY: 'test-key' },
}).config;

const tmp = fastTmpDir('nrdot-systemd-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const which = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
const ANALYZE = which('systemd-analyze');
const SYSUSERS = which('systemd-sysusers');
if (!ANALYZE)
  console.warn('skipping systemd-analyze verify: not installed (Debian package systemd; .ci/run installs it)');
const UNIT_DIR = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) =>
  fs.existsSync(path.join(d, 'sysinit.target')),
);

/**
 * A root holding this machine's units, the nrdot unit (and drop-ins), and an
 * executable where ExecStart expects nrdot; returns verify's status and the
 * lines of its output that concern nrdot.
 */
function verify(name: string, files: Record<string, string>): { status: number | null; about: string[]; all: string } {
  const root = path.join(tmp, name);
  fs.mkdirSync(path.join(root, 'usr/lib/systemd'), { recursive: true });
  fs.cpSync(UNIT_DIR!, path.join(root, 'usr/lib/systemd/system'), { recursive: true, verbatimSymlinks: true });
  // the commands the unit runs (nrdot; /bin/kill for ExecReload) exist in the root
  for (const key of ['ExecStart', 'ExecReload']) {
    const exe = one(unit, 'Service', key).split(/\s+/)[0]!;
    fs.mkdirSync(path.join(root, path.dirname(exe)), { recursive: true });
    fs.writeFileSync(path.join(root, exe), '#!/bin/sh\n', { mode: 0o755 });
  }
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  }
  const r = spawnSync(ANALYZE, [`--root=${root}`, 'verify', path.join(root, 'etc/systemd/system/nrdot.service')], {
    encoding: 'utf8',
  });
  const all = `${r.stdout}${r.stderr}`;
  return { status: r.status, about: all.split('\n').filter((l) => /nrdot/.test(l)), all };
}

describe('deploy/systemd/nrdot.service', () => {
  it.skipIf(!ANALYZE || !UNIT_DIR)('passes systemd-analyze verify without a warning', () => {
    const r = verify('plain', { 'etc/systemd/system/nrdot.service': unitText });
    expect(r.about, r.all).toEqual([]);
    expect(r.status, r.all).toBe(0);
  });

  it.skipIf(!ANALYZE || !UNIT_DIR)('with the unprivileged drop-in too', () => {
    const r = verify('dropin', {
      'etc/systemd/system/nrdot.service': unitText,
      'etc/systemd/system/nrdot.service.d/unprivileged.conf': fs.readFileSync(
        path.join(DIR, 'unprivileged.conf'),
        'utf8',
      ),
    });
    expect(r.about, r.all).toEqual([]);
    expect(r.status, r.all).toBe(0);
  });

  it.skipIf(!ANALYZE || !UNIT_DIR)('the check is real: a misspelt key or system call is reported', () => {
    const bad = unitText.replace('ProtectHome=yes', 'ProtectHome=yes\nProtectHom=yes\nSystemCallFilter=~notasyscall');
    const r = verify('bad', { 'etc/systemd/system/nrdot.service': bad });
    expect(
      r.about.some((l) => /Unknown key.*ProtectHom/.test(l)),
      r.all,
    ).toBe(true);
    expect(
      r.about.some((l) => /notasyscall/.test(l)),
      r.all,
    ).toBe(true);
  });

  it('runs `nrdot run` with flags the CLI has, on the config shipped beside it', () => {
    const argv = one(unit, 'Service', 'ExecStart').split(/\s+/);
    expect(path.basename(argv[0]!)).toBe('nrdot');
    expect(argv[1]).toBe('run');
    const help = execFileSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' });
    for (const flag of argv.filter((a) => a.startsWith('--'))) expect(help, flag).toContain(`${flag} `);
    expect(argv[argv.indexOf('--config') + 1]).toBe('/etc/nrdot/config.yaml');
    expect(argv[argv.indexOf('--log-format') + 1]).toBe('json');
  });

  it('keeps state, queue and audit log under StateDirectory / LogsDirectory, owned by the nrdot user', () => {
    expect(one(unit, 'Service', 'User')).toBe('nrdot');
    expect(one(unit, 'Service', 'StateDirectory')).toBe('nrdot');
    expect(one(unit, 'Service', 'LogsDirectory')).toBe('nrdot');
    expect(one(unit, 'Service', 'WorkingDirectory')).toBe('/var/lib/nrdot');
    expect(config.state_dir.startsWith('/var/lib/nrdot/')).toBe(true);
    expect(config.queue.dir.startsWith('/var/lib/nrdot/')).toBe(true);
    expect(config.server.audit_log.startsWith('/var/log/nrdot/')).toBe(true);
    // every file export is relative to WorkingDirectory or under the state directory
    for (const spec of config.export.filter((s) => s.startsWith('file:'))) {
      expect(spec.startsWith('file:./') || spec.startsWith('file:/var/lib/nrdot/'), spec).toBe(true);
    }
  });

  it.skipIf(!SYSUSERS)('the sysusers file creates that user (systemd-sysusers on an alternate root)', () => {
    const root = path.join(tmp, 'users');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    execFileSync(SYSUSERS, [`--root=${root}`, path.join(DIR, 'nrdot.sysusers.conf')], { stdio: 'pipe' });
    const passwd = fs.readFileSync(path.join(root, 'etc/passwd'), 'utf8');
    expect(passwd).toMatch(/^nrdot:x:\d+:\d+:[^:]*:\/var\/lib\/nrdot:\/usr\/sbin\/nologin$/m);
  });

  it("holds exactly the two capabilities for other users' /proc/PID/io and fd/, never the ptrace calls; the drop-in removes them", () => {
    const caps = ['CAP_DAC_READ_SEARCH', 'CAP_SYS_PTRACE'];
    expect(words(unit, 'Service', 'AmbientCapabilities').sort()).toEqual(caps);
    expect(words(unit, 'Service', 'CapabilityBoundingSet').sort()).toEqual(caps);
    const filter = words(unit, 'Service', 'SystemCallFilter');
    expect(filter[0]!.startsWith('~')).toBe(true);
    expect(filter.map((w) => w.replace(/^~/, ''))).toEqual(
      expect.arrayContaining(['ptrace', 'process_vm_readv', 'process_vm_writev']),
    );
    expect(dropIn.Service?.AmbientCapabilities).toEqual([]);
    expect(dropIn.Service?.CapabilityBoundingSet).toEqual([]);
  });

  it('is hardened without hiding processes from nrdot', () => {
    expect(one(unit, 'Service', 'NoNewPrivileges')).toBe('yes');
    expect(one(unit, 'Service', 'ProtectSystem')).toBe('strict');
    expect(one(unit, 'Service', 'ProtectHome')).toBe('yes');
    // these would hide other processes or break V8
    for (const k of ['ProtectProc', 'ProcSubset', 'MemoryDenyWriteExecute', 'PrivateUsers', 'PrivatePIDs']) {
      expect(unit.Service?.[k], k).toBeUndefined();
    }
  });

  it('MemoryMax is 1.25 x memory.limit_mib of its config', () => {
    expect(sizeBytes(one(unit, 'Service', 'MemoryMax'))).toBe(config.memory.limit_mib * 1.25 * 1024 * 1024);
  });

  it("LimitNOFILE covers the native scanner's kept-fd cap plus its reserve", () => {
    const h = fs.readFileSync(path.join(REPO, 'native/fd_budget.h'), 'utf8');
    const reserve = Number(/kFdReserve = (\d+);/.exec(h)![1]);
    const capShift = Number(/kFdBudgetCap = 1 << (\d+);/.exec(h)![1]);
    expect(Number(one(unit, 'Service', 'LimitNOFILE'))).toBe(2 ** capShift + reserve);
  });

  it('restarts on failure but not on a bad config; systemctl reload sends SIGHUP (hot reload)', () => {
    expect(one(unit, 'Service', 'Restart')).toBe('on-failure');
    expect(one(unit, 'Service', 'RestartPreventExitStatus')).toBe(String(EXIT_USAGE));
    expect(one(unit, 'Service', 'ExecReload')).toBe('/bin/kill -HUP $MAINPID');
  });
});
