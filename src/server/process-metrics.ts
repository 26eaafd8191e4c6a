/**
 * The agent's own process metrics and build info on /metrics, under the
 * names every Prometheus client library uses (prom-client, client_golang's
 * process collector, node_exporter), so the usual dashboards and alerts
 * work on nrdot unchanged:
 *
 *   process_cpu_seconds_total       user + system CPU time
 *   process_resident_memory_bytes   RSS
 *   process_virtual_memory_bytes    virtual memory size
 *   process_start_time_seconds      start time, seconds since the epoch
 *   process_open_fds                open file descriptors
 *   process_max_fds                 the soft limit on them
 *   nrdot_build_info{version,node,backend} 1
 *
 * Read from /proc/self at every scrape (the figures a reader cannot get are
 * left out rather than shown as 0).
 */
import * as fs from 'node:fs';
import { parseHostStat, parseStat } from '../sources/procfs/parse.js';
import { sysconf } from '../sources/procfs/sysconf.js';
import { VERSION } from '../util/version.js';
import type { MetricFamily } from './exposition.js';
import type { Registry } from './registry.js';

export interface SelfProcessReading {
  cpuSeconds: number;
  residentBytes: number;
  virtualBytes?: number;
  startTimeSeconds: number;
  openFds?: number;
  maxFds?: number;
}

/**
 * When the kernel says this process started, in seconds since the epoch:
 * btime + starttime / CLK_TCK (as Prometheus client libraries compute it);
 * undefined without a readable procfs.
 */
function startFromProc(proc: string): number | undefined {
  try {
    const stat = parseStat(fs.readFileSync(`${proc}/self/stat`, 'latin1'));
    const host = parseHostStat(fs.readFileSync(`${proc}/stat`, 'latin1'));
    return stat && host ? host.btime + stat.starttime / sysconf().clkTck : undefined;
  } catch {
    return undefined;
  }
}

/** /proc/self of this process (`proc` is the procfs mount, for tests). */
export function readSelfProcess(proc = '/proc'): SelfProcessReading {
  const cpu = process.cpuUsage();
  const reading: SelfProcessReading = {
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    residentBytes: process.memoryUsage.rss(),
    startTimeSeconds: startFromProc(proc) ?? Math.round((Date.now() - process.uptime() * 1000) / 10) / 100,
  };
  try {
    const stat = fs.readFileSync(`${proc}/self/stat`, 'utf8');
    // fields after the command name (which may hold spaces): state is field 3, vsize field 23
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const vsize = Number(rest[20]);
    if (Number.isFinite(vsize)) reading.virtualBytes = vsize;
  } catch {
    // not on Linux, or /proc is not mounted
  }
  try {
    reading.openFds = fs.readdirSync(`${proc}/self/fd`).length;
  } catch {
    // idem
  }
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync(`${proc}/self/limits`, 'utf8'));
    if (m && m[1] !== 'unlimited') reading.maxFds = Number(m[1]);
  } catch {
    // idem
  }
  return reading;
}

const gauge = (name: string, help: string, value: number | undefined): MetricFamily[] =>
  value === undefined ? [] : [{ name, help, type: 'gauge', samples: [{ value }] }];

export function selfProcessFamilies(r: SelfProcessReading): MetricFamily[] {
  return [
    {
      name: 'process_cpu_seconds_total',
      help: 'Total user and system CPU time spent in seconds.',
      type: 'counter',
      samples: [{ value: r.cpuSeconds }],
    },
    ...gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', r.residentBytes),
    ...gauge('process_virtual_memory_bytes', 'Virtual memory size in bytes.', r.virtualBytes),
    ...gauge(
      'process_start_time_seconds',
      'Start time of the process since unix epoch in seconds.',
      r.startTimeSeconds,
    ),
    ...gauge('process_open_fds', 'Number of open file descriptors.', r.openFds),
    ...gauge('process_max_fds', 'Maximum number of open file descriptors.', r.maxFds),
  ];
}

export function buildInfoFamily(labels: { version: string; node: string; backend: string }): MetricFamily {
  return {
    name: 'nrdot_build_info',
    help: 'nrdot build information: version, Node.js version and scanner backend (always 1).',
    type: 'gauge',
    samples: [{ labels, value: 1 }],
  };
}

/** Serve build info and the agent's process metrics on `registry`'s /metrics; returns a remover. */
export function collectAgentProcess(registry: Registry, backend: string, proc = '/proc'): () => void {
  const info = buildInfoFamily({ version: VERSION, node: process.version, backend });
  return registry.collect(() => [info, ...selfProcessFamilies(readSelfProcess(proc))]);
}
