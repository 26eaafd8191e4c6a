/**
 * The agent's own process_* metrics and nrdot_build_info, read from the real
 * /proc/self, under the names Prometheus client libraries use, checked by
 * promtool like the rest of /metrics.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildInfoFamily,
  collectAgentProcess,
  readSelfProcess,
  selfProcessFamilies,
} from '../../src/server/process-metrics.js';
import { Registry } from '../../src/server/registry.js';
import { SelfMetrics } from '../../src/server/self-metrics.js';
import { VERSION } from '../../src/util/version.js';
import { selfValues } from './fixtures.js';

const PROMTOOL = '/usr/bin/promtool';
const hasPromtool = fs.existsSync(PROMTOOL);
if (!hasPromtool) console.warn(`skipping promtool checks: ${PROMTOOL} is not installed (apt-get install prometheus)`);

/** name → value of unlabelled samples in exposition text */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('agent process metrics', () => {
  it('reads this process from /proc/self: CPU, RSS, virtual size, start time, fds and their limit', () => {
    const before = fs.readdirSync('/proc/self/fd').length;
    const r = readSelfProcess();
    expect(r.cpuSeconds).toBeGreaterThan(0);
    expect(r.residentBytes).toBeGreaterThan(10 << 20);
    expect(r.virtualBytes!).toBeGreaterThan(r.residentBytes);
    // the kernel's start time of this process, read here independently of the code under test
    const stat = fs.readFileSync('/proc/self/stat', 'latin1');
    const starttime = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'latin1'))![1]);
    const tck = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim());
    expect(r.startTimeSeconds).toBe(btime + starttime / tck);
    expect(Math.abs(r.openFds! - before)).toBeLessThanOrEqual(2);
    const soft = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))?.[1];
    expect(r.maxFds).toBe(Number(soft));
  });

  it('leaves out what it cannot read instead of reporting 0', () => {
    const r = readSelfProcess('/nonexistent-proc');
    expect(r.virtualBytes).toBeUndefined();
    expect(r.openFds).toBeUndefined();
    const names = selfProcessFamilies(r).map((f) => f.name);
    expect(names).toEqual(['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds']);
  });

  it('renders under the Prometheus client names, with nrdot_build_info, and passes promtool', () => {
    const registry = new Registry();
    new SelfMetrics(registry).update(selfValues(), 'balanced');
    collectAgentProcess(registry, 'native');
    const text = registry.render();
    const s = samples(text);
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'process_virtual_memory_bytes',
      'process_start_time_seconds',
      'process_open_fds',
      'process_max_fds',
    ]) {
      expect(s.get(name), name).toBeGreaterThan(0);
    }
    expect(text).toContain('# TYPE process_cpu_seconds_total counter\n');
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge\n');
    expect(text).toContain(`nrdot_build_info{version="${VERSION}",node="${process.version}",backend="native"} 1\n`);
    if (hasPromtool) {
      const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(`${r.stdout}${r.stderr}`).toBe('');
      expect(r.status).toBe(0);
    }
  });

  it('the version is the one package.json holds', () => {
    const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(VERSION).toBe(pkg.version);
    expect(buildInfoFamily({ version: VERSION, node: 'v20', backend: 'ts' }).samples[0]!.labels).toEqual({
      version: pkg.version,
      node: 'v20',
      backend: 'ts',
    });
  });
});
