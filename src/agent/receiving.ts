/**
 * nrdot behind a Collector: what the OTLP receiver accepts goes through here.
 *
 * Each request is split (src/sources/receiver/mapping.ts): process resources in the
 * hostmetrics scraper's shape are grouped by `host.name`, and each host gets
 * its own engine, with its own identities, counters, baselines and roll-ups,
 * so classification, scoring, the profile and the paths apply to them exactly
 * as to scanned processes. Everything else (other resources, other metrics,
 * odd types) passes through to the exporters unchanged, on the standard path.
 *
 * Requests for one host are processed one after another (an engine is not
 * re-entrant); hosts not heard from for `receiver.host_ttl` are forgotten.
 * Each batch runs on what the agent runs now (`live`): the profile in force,
 * the control loop's knob, and the config of the last hot reload (a host
 * engine built on an older config is rebuilt on the new one before the
 * batch, its identities and stage state carried over as the scan engine's
 * are).
 * At most `receiver.max_hosts` hosts are optimized at once: a new host takes
 * the place of the least recently seen one when that one has been quiet for
 * `receiver.host_idle`, and otherwise its data passes through as received
 * (counted and logged), so a flood of host names neither exhausts memory nor
 * locks the known hosts out.
 */

import { type Config, durationMs, type ProfileConfig } from '../config/schema.js';
import type { Lane } from '../core/lanes.js';
import type { Logger } from '../core/log.js';
import {
  attrNumber,
  attrString,
  countDataPoints,
  type ExportMetricsServiceRequest,
  type Metric,
  type ResourceMetrics,
} from '../otlp/model.js';
import { encodeRequest } from '../otlp/proto.js';
import { reportSplit, splitByLane } from '../otlp/split.js';
import { Engine, type ExportSink, type MemoryView } from '../pipeline/engine.js';
import type { CycleResult } from '../pipeline/types.js';
import {
  groupByHost,
  isProcessResource,
  type ReceiverSink,
  splitRequest,
  toProcessBatch,
} from '../sources/receiver/index.js';
import { ResourceAttr } from '../telemetry/names.js';
import type { CommandLinePrivacy } from '../util/privacy.js';
import { carryState } from './carry.js';

interface HostEngine {
  engine: Engine;
  /** the config it was built on (a hot reload makes it rebuild) */
  config: Config;
  /** pids the last cycle exported, and their path (their extras follow them) */
  exported?: ReadonlyMap<number, Lane>;
  /** the tail of this host's work queue */
  tail: Promise<unknown>;
  lastMs: number;
}

export interface ReceivedStats {
  hosts: number;
  /** hosts forgotten to make room for a new one (quiet for host_idle) */
  hostsEvicted: number;
  /** resources of hosts beyond max_hosts, passed through as received */
  hostsPassedThrough: number;
  /** requests processed (the HTTP side counts answers by status in `requests`) */
  processed: number;
  processResources: number;
  passthroughResources: number;
  passthroughPoints: number;
  /** resources of unmodelled per-process metrics left out with their rolled-up process */
  extrasDropped: number;
}

function hostOf(rm: ResourceMetrics): string {
  return attrString(rm.resource.attributes, ResourceAttr.hostName) ?? '';
}

function pidOf(rm: ResourceMetrics): number {
  return attrNumber(rm.resource.attributes, ResourceAttr.pid) ?? Number.NaN;
}

/** A per-process number metric (`process.*`, gauge or sum) that nrdot does not model. */
function isPerProcessNumber(m: Metric): boolean {
  return m.name.startsWith('process.') && (m.gauge !== undefined || m.sum !== undefined);
}

/** What the agent runs now, read at every batch. */
export interface ReceivingLive {
  /** the config in effect (hot reload replaces it) */
  config: Config;
  intervalMs: number;
  /** privacy.command_line of that config (salt read); default: as received */
  privacy?: CommandLinePrivacy;
  /** the control loop's knob (Engine.setProfileOverride); undefined: the profile as configured */
  knob?: (name: string, p: ProfileConfig) => ProfileConfig;
}

export interface ReceivingOptions {
  /** the config at start: its `receiver.*` (host_ttl, host_idle, max_hosts) hold for the processor's life */
  config: Config;
  /** the profile in force */
  profile: () => string;
  sink: ExportSink;
  logger: Logger;
  intervalMs: number;
  /** what the agent runs now; default: `config` and `intervalMs` as given, no knob */
  live?: () => ReceivingLive;
  memory?: MemoryView;
  now?: () => number;
  /** a host's batch was processed (the summary line and /metrics of received data) */
  onCycle?: (host: string, r: CycleResult) => void;
  /** a host was forgotten (quiet for host_ttl, or evicted for a new one) */
  onForget?: (host: string) => void;
}

