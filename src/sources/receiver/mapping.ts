/**
 * From received OTLP to nrdot's process model (pure functions).
 *
 * - `splitRequest` separates the process data a Collector's hostmetrics
 *   `process` scraper sends (resources carrying `process.pid` and at least
 *   one gauge/sum metric named like the scraper's, see ProcessMetric) from
 *   everything else, which passes through unchanged. A process resource
 *   stays whole: its other metrics (`process.signals_pending`, a histogram,
 *   ...) go wherever the process goes, in the same resource.
 * - `groupByHost` groups process resources by `host.name`.
 * - `toProcessBatch` turns one host's process resources into a ProcessBatch.
 *
 * The batch's host clock: the receiver has no boot time or ticks, so
 * `host.bootTimeSec = 0`, `host.clkTck = 100`, `startTicks = process start in
 * epoch seconds × 100` (so `startEpochSec()` is the process start) and
 * `host.uptimeSec` is the latest point time in epoch seconds (the receive
 * time when no point has one), so ages and CPU rates come out right.
 * `host.cpuCount` is taken from a `host.cpu.count` (or
 * `system.cpu.logical.count` / `host.cpu.logical_count`) resource attribute
 * when one is present, else 1: the scraper does not send it, and CPU
 * utilization is then a fraction of one core.
 */

import {
  type AnyValue,
  attrNumber,
  attrString,
  attrValue,
  type ExportMetricsServiceRequest,
  type KeyValue,
  type Metric,
  metricDataPoints,
  type NumberDataPoint,
  type ResourceMetrics,
} from '../../otlp/model.js';
import { ProcessMetric, ResourceAttr } from '../../telemetry/names.js';
import {
  allocBatch,
  countOrUnknown,
  FLAG_DETAIL,
  FLAG_NEW_IDENTITY,
  type HostInfo,
  type ProcessBatch,
  UNKNOWN,
} from '../batch.js';

const PROCESS_METRICS: ReadonlySet<string> = new Set(Object.values(ProcessMetric));
const CPU_COUNT_ATTRS = ['host.cpu.count', 'system.cpu.logical.count', 'host.cpu.logical_count'];
/** The raw `/proc/<pid>/cgroup` text, when a sender attaches it (freshCgroup; '' when absent). */
const CGROUP_ATTR = 'process.cgroup';

/** A ProcessBatch built from received data, with the owner names the scraper sent. */
export interface ReceivedBatch extends ProcessBatch {
  /** `process.owner` of each fresh row ('' when absent); `uid` is set only when the owner is numeric */
  freshOwner: string[];
}

export interface SplitRequest {
  /** process resources carrying at least one metric nrdot models (whole, as received) */
  processes: ResourceMetrics[];
  /** everything else, in the request's order */
  passthrough: ExportMetricsServiceRequest;
}

/** Whether a resource is a process resource (the scraper's shape: it carries `process.pid`). */
export function isProcessResource(rm: ResourceMetrics): boolean {
  return attrValue(rm.resource.attributes, ResourceAttr.pid) !== undefined;
}

/** A metric the process batch models: a known process metric name with number data. */
export function isProcessMetric(m: Metric): boolean {
  return PROCESS_METRICS.has(m.name) && (m.gauge !== undefined || m.sum !== undefined);
}

export function splitRequest(req: ExportMetricsServiceRequest): SplitRequest {
  const processes: ResourceMetrics[] = [];
  const passthrough: ResourceMetrics[] = [];
  for (const rm of req.resourceMetrics) {
    if (isProcessResource(rm) && rm.scopeMetrics.some((sm) => sm.metrics.some(isProcessMetric))) processes.push(rm);
    else passthrough.push(rm);
  }
  return { processes, passthrough: { resourceMetrics: passthrough } };
}

/** Process resources by `host.name` ('' when absent), in arrival order. */
export function groupByHost(resources: ResourceMetrics[]): Map<string, ResourceMetrics[]> {
  const out = new Map<string, ResourceMetrics[]>();
  for (const rm of resources) {
    const host = attrString(rm.resource.attributes, ResourceAttr.hostName) ?? '';
    const list = out.get(host);
    if (list) list.push(rm);
    else out.set(host, [rm]);
  }
  return out;
}

/** Nanoseconds since the epoch (decimal string) to seconds. */
export function nanosToSec(ns: string): number {
  if (ns.length <= 9) return Number(ns) / 1e9;
  return Number(ns.slice(0, -9)) + Number(ns.slice(-9)) / 1e9;
}

