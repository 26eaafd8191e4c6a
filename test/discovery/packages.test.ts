/**
 * The dpkg status database: this machine's real one, and damaged copies.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discover } from '../../src/discovery/discover.js';
import { Problems } from '../../src/discovery/host.js';
import { parseDpkgStatus, upstreamVersion, which } from '../../src/discovery/signals/packages.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { HostFixture } from './fixture.js';

const RPM = which('rpm');
const RPMBUILD = which('rpmbuild');
if (!RPM || !RPMBUILD) {
  console.warn(
    'skipping the rpm database test: rpm and rpmbuild are not installed (apt-get install rpm; .ci/run installs it)',
  );
}

const REAL = '/var/lib/dpkg/status';

describe('dpkg status', () => {
  it.skipIf(!fs.existsSync(REAL))('reads this machine’s database without a problem, as dpkg-query sees it', () => {
    const problems = new Problems();
    const pkgs = parseDpkgStatus(fs.readFileSync(REAL, 'utf8'), REAL, problems);
    expect(problems.list).toEqual([]);
    expect(pkgs.get('dpkg')?.version).toMatch(/^\d+\.\d+/);
    expect(pkgs.get('dpkg')?.manager).toBe('dpkg');
  });

  it('counts only installed packages and keeps the line of each record', () => {
    const problems = new Problems();
    const text = [
      'Package: a',
      'Status: install ok installed',
      'Version: 1.0-1',
      'Description: first',
      ' more text: with a colon',
      '',
      'Package: b',
      'Status: deinstall ok config-files',
      'Version: 2.0',
      '',
      'Package: c',
      'Status: install ok half-configured',
      'Version: 3.0',
      '',
    ].join('\n');
    const pkgs = parseDpkgStatus(text, 'status', problems);
    expect([...pkgs.values()]).toEqual([{ name: 'a', version: '1.0-1', manager: 'dpkg', source: 'status', line: 1 }]);
    expect(problems.list).toEqual([]);
  });

  it('names a stanza cut by the end of the file, and one missing its Package field, and keeps the rest', () => {
    const problems = new Problems();
    const text =
      'Status: install ok installed\nVersion: 1\n\nPackage: ok\nStatus: install ok installed\nVersion: 2\n\nPackage: cut\nStatus: install ok inst';
    const pkgs = parseDpkgStatus(text, 'S', problems);
    expect([...pkgs.keys()]).toEqual(['ok']);
    expect(problems.list).toEqual([
      { kind: 'malformed', file: 'S', line: 1, message: 'a stanza (lines 1-2) has no Package field; ignored' },
      {
        kind: 'malformed',
        file: 'S',
        line: 8,
        message: "package 'cut' (lines 8-9) has no Status, Version field (the file ends in the middle of it); ignored",
      },
    ]);
  });

  it('takes the upstream part of a version', () => {
    expect(upstreamVersion('5:7.0.15-1~deb12u1')).toBe('7.0.15');
    expect(upstreamVersion('1.22.1-9+deb12u9')).toBe('1.22.1');
    expect(upstreamVersion('15.18-0+deb12u1')).toBe('15.18');
    expect(upstreamVersion('1:10.11.6-0+deb12u1')).toBe('10.11.6');
  });
});

describe('rpm', () => {
  it.skipIf(!RPM || !RPMBUILD)('reads the rpm database under --root with the rpm binary', async () => {
    const fx = new HostFixture();
    const top = fastTmpDir('nrdot-rpmbuild-');
    try {
      // a real package built and recorded in a real rpm database under the fixture root
      for (const d of ['SPECS', 'BUILD', 'RPMS', 'SOURCES', 'SRPMS']) fs.mkdirSync(path.join(top, d));
      const spec = path.join(top, 'SPECS/memcached.spec');
      fs.writeFileSync(
        spec,
        'Name: memcached\nVersion: 1.6.21\nRelease: 3\nSummary: test\nLicense: MIT\nBuildArch: noarch\n%description\ntest\n%files\n',
      );
      execFileSync(RPMBUILD!, ['--define', `_topdir ${top}`, '-bb', spec], { stdio: 'ignore' });
      const pkg = path.join(top, 'RPMS/noarch/memcached-1.6.21-3.noarch.rpm');
      execFileSync(RPM!, ['--root', fx.root, '--initdb'], { stdio: 'ignore' });
      execFileSync(RPM!, ['--root', fx.root, '-i', '--nodeps', '--justdb', '--noscripts', pkg], { stdio: 'ignore' });
      fx.proc({
        pid: 5,
        comm: 'memcached',
        argv: ['/usr/bin/memcached', '-p', '11211'],
        exe: '/usr/bin/memcached',
        sockets: [9],
      }).listen({ transport: 'tcp', address: '127.0.0.1', port: 11211, inode: 9 });
      const r = await discover({ root: fx.root });
      const s = r.services.find((x) => x.id === 'memcached/11211')!;
      expect(s.version).toEqual({ value: '1.6.21', source: 'package memcached 1.6.21-3' });
      expect(s.evidence.map((e) => e.detail)).toContain('package memcached 1.6.21-3 installed (rpm)');
      expect(r.stats.packages).toBe(1);
    } finally {
      fx.remove();
      fs.rmSync(top, { recursive: true, force: true });
    }
  });
});