export class ReceivedDataProcessor implements ReceiverSink {
  private readonly hosts = new Map<string, HostEngine>();
  private readonly o: ReceivingOptions;
  private readonly now: () => number;
  private readonly hostTtlMs: number;
  private readonly hostIdleMs: number;
  private readonly maxHosts: number;
  private closed = false;
  private lastCapLog = -Infinity;
  readonly counts: Omit<ReceivedStats, 'hosts'> = {
    hostsEvicted: 0,
    hostsPassedThrough: 0,
    processed: 0,
    processResources: 0,
    passthroughResources: 0,
    passthroughPoints: 0,
    extrasDropped: 0,
  };
  private readonly live: () => ReceivingLive;

  constructor(o: ReceivingOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
    const r = o.config.receiver;
    this.hostTtlMs = durationMs(r.host_ttl);
    this.hostIdleMs = durationMs(r.host_idle);
    this.maxHosts = r.max_hosts;
    this.live = o.live ?? (() => ({ config: o.config, intervalMs: o.intervalMs }));
  }

  /**
   * Before a body is read: refused only while shutting down. Memory
   * refusals are the receiver's admission (src/control/admission.ts), which
   * decides in the same synchronous step, at the hardest tier, before this.
   */
  admit(): { ok: true } | { ok: false; retryAfterSec: number; reason: string } {
    if (this.closed) return { ok: false, retryAfterSec: 5, reason: 'shutting down' };
    return { ok: true };
  }

  async accept(req: ExportMetricsServiceRequest): Promise<{ rejectedDataPoints?: number; errorMessage?: string }> {
    this.counts.processed++;
    const { processes, passthrough } = splitRequest(req);
    // Per-process metrics nrdot does not model (process.signals_pending,
    // process.disk.operations, ...) ride with their process: exported when
    // the process is, left out when it is rolled up. Everything else passes.
    const extras = new Map<string, ResourceMetrics[]>();
    const other: ResourceMetrics[] = [];
    for (const rm of passthrough.resourceMetrics) {
      if (isProcessResource(rm) && rm.scopeMetrics.every((sm) => sm.metrics.every(isPerProcessNumber))) {
        const host = hostOf(rm);
        const l = extras.get(host);
        if (l) l.push(rm);
        else extras.set(host, [rm]);
      } else {
        other.push(rm);
      }
    }
    const work: Promise<unknown>[] = [];
    if (other.length > 0) work.push(this.forward({ resourceMetrics: other }));
    const receivedAt = this.now();
    this.sweep(receivedAt);
    for (const [host, resources] of groupByHost(processes)) {
      if (!this.makeRoom(host, receivedAt)) {
        // beyond max_hosts: passed through as received, never refused
        const rest = [...resources, ...(extras.get(host) ?? [])];
        extras.delete(host);
        this.counts.hostsPassedThrough += rest.length;
        work.push(this.forward({ resourceMetrics: rest }));
        continue;
      }
      this.counts.processResources += resources.length;
      work.push(this.runHost(host, resources, receivedAt, extras.get(host) ?? []));
      extras.delete(host);
    }
    // extras of a process whose main metrics did not come: nothing decides for them
    for (const rest of extras.values()) work.push(this.forward({ resourceMetrics: rest }));
    await Promise.all(work);
    return {};
  }

  /**
   * Whether `host` has (or now gets) an engine: at max_hosts, the least
   * recently seen host makes room when it has been quiet for host_idle.
   */
  private makeRoom(host: string, nowMs: number): boolean {
    if (this.hosts.has(host) || this.hosts.size < this.maxHosts) return true;
    let lru: [string, HostEngine] | undefined;
    for (const e of this.hosts) if (!lru || e[1].lastMs < lru[1].lastMs) lru = e;
    if (lru && nowMs - lru[1].lastMs >= this.hostIdleMs) {
      this.forget(lru[0], lru[1]);
      this.counts.hostsEvicted++;
      this.o.logger.info(
        { host: lru[0], for: host },
        'forgot the least recently seen host to make room (receiver.max_hosts)',
      );
      return true;
    }
    if (nowMs - this.lastCapLog >= 60_000) {
      this.lastCapLog = nowMs;
      this.o.logger.warn(
        { host, maxHosts: this.maxHosts, passedThrough: this.counts.hostsPassedThrough },
        'receiver.max_hosts reached and every known host is active: new hosts pass through as received',
      );
    }
    return false;
  }

  private forget(host: string, h: HostEngine): void {
    this.hosts.delete(host);
    this.o.onForget?.(host);
    void h.tail.then(() => h.engine.shutdown()).catch(() => undefined);
  }

