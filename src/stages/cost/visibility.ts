/**
 * Visibility: the share of the host's process CPU time and resident memory
 * that the export shows by name, either as a process exported at full
 * resolution or inside a named group's aggregate (a pod, a container, a
 * service, an executable), as opposed to the anonymous `_other_` roll-up.
 *
 * Denominators are what every process present used this cycle (their CPU
 * rates and resident sets, not the host's idle time or page cache), so 1.0
 * means nothing vanished into `_other_`. Rows sampled on the sampled path
 * stay inside `_other_` and are not counted as visible. With nothing to
 * attribute (the first cycle has no CPU rates) a share is 1.
 */
import type { Frame } from '../../core/frame.js';
import { ROLLUP_NAME } from '../../telemetry/names.js';

export interface Visibility {
  /** share of the processes' CPU time, 0 to 1 */
  cpu: number;
  /** share of the processes' resident memory, 0 to 1 */
  memory: number;
}

/** Read after the rollup stage (f.keep and f.groups are final). */
export function visibility(f: Frame): Visibility {
  const b = f.batch;
  let cpuAll = 0;
  let memAll = 0;
  let cpuSeen = 0;
  let memSeen = 0;
  for (let i = 0; i < f.n; i++) {
    const c = f.cpuCores[i]!;
    const m = b.rssBytes[i]!;
    const cpu = c > 0 && Number.isFinite(c) ? c : 0;
    const mem = Math.max(m, 0);
    cpuAll += cpu;
    memAll += mem;
    if (f.keep[i] === 1) {
      cpuSeen += cpu;
      memSeen += mem;
    }
  }
  for (const g of f.groups) {
    if (g.name === ROLLUP_NAME) continue;
    cpuSeen += Math.max(g.cpuCores, 0);
    memSeen += Math.max(g.rssBytes, 0);
  }
  const share = (seen: number, all: number) => (all > 0 ? Math.min(1, seen / all) : 1);
  return { cpu: share(cpuSeen, cpuAll), memory: share(memSeen, memAll) };
}

/** The headline figure (summary line, the control loop's floor): the lower of the two shares. */
export function visibilityOf(v: Visibility): number {
  return Math.min(v.cpu, v.memory);
}
