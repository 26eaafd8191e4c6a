/**
 * The native backend: the addon's scanner behind the same interface as the
 * TypeScript reader. The scan runs on a libuv pool thread; this wrapper only
 * turns its columns into a ProcessBatch and parses the host files with the
 * shared parsers, so both backends agree on host info too.
 */
import type { ProcessBatch } from '../batch.js';
import { normalizeBounds } from '../bounds.js';
import { hostInfoFromTexts, ProcfsReader, readHostname } from '../procfs/reader.js';
import { sysconf } from '../procfs/sysconf.js';
import { type ProcessScanner, resolveFiles, type ScanOptions } from '../scanner.js';
import type { Addon, AddonScanBounds, AddonScanner, AddonScanReads, RawScan } from './addon.js';

export interface NativeScannerOptions {
  procRoot: string;
  /** cap on kept `stat` fds for this scanner (default: the process-wide budget) */
  maxKeptFds?: number;
  /** host.name of every row; default `<procRoot>/sys/kernel/hostname` */
  hostName?: string;
}

export class NativeScanner implements ProcessScanner {
  readonly backend = 'native' as const;
  readonly procRoot: string;
  private readonly core: AddonScanner;
  private hostname: string | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** diagnostics of the last scan (kept fds, files opened, reopened) */
  lastScan: Pick<RawScan, 'keptFds' | 'opened' | 'reopened' | 'detailRows' | 'scanNs'> | undefined;

  constructor(
    private readonly addon: Addon,
    opts: NativeScannerOptions,
  ) {
    this.procRoot = opts.procRoot;
    this.hostname = opts.hostName || undefined;
    const { clkTck, pageSize } = sysconf();
    this.core = new addon.Scanner({ procRoot: opts.procRoot, clkTck, pageSize, maxKeptFds: opts.maxKeptFds });
  }

  /** Throws NRDOT_ERR_NOT_PROCFS like the TypeScript reader (same checks: files present, host files parse). */
  validateRoot(): void {
    new ProcfsReader({ procRoot: this.procRoot }).validateRoot();
  }

  get isProcfs(): boolean {
    return this.core.isProcfs;
  }

  fdLimits() {
    return this.addon.limits();
  }

  /** Scans are serialised: a second call waits for the first. */
  scan(opts: ScanOptions = {}): Promise<ProcessBatch> {
    const detail = opts.detail ? Int32Array.from(opts.detail) : null;
    let bounds: AddonScanBounds | null = null;
    try {
      if (opts.bounds) bounds = { ...normalizeBounds(opts.bounds), keep: Int32Array.from(opts.keep ?? []) };
    } catch (e) {
      return Promise.reject(e);
    }
    const reads: AddonScanReads = { ...resolveFiles(opts.files), cgroup: opts.cgroup !== false };
    const next = this.queue.then(
      () => this.scanOnce(detail, bounds, reads),
      () => this.scanOnce(detail, bounds, reads),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  close(): void {
    this.core.close();
  }

  private async scanOnce(
    detail: Int32Array | null,
    bounds: AddonScanBounds | null,
    reads: AddonScanReads,
  ): Promise<ProcessBatch> {
    const r = await this.core.scan(detail, bounds, reads);
    this.hostname ??= readHostname(this.procRoot);
    const host = hostInfoFromTexts(
      this.procRoot,
      { stat: r.hostStat ?? undefined, uptime: r.uptime ?? undefined, meminfo: r.meminfo ?? undefined },
      this.hostname,
    );
    if (r.listError) {
      throw Object.assign(new Error(`${r.listError}: ${r.listErrorMessage}, scandir '${this.procRoot}'`), {
        code: r.listError,
      });
    }
    this.lastScan = {
      keptFds: r.keptFds,
      opened: r.opened,
      reopened: r.reopened,
      detailRows: r.detailRows,
      scanNs: r.scanNs,
    };
    return {
      count: r.count,
      host,
      scannedAtMs: r.scannedAtMs,
      pid: r.pid,
      ppid: r.ppid,
      startTicks: r.startTicks,
      utimeSec: r.utimeSec,
      stimeSec: r.stimeSec,
      iowaitSec: r.iowaitSec,
      rssBytes: r.rssBytes,
      vsizeBytes: r.vsizeBytes,
      threads: r.threads,
      fds: r.fds,
      state: r.state,
      readBytes: r.readBytes,
      writeBytes: r.writeBytes,
      minFaults: r.minFaults,
      majFaults: r.majFaults,
      volCtx: r.volCtx,
      involCtx: r.involCtx,
      uid: r.uid,
      flags: r.flags,
      freshRows: r.freshRows,
      freshName: r.freshName,
      freshCmdline: r.freshCmdline,
      freshExe: r.freshExe,
      freshCgroup: r.freshCgroup,
      counters: {
        vanished: r.vanished,
        denied: r.denied,
        malformed: r.malformed,
        cgroupUnreadable: r.cgroupUnreadable,
        ...(r.excluded ? { excluded: r.excluded } : {}),
      },
    };
  }
}
