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
} from '../metrics/otlp.js';
import { Rng } from '../synth/prng.js';
import { ProcessMetric, ResourceAttr } from '../telemetry/names.js';

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

const sumOf = (name: string, unit: string, monotonic: boolean, dataPoints: NumberDataPoint[]): Metric => ({
  name,
  unit,
  description: '',
  sum: { dataPoints, aggregationTemporality: TEMPORALITY_CUMULATIVE, isMonotonic: monotonic },
});

export class HostmetricsSource {
  readonly hostName: string;
  readonly processes: readonly SyntheticProcess[];
  private readonly starts: string[];

  constructor(opts: HostmetricsSourceOptions) {
    const rng = new Rng(opts.seed ?? 1);
    const now = opts.nowMs ?? Date.now();
    this.hostName = opts.hostName ?? 'loadgen-host';
    const procs: SyntheticProcess[] = [];
    for (let i = 0; i < opts.processes; i++) procs.push(makeProcess(rng, i, now, procs));
    this.processes = procs;
    this.starts = procs.map((p) => nanosFromMs(p.startEpochMs));
  }

  get pointsPerRequest(): number {
    return this.processes.length * POINTS_PER_PROCESS;
  }

  /** The request a collector would send at `nowMs`. */
  request(nowMs: number): ExportMetricsServiceRequest {
    const time = nanosFromMs(nowMs);
    const resourceMetrics: ResourceMetrics[] = new Array(this.processes.length);
    for (let i = 0; i < this.processes.length; i++) {
      resourceMetrics[i] = this.resource(i, nowMs, time);
    }
    return { resourceMetrics };
  }

  private resource(i: number, nowMs: number, time: string): ResourceMetrics {
    const p = this.processes[i]!;
    const start = this.starts[i]!;
    const age = Math.max(0, (nowMs - p.startEpochMs) / 1000);
    const d = (v: number, attributes?: KeyValue[]): NumberDataPoint =>
      attributes
        ? { attributes, startTimeUnixNano: start, timeUnixNano: time, asDouble: v }
        : { startTimeUnixNano: start, timeUnixNano: time, asDouble: v };
    const n = (v: number, attributes?: KeyValue[]): NumberDataPoint =>
      attributes
        ? { attributes, startTimeUnixNano: start, timeUnixNano: time, asInt: String(Math.floor(v)) }
        : { startTimeUnixNano: start, timeUnixNano: time, asInt: String(Math.floor(v)) };
    const wobble = 1 + 0.05 * Math.sin(nowMs / 10_000 + i);
    const metrics: Metric[] = [
      sumOf(ProcessMetric.cpuTime, 's', true, [
        d(p.cpuRate[0] * age, [str('state', 'user')]),
        d(p.cpuRate[1] * age, [str('state', 'system')]),
        d(p.cpuRate[2] * age, [str('state', 'wait')]),
      ]),
      sumOf(ProcessMetric.memoryUsage, 'By', false, [n(p.rssBytes * wobble)]),
      sumOf(ProcessMetric.memoryVirtual, 'By', false, [n(p.vsizeBytes)]),
      sumOf(ProcessMetric.diskIo, 'By', true, [
        n(p.ioRate[0] * age, [str('direction', 'read')]),
        n(p.ioRate[1] * age, [str('direction', 'write')]),
      ]),
      sumOf(ProcessMetric.pagingFaults, '{faults}', true, [
        n(p.faultRate[0] * age, [str('type', 'major')]),
        n(p.faultRate[1] * age, [str('type', 'minor')]),
      ]),
      sumOf(ProcessMetric.contextSwitches, '{count}', true, [
        n(p.ctxRate[0] * age, [str('type', 'voluntary')]),
        n(p.ctxRate[1] * age, [str('type', 'involuntary')]),
      ]),
      sumOf(ProcessMetric.threads, '{threads}', false, [n(p.threads)]),
      sumOf(ProcessMetric.openFds, '{count}', false, [n(p.fds)]),
      sumOf('process.signals_pending', '{signals}', false, [n(0)]),
      { name: ProcessMetric.uptime, unit: 's', description: '', gauge: { dataPoints: [d(age)] } },
    ];
    return {
      resource: {
        attributes: [
          int(ResourceAttr.pid, p.pid),
          int(ResourceAttr.parentPid, p.ppid),
          str(ResourceAttr.executableName, p.name),
          str(ResourceAttr.executablePath, p.exe),
          str('process.command', p.exe),
          str(ResourceAttr.commandLine, p.cmdline),
          str(ResourceAttr.owner, p.owner),
          str(ResourceAttr.hostName, this.hostName),
        ],
      },
      scopeMetrics: [{ scope: { name: PROCESS_SCRAPER_SCOPE, version: PROCESS_SCRAPER_VERSION }, metrics }],
    };
  }
}
