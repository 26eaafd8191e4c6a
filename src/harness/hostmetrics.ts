/**
 * Requests shaped like the ones an OpenTelemetry Collector sends when its
 * `hostmetrics` receiver runs the `process` scraper (plus the
 * `resourcedetection` processor's `host.name`): one resource per process,
 * one scope, 15 data points per process, every point's start time the
 * process start.
 *
 * A `HostmetricsSource` is one synthetic host. Its processes keep their pid,
 * parent pid and start time for the life of the source, so a receiver sees
 * the same identities on every request; cumulative values grow with the
 * request time (a deterministic function of it, so any two calls with the
 * same time give the same request). Used by `nrdot loadgen`, the receiver
 * tests and bench/receiver.bench.ts.
 */

import {
  type ExportMetricsServiceRequest,
  int,
  type KeyValue,
  type Metric,
  type NumberDataPoint,
  nanosFromMs,
  type ResourceMetrics,
  str,
  TEMPORALITY_CUMULATIVE,
} from '../otlp/model.js';
import { ProcessMetric, ResourceAttr } from '../telemetry/names.js';
import { Rng } from './synth/prng.js';

export const PROCESS_SCRAPER_SCOPE =
  'github.com/open-telemetry/opentelemetry-collector-contrib/receiver/hostmetricsreceiver/internal/scraper/processscraper';
export const PROCESS_SCRAPER_VERSION = '0.120.0';

/** Data points in each process resource of a generated request. */
export const POINTS_PER_PROCESS = 15;

export interface SyntheticProcess {
  pid: number;
  ppid: number;
  name: string;
  exe: string;
  cmdline: string;
  owner: string;
  startEpochMs: number;
  /** CPU seconds per wall second: user, system, wait */
  cpuRate: [number, number, number];
  rssBytes: number;
  vsizeBytes: number;
  threads: number;
  fds: number;
  /** bytes per second read, written */
  ioRate: [number, number];
  /** faults per second: major, minor */
  faultRate: [number, number];
  /** switches per second: voluntary, involuntary */
  ctxRate: [number, number];
}

export interface HostmetricsSourceOptions {
  processes: number;
  hostName?: string;
  seed?: number;
  /** wall clock of the host's "now" at construction; processes started before it */
  nowMs?: number;
  /**
   * Exactly this share of the processes (spread evenly) carries a name the
   * default classification rules make critical (postgres, containerd,
   * redis-server, nginx) and a parent of another name (pid 1), so no pool
   * demotion applies; the others carry names that are not critical (java,
   * node, python3, sshd, bash, kworker). Default: names drawn at random from
   * the whole list, as before.
   */
  criticalShare?: number;
}

/** Names the default rules classify as critical, and names they do not. */
export const CRITICAL_NAMES = ['postgres', 'containerd', 'redis-server', 'nginx'] as const;
export const NON_CRITICAL_NAMES = ['java', 'node', 'python3', 'sshd', 'bash', 'kworker'] as const;

/** Whether process `i` is one of the critical share (evenly spread: exactly floor(n × share) of n). */
export function inCriticalShare(i: number, share: number): boolean {
  return Math.floor((i + 1) * share) > Math.floor(i * share);
}

const NAMES = ['postgres', 'nginx', 'java', 'node', 'python3', 'sshd', 'containerd', 'kworker', 'bash', 'redis-server'];
const OWNERS = ['root', 'postgres', 'www-data', 'app'];

