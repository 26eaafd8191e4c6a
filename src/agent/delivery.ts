/**
 * What became of the data the agent accepted, per exporter, read after
 * shutdown: delivered, still queued (kept on disk, or lost with a memory
 * queue), dropped (by the queue: cap, disk_full, io_error, corrupt),
 * refused by the backend (4xx, partial success), or failed to write (file,
 * stdout). `run --once` / `--cycles N` exits 3 when anything was not
 * delivered and is not kept for the next start (docs: README, exit codes);
 * the shutdown log line reports the same figures.
 */
import type { Exporter } from '../exporters/exporter.js';
import type { ExporterStats } from '../exporters/fanout.js';
import { type ExportHealth, QueuedOtlpExporter } from '../exporters/otlp/queued.js';
import { DROP_REASONS, type QueueDropReason, type QueueStats } from '../exporters/queue/index.js';

export interface ExporterDelivery {
  exporter: string;
  /** export() calls that failed: file and stdout writes (a queued exporter counts its refusals under `dropped`) */
  failedWrites: number;
  /** bytes written or sent */
  bytes: number;
  /** queued OTLP: what was delivered over the agent's life */
  sent?: { records: number; points: number };
  /** queued OTLP: what is still queued after shutdown */
  queued?: { records: number; bytes: number; persistent: boolean };
  /** queued OTLP: records the queue dropped (evicted under its cap, refused, unreadable), by reason */
  dropped?: Partial<Record<QueueDropReason, { records: number; bytes: number }>>;
  /** queued OTLP: data points the backend refused for good (4xx other than 429) */
  rejectedPoints?: number;
  /** queued OTLP: data points a partial success rejected */
  partialPoints?: number;
}

export interface DeliveryReport {
  exporters: ExporterDelivery[];
  /** true when some accepted data was neither delivered nor kept on disk for the next start */
  shortfall: boolean;
}

/** What a queued exporter's delivery figures are read from (kept when the exporter itself is dropped). */
export interface QueueFigures {
  health: ExportHealth;
  dropped: QueueStats['dropped'];
}

/** The figures of `e` when it is a queued exporter. */
export function queueFigures(e: Exporter): QueueFigures | undefined {
  return e instanceof QueuedOtlpExporter ? { health: e.health(), dropped: e.queue.stats().dropped } : undefined;
}

/** One exporter's delivery: its export() counters, and for a queued exporter its queue's figures. */
export function exporterDelivery(s: ExporterStats, q?: QueueFigures): ExporterDelivery {
  if (!q) return { exporter: s.exporter, failedWrites: s.errors, bytes: s.bytes };
  const h = q.health;
  const dropped: ExporterDelivery['dropped'] = {};
  for (const r of DROP_REASONS) if (q.dropped[r].records > 0) dropped[r] = { ...q.dropped[r] };
  return {
    exporter: s.exporter,
    failedWrites: 0,
    bytes: h.sent.bytes,
    sent: { records: h.sent.records, points: h.sent.points },
    queued: { records: h.queue.records, bytes: h.queue.bytes, persistent: h.queue.persistent },
    dropped,
    rejectedPoints: h.dropped.rejected ?? 0,
    partialPoints: h.dropped.partial ?? 0,
  };
}

const plus = (a: number | undefined, b: number | undefined) => (a ?? 0) + (b ?? 0);

/** Two deliveries of exporters of the same name (one retired by a reload, one after it) as one. */
export function addDelivery(a: ExporterDelivery, b: ExporterDelivery): ExporterDelivery {
  const out: ExporterDelivery = {
    exporter: a.exporter,
    failedWrites: a.failedWrites + b.failedWrites,
    bytes: a.bytes + b.bytes,
  };
  if (a.sent || b.sent) {
    out.sent = { records: plus(a.sent?.records, b.sent?.records), points: plus(a.sent?.points, b.sent?.points) };
  }
  if (a.queued || b.queued) {
    out.queued = {
      records: plus(a.queued?.records, b.queued?.records),
      bytes: plus(a.queued?.bytes, b.queued?.bytes),
      persistent: (a.queued ?? b.queued)!.persistent && (b.queued ?? a.queued)!.persistent,
    };
  }
  if (a.dropped || b.dropped) {
    out.dropped = {};
    for (const r of DROP_REASONS) {
      const x = a.dropped?.[r];
      const y = b.dropped?.[r];
      if (x || y) out.dropped[r] = { records: plus(x?.records, y?.records), bytes: plus(x?.bytes, y?.bytes) };
    }
  }
  if (a.rejectedPoints !== undefined || b.rejectedPoints !== undefined) {
    out.rejectedPoints = plus(a.rejectedPoints, b.rejectedPoints);
  }
  if (a.partialPoints !== undefined || b.partialPoints !== undefined) {
    out.partialPoints = plus(a.partialPoints, b.partialPoints);
  }
  return out;
}

function undelivered(d: ExporterDelivery): boolean {
  if (!d.queued) return d.failedWrites > 0;
  const lost = !d.queued.persistent && d.queued.records > 0;
  return Object.keys(d.dropped ?? {}).length > 0 || (d.rejectedPoints ?? 0) > 0 || (d.partialPoints ?? 0) > 0 || lost;
}

/**
 * Read after the sink's shutdown: queues have drained what they could.
 * `deliveries()` covers every exporter the agent ran (src/agent/switch-sink.ts).
 */
export function deliveryReport(sink: { deliveries(): ExporterDelivery[] }): DeliveryReport {
  const exporters = sink.deliveries();
  return { exporters, shortfall: exporters.some(undelivered) };
}

function kib(n: number): string {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

/**
 * The shutdown log line: what was flushed, what is still queued (and
 * whether it is kept), where state was saved. `msg` says it in words for
 * people; the fields carry the same for machines.
 */
export function shutdownLine(
  report: DeliveryReport,
  where: { stateDir?: string; queueDir?: string },
): { msg: string; fields: Record<string, unknown> } {
  const flushed: string[] = [];
  const queued: string[] = [];
  for (const e of report.exporters) {
    if (e.sent) flushed.push(`${e.exporter} ${e.sent.points} points in ${e.sent.records} requests`);
    else if (e.bytes > 0) flushed.push(`${e.exporter} ${kib(e.bytes)}`);
    if (e.queued && e.queued.records > 0) {
      queued.push(
        `${e.exporter} ${e.queued.records} requests (${kib(e.queued.bytes)}) ${
          e.queued.persistent ? `kept on disk under ${where.queueDir}` : 'LOST (memory queue)'
        }`,
      );
    }
  }
  const msg = [
    `stopped: flushed ${flushed.length ? flushed.join(', ') : 'nothing'}`,
    `still queued: ${queued.length ? queued.join(', ') : 'nothing'}`,
    where.stateDir ? `state saved in ${where.stateDir}` : 'state not kept (no --state-dir)',
  ].join('; ');
  return {
    msg,
    fields: {
      exporters: report.exporters,
      stateDir: where.stateDir ?? null,
      queueDir: where.queueDir || null,
      undelivered: report.shortfall,
    },
  };
}
