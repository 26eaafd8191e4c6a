/** Human formatting for the CLI (only the CLI prints for humans). */
import type { DeliveryReport } from '../agent/delivery.js';
import type { CycleReport } from '../pipeline/engine.js';

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

export function pct(x: number, digits = 1): string {
  return `${(x * 100).toFixed(digits)}%`;
}

/**
 * The one-line summary printed for every cycle. The baseline is the
 * hostmetrics process scraper's default export of every present process;
 * the reduction is in data points against it.
 */
export function summaryLine(r: CycleReport): string {
  const errors = r.exportErrors;
  return (
    `cycle ${r.cycle} [${r.profile}] processes ${r.processes}, exported ${r.exported}, rolled up ${r.rolledUp}` +
    ` | points ${r.datapoints.exported}/${r.datapoints.baseline}` +
    ` | bytes ${bytes(r.bytes.exported)} vs baseline ${bytes(r.bytes.baseline)}` +
    ` | reduction ${pct(r.reduction.datapoints)}` +
    ` | critical ${r.critical.exported}/${r.critical.present} (${pct(r.coverageCritical, 0)})` +
    ` | visibility ${pct(Math.min(r.visibility.cpu, r.visibility.memory), 0)}` +
    ` | ${r.cycleMs.toFixed(0)} ms` +
    (errors > 0 ? ` | export errors ${errors}` : '') +
    (r.anomalies.present > 0 ? ` | anomalies ${r.anomalies.present}` : '') +
    (r.queued.records > 0 ? ` | queued ${r.queued.records} (${bytes(r.queued.bytes)})` : '') +
    (r.memory.tier > 0 ? ` | memory ${r.memory.tierName} (${pct(r.memory.usage, 0)})` : '')
  );
}

/**
 * Why `run --once` / `--cycles` exits 3: each exporter's data that was
 * neither delivered nor kept on disk, in words.
 */
export function shortfallMessage(report: DeliveryReport): string {
  const parts: string[] = [];
  for (const e of report.exporters) {
    const what: string[] = [];
    if (e.failedWrites > 0) what.push(`${e.failedWrites} failed writes`);
    for (const [reason, d] of Object.entries(e.dropped ?? {})) {
      what.push(`${d.records} requests (${bytes(d.bytes)}) dropped by the queue (${reason})`);
    }
    if (e.rejectedPoints) what.push(`${e.rejectedPoints} data points refused by the backend`);
    if (e.partialPoints) what.push(`${e.partialPoints} data points rejected in partial successes`);
    if (e.queued && !e.queued.persistent && e.queued.records > 0) {
      what.push(
        `${e.queued.records} requests (${bytes(e.queued.bytes)}) still queued in memory at exit were lost (--queue-dir keeps them)`,
      );
    }
    if (what.length > 0) parts.push(`${e.exporter}: ${what.join(', ')}`);
  }
  return `not all accepted data was delivered: ${parts.join('; ')}`;
}
