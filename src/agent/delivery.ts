/**
 * What became of the data the agent accepted, per exporter, read after
 * shutdown: delivered, still queued (kept on disk, or lost with a memory
 * queue), dropped (by the queue: cap, disk_full, io_error, corrupt),
 * refused by the backend (4xx, partial success), or failed to write (file,
 * stdout). `run --once` / `--cycles N` exits 3 when anything was not
 * delivered and is not kept for the next start (docs: README, exit codes);
 * the shutdown log line reports the same figures.
 */
import type { Fanout } from '../exporters/fanout.js';
import { QueuedOtlpExporter } from '../exporters/otlp/queued.js';
import { DROP_REASONS, type QueueDropReason } from '../exporters/queue/index.js';

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

/** Read after `Fanout.shutdown()`: queues have drained what they could. */
export function deliveryReport(sink: Pick<Fanout, 'exporters' | 'exporterStats'>): DeliveryReport {
  const stats = sink.exporterStats();
  let shortfall = false;
  const exporters = sink.exporters.map((e, i): ExporterDelivery => {
    const s = stats[i]!;
    if (!(e instanceof QueuedOtlpExporter)) {
      if (s.errors > 0) shortfall = true;
      return { exporter: e.name, failedWrites: s.errors, bytes: s.bytes };
    }
    const h = e.health();
    const q = e.queue.stats();
    const dropped: ExporterDelivery['dropped'] = {};
    for (const r of DROP_REASONS) if (q.dropped[r].records > 0) dropped[r] = { ...q.dropped[r] };
    const rejectedPoints = h.dropped.rejected ?? 0;
    const partialPoints = h.dropped.partial ?? 0;
    const lost = !h.queue.persistent && h.queue.records > 0;
    if (Object.keys(dropped).length > 0 || rejectedPoints > 0 || partialPoints > 0 || lost) shortfall = true;
    return {
      exporter: e.name,
      failedWrites: 0,
      bytes: h.sent.bytes,
      sent: { records: h.sent.records, points: h.sent.points },
      queued: { records: h.queue.records, bytes: h.queue.bytes, persistent: h.queue.persistent },
      dropped,
      rejectedPoints,
      partialPoints,
    };
  });
  return { exporters, shortfall };
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
