/**
 * A hot reload carries each process's cgroup with its other strings: the
 * scanner reads a process's cgroup once, when it first sees it, so the new
 * engine must group the processes it takes over (pod, container, systemd
 * service) as the old one did, not by executable name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fastTmpDir } from '../../src/util/tmp.js';
import { attr, readRequests } from '../helpers/otlp-file.js';
import { b64, baseYaml, type Harness, startHarness } from './reload-harness.js';

/** The roll-up groups of the last request in a file exporter's output. */
function lastGroups(file: string): string[] {
  const last = readRequests(file).at(-1)!;
  return last.resourceMetrics
    .map((rm) => attr(rm, 'nrdot.group'))
    .filter((g): g is string => typeof g === 'string')
    .sort();
}

describe('hot reload and groups', () => {
  it('the new engine groups the processes it took over as the old one did', async () => {
    const dir = fastTmpDir('nrdot-reload-groups-');
    // every group gets its own aggregate: the group set is the whole picture
    const groups = 'groups: { by: [pod, container, service, executable] }';
    const budget = (y: string) => `${y}\nprofiles: { balanced: { groups: { budget: 1000, min_members: 1 } } }`;
    let h: Harness | undefined;
    try {
      h = await startHarness(dir, budget(baseYaml(dir, groups)));
      for (let i = 0; i < 2; i++) await h.cycle();
      const before = lastGroups(path.join(dir, 'out-a.jsonl'));
      expect(before.some((g) => g.endsWith('.service'))).toBe(true);

      const r = await h.put('/api/config', { config_base64: b64(budget(baseYaml(dir, groups, 'out-b.jsonl'))) });
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      for (let i = 0; i < 2; i++) await h.cycle();
      const after = lastGroups(path.join(dir, 'out-b.jsonl'));
      expect(after.filter((g) => g.endsWith('.service'))).toEqual(before.filter((g) => g.endsWith('.service')));
    } finally {
      await h?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
