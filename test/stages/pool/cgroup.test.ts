/**
 * parseCgroup against the reference it replaced (three regular expressions
 * over the path), on seeded random paths built from the segments that
 * matter: pods, container ids, service units, and their near misses.
 */
import { describe, expect, it } from 'vitest';
import { type CgroupInfo, cgroupPath, parseCgroup } from '../../../src/stages/pool/cgroup.js';

const POD = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/;
const CONTAINER = /(?:^|[-/])([0-9a-f]{64})(?:\.scope)?$/;
const UNIT = /([^/]+\.service)(?:\/|$)/g;

function reference(text: string): CgroupInfo | undefined {
  const path = cgroupPath(text);
  if (path === undefined) return undefined;
  const info: CgroupInfo = { path };
  const pod = POD.exec(path);
  if (pod) info.podUid = pod[1]!.replaceAll('_', '-');
  const last = path.slice(path.lastIndexOf('/') + 1) || path;
  const c = CONTAINER.exec(last);
  if (c) info.containerId = c[1]!;
  let unit: string | undefined;
  for (const m of path.matchAll(UNIT)) unit = m[1];
  if (unit !== undefined) info.unit = unit;
  return info;
}

let seed = 99;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const ID = '0123456789abcdef'.repeat(4);
const SEGMENTS = [
  'system.slice',
  'nginx.service',
  'getty@tty1.service',
  '.service',
  'a..service',
  'x.servicey',
  'service',
  'user.slice',
  'user-1000.slice',
  'user@1000.service',
  'session-3.scope',
  'kubepods.slice',
  'kubepods-burstable-pod12345678_abcd_ef01_2345_6789abcdef01.slice',
  'pod12345678-abcd-ef01-2345-6789abcdef01',
  'podnothex',
  `docker-${ID}.scope`,
  `cri-containerd-${ID}.scope`,
  ID,
  `${ID}x`,
  ID.slice(1),
  'docker',
  '',
];

describe('parseCgroup', () => {
  it('says what the regular expressions said, on 5000 seeded random paths', () => {
    for (let k = 0; k < 5000; k++) {
      const n = 1 + Math.floor(rnd() * 5);
      const segs = Array.from({ length: n }, () => pick(SEGMENTS));
      const path = (rnd() < 0.9 ? '/' : '') + segs.join('/');
      const text = rnd() < 0.5 ? `0::${path}` : `12:pids:${path}\n1:name=systemd:${path}\n`;
      expect(parseCgroup(text), text).toEqual(reference(text));
    }
  });

  it('reads a unit, a pod and a container', () => {
    expect(parseCgroup('0::/system.slice/nginx.service')).toEqual({
      path: '/system.slice/nginx.service',
      unit: 'nginx.service',
    });
    const k8s = `0::/kubepods.slice/kubepods-burstable-pod12345678_abcd_ef01_2345_6789abcdef01.slice/cri-containerd-${ID}.scope`;
    expect(parseCgroup(k8s)).toMatchObject({ podUid: '12345678-abcd-ef01-2345-6789abcdef01', containerId: ID });
    expect(parseCgroup('')).toBeUndefined();
  });
});