function makeProcess(rng: Rng, i: number, nowMs: number, earlier: readonly SyntheticProcess[]): SyntheticProcess {
  const name = rng.pick(NAMES);
  return {
    // distinct by construction: row i owns the pids [100 + 7i, 106 + 7i]
    pid: 100 + i * 7 + rng.int(0, 6),
    ppid: i === 0 ? 1 : earlier[Math.floor(rng.next() * i)]!.pid,
    name,
    exe: `/usr/bin/${name}`,
    cmdline: `/usr/bin/${name} --worker ${i}`,
    owner: rng.pick(OWNERS),
    // whole milliseconds: start times are exact in every encoding
    startEpochMs: Math.floor(nowMs - rng.range(60_000, 86_400_000)),
    cpuRate: [rng.range(0, 0.2), rng.range(0, 0.05), rng.range(0, 0.01)],
    rssBytes: rng.int(1, 2048) * 4096 * 64,
    vsizeBytes: rng.int(2048, 65536) * 4096 * 64,
    threads: rng.int(1, 64),
    fds: rng.int(3, 500),
    ioRate: [rng.range(0, 1e6), rng.range(0, 5e5)],
    faultRate: [rng.range(0, 2), rng.range(0, 500)],
    ctxRate: [rng.range(0, 100), rng.range(0, 20)],
  };
}

/** One data point of the layout: its attribute (if any) and whether it is an integer. */
export interface PointSpec {
  attr?: readonly [string, string];
  int: boolean;
}

export interface MetricSpec {
  name: string;
  unit: string;
  /** gauge, or a cumulative sum (monotonic or not) */
  kind: 'gauge' | 'sum' | 'monotonic';
  points: readonly PointSpec[];
}

/** The metric set of every process, in order; `values()` fills the points in the same order. */
export const LAYOUT: readonly MetricSpec[] = [
  {
    name: ProcessMetric.cpuTime,
    unit: 's',
    kind: 'monotonic',
    points: [
      { attr: ['state', 'user'], int: false },
      { attr: ['state', 'system'], int: false },
      { attr: ['state', 'wait'], int: false },
    ],
  },
  { name: ProcessMetric.memoryUsage, unit: 'By', kind: 'sum', points: [{ int: true }] },
  { name: ProcessMetric.memoryVirtual, unit: 'By', kind: 'sum', points: [{ int: true }] },
  {
    name: ProcessMetric.diskIo,
    unit: 'By',
    kind: 'monotonic',
    points: [
      { attr: ['direction', 'read'], int: true },
      { attr: ['direction', 'write'], int: true },
    ],
  },
  {
    name: ProcessMetric.pagingFaults,
    unit: '{faults}',
    kind: 'monotonic',
    points: [
      { attr: ['type', 'major'], int: true },
      { attr: ['type', 'minor'], int: true },
    ],
  },
  {
    name: ProcessMetric.contextSwitches,
    unit: '{count}',
    kind: 'monotonic',
    points: [
      { attr: ['type', 'voluntary'], int: true },
      { attr: ['type', 'involuntary'], int: true },
    ],
  },
  { name: ProcessMetric.threads, unit: '{threads}', kind: 'sum', points: [{ int: true }] },
  { name: ProcessMetric.openFds, unit: '{count}', kind: 'sum', points: [{ int: true }] },
  { name: 'process.signals_pending', unit: '{signals}', kind: 'sum', points: [{ int: true }] },
  { name: ProcessMetric.uptime, unit: 's', kind: 'gauge', points: [{ int: false }] },
];

/** The resource attributes of a process, in the scraper's names. */
export function processAttributes(p: SyntheticProcess, hostName: string): KeyValue[] {
  return [
    int(ResourceAttr.pid, p.pid),
    int(ResourceAttr.parentPid, p.ppid),
    str(ResourceAttr.executableName, p.name),
    str(ResourceAttr.executablePath, p.exe),
    str('process.command', p.exe),
    str(ResourceAttr.commandLine, p.cmdline),
    str(ResourceAttr.owner, p.owner),
    str(ResourceAttr.hostName, hostName),
  ];
}

export class HostmetricsSource {
  readonly hostName: string;
  readonly processes: readonly SyntheticProcess[];
  private readonly starts: string[];

