/** Human formatting for the CLI (only the CLI prints for humans). */
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
    ` | ${r.cycleMs.toFixed(0)} ms` +
    (errors > 0 ? ` | export errors ${errors}` : '') +
    (r.anomalies.present > 0 ? ` | anomalies ${r.anomalies.present}` : '') +
    (r.queued.records > 0 ? ` | queued ${r.queued.records} (${bytes(r.queued.bytes)})` : '') +
    (r.memory.tier > 0 ? ` | memory ${r.memory.tierName} (${pct(r.memory.usage, 0)})` : '')
  );
}