  /** Non-process data: exported as it came, split under the request size limit. */
  /** `lanes`: the path of each resource (default: all standard). */
  private async forward(req: ExportMetricsServiceRequest, lanes?: Lane[]): Promise<void> {
    const pb = encodeRequest(req);
    const points = req.resourceMetrics.map((r) => countDataPoints({ resourceMetrics: [r] }));
    this.counts.passthroughResources += req.resourceMetrics.length;
    for (const p of points) this.counts.passthroughPoints += p;
    const config = this.live().config;
    const limit = config.export_options.otlp.max_request_bytes;
    const criticalLimit = config.paths.critical.max_request_bytes;
    await this.o.sink.export(req, pb, () => {
      const r = splitByLane({ protobuf: pb, lanes: lanes ?? points.map(() => 'standard' as const), points }, (lane) =>
        lane === 'critical' ? Math.min(criticalLimit, limit) : limit,
      );
      reportSplit(r, this.o.logger, limit);
      return r.batches;
    });
  }

  /** A host's engine on `live` (`from`: the engine it replaces after a hot reload, whose state it takes over). */
  private newEngine(host: string, he: HostEngine, live: ReceivingLive, from?: Engine): Engine {
    const shared = this.o.sink;
    const logger = this.o.logger.child({ host });
    const engine = new Engine({
      config: live.config,
      profile: this.o.profile(),
      scanner: { backend: 'otlp', scan: () => Promise.reject(new Error('received data is pushed')) },
      // the exporters are shared and owned by the agent
      sink: { start: async () => {}, shutdown: async () => {}, export: (p, e, b) => shared.export(p, e, b) },
      intervalMs: live.intervalMs,
      logger,
      memory: this.o.memory,
      privacy: live.privacy,
      selfTelemetry: false,
      ...(from
        ? { from: { engine: from, restore: (f, ids, parts) => carryState(f, ids, parts, this.now(), logger) } }
        : {}),
    });
    engine.onCycle((r) => {
      he.exported = r.exportedPids;
      this.o.onCycle?.(host, r);
    });
    return engine;
  }

  /** A hot reload changed the config: the host's engine is rebuilt on it, its state carried over. */
  private async rebuild(host: string, he: HostEngine, live: ReceivingLive): Promise<void> {
    const old = he.engine;
    const engine = this.newEngine(host, he, live, old);
    await engine.start();
    he.engine = engine;
    he.config = live.config;
    await old
      .shutdown()
      .catch((e) => this.o.logger.warn({ host, err: (e as Error).message }, 'reload: a host engine did not shut down'));
    this.o.logger.info(
      { host, identities: engine.identities },
      'reload: received data of this host runs the new config',
    );
  }

  private runHost(host: string, resources: ResourceMetrics[], atMs: number, extras: ResourceMetrics[]) {
    let h = this.hosts.get(host);
    if (!h) {
      const live = this.live();
      const he = { config: live.config, lastMs: atMs } as HostEngine;
      he.engine = this.newEngine(host, he, live);
      he.tail = he.engine.start();
      h = he;
      this.hosts.set(host, h);
      this.o.logger.info({ host }, 'receiving process data for a new host');
    }
    const he = h;
    he.lastMs = atMs;
    const run = async () => {
      const live = this.live();
      if (he.config !== live.config) await this.rebuild(host, he, live);
      he.engine.setProfileOverride(live.knob);
      const profile = this.o.profile();
      if (he.engine.activeProfile !== profile) he.engine.setProfile(profile);
      const b = toProcessBatch(resources, host, atMs);
      // the data's own time stamp (the collection time), not the receive time
      if (b.host.uptimeSec > 0) b.scannedAtMs = Math.round(b.host.uptimeSec * 1000);
      await he.engine.cycle(b);
      if (extras.length > 0) {
        const kept = he.exported;
        const send = extras.filter((rm) => kept?.has(pidOf(rm)) === true);
        this.counts.extrasDropped += extras.length - send.length;
        // on the path of their process: a critical process's extras go first too
        if (send.length > 0) {
          await this.forward(
            { resourceMetrics: send },
            send.map((rm) => kept?.get(pidOf(rm)) ?? 'standard'),
          );
        }
      }
    };
    const next = he.tail.then(run, run);
    he.tail = next.catch(() => undefined);
    return next;
  }

  private sweep(nowMs: number): void {
    for (const [host, h] of this.hosts) {
      if (nowMs - h.lastMs > this.hostTtlMs) {
        this.forget(host, h);
        this.o.logger.info({ host }, 'forgot a host that stopped sending process data');
      }
    }
  }

  stats(): ReceivedStats {
    return { hosts: this.hosts.size, ...this.counts };
  }

  /** Finish the work in hand; later requests are refused with 503. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.hosts.values()].map((h) => h.tail));
    await Promise.allSettled([...this.hosts.values()].map((h) => h.engine.shutdown()));
  }
}