/**
 * A point's value for the model, or NaN (unknown) when the model could not
 * hold it exactly: negative, not finite, or beyond 2^53 (an int64 past it
 * is rounded by Number(), so it is left out, never taken rounded). A count
 * must also be whole (`countOrUnknown` where the batch is filled). The
 * process is still exported as it came; only nrdot's own figures (rates,
 * decisions, roll-ups) skip the value.
 */
const value = (p: NumberDataPoint): number => {
  const v = p.asDouble !== undefined ? p.asDouble : Number(p.asInt ?? Number.NaN);
  return v >= 0 && v <= Number.MAX_SAFE_INTEGER ? v : Number.NaN;
};

function pointAttr(p: NumberDataPoint, key: string): string | undefined {
  return attrString(p.attributes, key);
}

/** The values one resource carries, UNKNOWN where it carries none. */
interface Row {
  utime: number;
  stime: number;
  iowait: number;
  rss: number;
  vsize: number;
  read: number;
  write: number;
  threads: number;
  fds: number;
  minFaults: number;
  majFaults: number;
  vol: number;
  invol: number;
  startNs: string | undefined;
  latestSec: number;
  /** the latest point time as sent ('' without points) */
  latestNs: string;
}

/** Whether decimal nanosecond string `a` is later than `b` (no precision lost to doubles). */
function laterNs(a: string, b: string): boolean {
  return a.length > b.length || (a.length === b.length && a > b);
}

function readRow(rm: ResourceMetrics): Row {
  const r: Row = {
    utime: UNKNOWN,
    stime: UNKNOWN,
    iowait: UNKNOWN,
    rss: UNKNOWN,
    vsize: UNKNOWN,
    read: UNKNOWN,
    write: UNKNOWN,
    threads: UNKNOWN,
    fds: UNKNOWN,
    minFaults: UNKNOWN,
    majFaults: UNKNOWN,
    vol: UNKNOWN,
    invol: UNKNOWN,
    startNs: undefined,
    latestSec: 0,
    latestNs: '',
  };
  let latestNs = '';
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      // the collection time: the latest time of any of the resource's points (each point is seen once)
      const modelled = PROCESS_METRICS.has(m.name) ? (m.sum?.dataPoints ?? m.gauge?.dataPoints) : undefined;
      if (!modelled) {
        for (const p of metricDataPoints(m)) {
          if (typeof p.timeUnixNano === 'string' && laterNs(p.timeUnixNano, latestNs)) latestNs = p.timeUnixNano;
        }
        continue;
      }
      for (const p of modelled) {
        if (typeof p.timeUnixNano === 'string' && laterNs(p.timeUnixNano, latestNs)) latestNs = p.timeUnixNano;
        const v = value(p);
        if (Number.isNaN(v)) continue;
        if (
          m.sum &&
          p.startTimeUnixNano !== undefined &&
          (r.startNs === undefined || m.name === ProcessMetric.cpuTime)
        ) {
          r.startNs = p.startTimeUnixNano;
        }
        switch (m.name) {
          case ProcessMetric.cpuTime: {
            const s = pointAttr(p, 'state');
            if (s === 'user') r.utime = v;
            else if (s === 'system') r.stime = v;
            else if (s === 'wait') r.iowait = v;
            break;
          }
          case ProcessMetric.memoryUsage:
            r.rss = v;
            break;
          case ProcessMetric.memoryVirtual:
            r.vsize = v;
            break;
          case ProcessMetric.diskIo: {
            const d = pointAttr(p, 'direction');
            if (d === 'read') r.read = v;
            else if (d === 'write') r.write = v;
            break;
          }
          case ProcessMetric.threads:
            r.threads = v;
            break;
          case ProcessMetric.openFds:
            r.fds = v;
            break;
          case ProcessMetric.pagingFaults: {
            const t = pointAttr(p, 'type');
            if (t === 'major') r.majFaults = v;
            else if (t === 'minor') r.minFaults = v;
            break;
          }
          case ProcessMetric.contextSwitches: {
            const t = pointAttr(p, 'type');
            if (t === 'voluntary') r.vol = v;
            else if (t === 'involuntary') r.invol = v;
            break;
          }
        }
      }
    }
  }
  r.latestSec = latestNs ? nanosToSec(latestNs) : 0;
  r.latestNs = latestNs;
  return r;
}