  constructor(opts: HostmetricsSourceOptions) {
    const rng = new Rng(opts.seed ?? 1);
    const now = opts.nowMs ?? Date.now();
    this.hostName = opts.hostName ?? 'loadgen-host';
    const procs: SyntheticProcess[] = [];
    const share = opts.criticalShare;
    if (share !== undefined && !(share >= 0 && share <= 1)) {
      throw new RangeError(`criticalShare must be in [0, 1], got ${share}`);
    }
    const drawn = [0, 0]; // critical, other: names go round each list
    for (let i = 0; i < opts.processes; i++) {
      const p = makeProcess(rng, i, now, procs);
      if (share !== undefined) {
        const critical = inCriticalShare(i, share);
        const names: readonly string[] = critical ? CRITICAL_NAMES : NON_CRITICAL_NAMES;
        p.name = names[drawn[critical ? 0 : 1]++ % names.length]!;
        p.exe = `/usr/bin/${p.name}`;
        p.cmdline = `/usr/bin/${p.name} --worker ${i}`;
        if (critical) p.ppid = 1;
      }
      procs.push(p);
    }
    this.processes = procs;
    this.starts = procs.map((p) => nanosFromMs(p.startEpochMs));
  }

  get pointsPerRequest(): number {
    return this.processes.length * POINTS_PER_PROCESS;
  }

  /**
   * The point values of process `i` at `nowMs`, in LAYOUT order, into
   * `out[0..POINTS_PER_PROCESS)`; integer points are already whole numbers.
   */
  values(i: number, nowMs: number, out: Float64Array): void {
    const p = this.processes[i]!;
    const age = Math.max(0, (nowMs - p.startEpochMs) / 1000);
    const wobble = 1 + 0.05 * Math.sin(nowMs / 10_000 + i);
    out[0] = p.cpuRate[0] * age;
    out[1] = p.cpuRate[1] * age;
    out[2] = p.cpuRate[2] * age;
    out[3] = Math.floor(p.rssBytes * wobble);
    out[4] = p.vsizeBytes;
    out[5] = Math.floor(p.ioRate[0] * age);
    out[6] = Math.floor(p.ioRate[1] * age);
    out[7] = Math.floor(p.faultRate[0] * age);
    out[8] = Math.floor(p.faultRate[1] * age);
    out[9] = Math.floor(p.ctxRate[0] * age);
    out[10] = Math.floor(p.ctxRate[1] * age);
    out[11] = p.threads;
    out[12] = p.fds;
    out[13] = 0;
    out[14] = age;
  }

  /** The request a collector would send at `nowMs`. */
  request(nowMs: number): ExportMetricsServiceRequest {
    const time = nanosFromMs(nowMs);
    const v = new Float64Array(POINTS_PER_PROCESS);
    const attrs = LAYOUT.map((m) => m.points.map((pt) => (pt.attr ? [str(pt.attr[0], pt.attr[1])] : undefined)));
    const resourceMetrics: ResourceMetrics[] = new Array(this.processes.length);
    for (let i = 0; i < this.processes.length; i++) {
      this.values(i, nowMs, v);
      const start = this.starts[i]!;
      let k = 0;
      const metrics: Metric[] = LAYOUT.map((spec, mi) => {
        const dataPoints: NumberDataPoint[] = spec.points.map((pt, pi) => {
          const q: NumberDataPoint = { startTimeUnixNano: start, timeUnixNano: time };
          const a = attrs[mi]![pi];
          if (a) q.attributes = a;
          if (pt.int) q.asInt = String(v[k++]);
          else q.asDouble = v[k++]!;
          return q;
        });
        if (spec.kind === 'gauge') return { name: spec.name, unit: spec.unit, description: '', gauge: { dataPoints } };
        const sum = {
          dataPoints,
          aggregationTemporality: TEMPORALITY_CUMULATIVE,
          isMonotonic: spec.kind === 'monotonic',
        };
        return { name: spec.name, unit: spec.unit, description: '', sum };
      });
      resourceMetrics[i] = {
        resource: { attributes: processAttributes(this.processes[i]!, this.hostName) },
        scopeMetrics: [{ scope: { name: PROCESS_SCRAPER_SCOPE, version: PROCESS_SCRAPER_VERSION }, metrics }],
      };
    }
    return { resourceMetrics };
  }
}