/** A process resource's command line: `process.command_line`, else `process.command_args` joined, else `process.command`. */
export function commandLine(attrs: KeyValue[]): string {
  const line = attrString(attrs, ResourceAttr.commandLine);
  if (line !== undefined) return line;
  const cmd = attrString(attrs, 'process.command') ?? '';
  const args = attrValue(attrs, 'process.command_args') as { arrayValue?: { values: AnyValue[] } } | undefined;
  if (!args?.arrayValue) return cmd;
  const parts = args.arrayValue.values.map((v) => (v as { stringValue?: string }).stringValue ?? '');
  // the scraper's command_args starts with the command itself
  return parts.length ? parts.join(' ') : cmd;
}

const STATE_UNKNOWN = '?'.charCodeAt(0);

/**
 * One host's process resources as a ProcessBatch (every row a new identity
 * with its strings, FLAG_DETAIL set: what the scraper sent is all there is).
 * Metrics a resource does not carry are UNKNOWN (-1), as a denied file is
 * for the procfs scanners. `state` is '?' (the scraper does not send it).
 */
export function toProcessBatch(resources: ResourceMetrics[], hostName: string, receivedAtMs: number): ReceivedBatch {
  let cpuCount: number | undefined;
  for (const rm of resources) {
    for (const key of CPU_COUNT_ATTRS) {
      const n = attrNumber(rm.resource.attributes, key);
      if (n !== undefined && n >= 1) {
        cpuCount = Math.floor(n);
        break;
      }
    }
    if (cpuCount !== undefined) break;
  }
  const host: HostInfo = {
    hostname: hostName,
    bootTimeSec: 0,
    uptimeSec: receivedAtMs / 1000,
    cpuCount: cpuCount ?? 1,
    memTotalBytes: 0,
    clkTck: 100,
    pageSize: 4096,
  };
  const n = resources.length;
  const b = allocBatch(n, host) as ReceivedBatch;
  b.scannedAtMs = receivedAtMs;
  b.freshRows = new Int32Array(n);
  b.freshName = new Array(n);
  b.freshCmdline = new Array(n);
  b.freshExe = new Array(n);
  b.freshCgroup = new Array(n);
  b.freshOwner = new Array(n);
  let latest = 0;
  let latestNs = '';
  for (let i = 0; i < n; i++) {
    const attrs = resources[i]!.resource.attributes;
    const r = readRow(resources[i]!);
    if (r.latestSec > latest) latest = r.latestSec;
    if (laterNs(r.latestNs, latestNs)) latestNs = r.latestNs;
    b.pid[i] = attrNumber(attrs, ResourceAttr.pid) ?? 0;
    b.ppid[i] = attrNumber(attrs, ResourceAttr.parentPid) ?? UNKNOWN;
    b.startTicks[i] = r.startNs !== undefined ? nanosToSec(r.startNs) * host.clkTck : 0;
    b.utimeSec[i] = r.utime;
    b.stimeSec[i] = r.stime;
    b.iowaitSec[i] = r.iowait;
    // counts a double cannot hold exactly are UNKNOWN (value() already left out those past 2^53)
    b.rssBytes[i] = countOrUnknown(r.rss);
    b.vsizeBytes[i] = countOrUnknown(r.vsize);
    b.threads[i] = r.threads;
    b.fds[i] = r.fds;
    b.state[i] = STATE_UNKNOWN;
    b.readBytes[i] = countOrUnknown(r.read);
    b.writeBytes[i] = countOrUnknown(r.write);
    b.minFaults[i] = countOrUnknown(r.minFaults);
    b.majFaults[i] = countOrUnknown(r.majFaults);
    b.volCtx[i] = countOrUnknown(r.vol);
    b.involCtx[i] = countOrUnknown(r.invol);
    const owner = attrString(attrs, ResourceAttr.owner) ?? '';
    b.uid[i] = /^\d+$/.test(owner) ? Number(owner) : UNKNOWN;
    b.flags[i] = FLAG_NEW_IDENTITY | FLAG_DETAIL;
    b.freshRows[i] = i;
    b.freshName[i] = attrString(attrs, ResourceAttr.executableName) ?? '';
    b.freshCmdline[i] = commandLine(attrs);
    b.freshExe[i] = attrString(attrs, ResourceAttr.executablePath) ?? '';
    b.freshCgroup[i] = attrString(attrs, CGROUP_ATTR) ?? '';
    b.freshOwner[i] = owner;
  }
  b.count = n;
  b.source = resources;
  if (latestNs) b.timeUnixNano = latestNs;
  if (latest > 0) host.uptimeSec = latest;
  return b;
}
