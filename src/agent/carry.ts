/**
 * What a reloaded engine takes over from the one it replaces, between two
 * cycles: every live identity (pid, start time and its strings: the scanner
 * does not send a known process's name again), and the state of every
 * stateful stage (CPU-rate counters, EWMA baselines, group roll-ups,
 * heartbeats), through the checkpoint's own encoding, in memory. So the
 * carry-over is exactly what a restart restores, with the same checks: a
 * stage whose columns changed shape under the new config (another metric
 * set, say) starts fresh, and says so; the others continue.
 */
import type { IdentityTable } from '../core/identity.js';
import type { Logger } from '../core/log.js';
import type { EngineHandOver } from '../pipeline/types.js';
import { decodeCheckpoint, encodeCheckpoint, restorePart, type Stateful } from '../state/checkpoint.js';

export interface Carried {
  processes: number;
  /** stage state taken over, by section name */
  parts: string[];
  /** stage state that starts fresh, with the reason */
  fresh: string[];
}

export function carryState(
  from: EngineHandOver,
  ids: IdentityTable,
  parts: readonly Stateful[],
  nowMs: number,
  logger: Logger,
): Carried {
  const d = decodeCheckpoint(encodeCheckpoint(from.ids, from.stateful, '', nowMs));
  if (!d.ok) throw new Error(`cannot carry the pipeline state over: ${d.reason}`);
  const old = [...from.ids.slots()];
  const slotOf = new Int32Array(d.pid.length);
  for (let i = 0; i < d.pid.length; i++) {
    const s = ids.restore(d.pid[i]!, d.start[i]!);
    const o = old[i]!;
    slotOf[i] = s;
    ids.copyStrings(s, from.ids, o);
  }
  const carried: Carried = { processes: d.pid.length, parts: [], fresh: [] };
  for (const p of parts) {
    const why = p.restoreAllowed?.(nowMs, nowMs) ?? restorePart(p, d, slotOf);
    if (why === undefined) carried.parts.push(p.stateName);
    else carried.fresh.push(`${p.stateName}: ${why}`);
  }
  if (carried.fresh.length > 0) {
    logger.info({ fresh: carried.fresh }, 'reload: some stage state does not fit the new config and starts fresh');
  }
  return carried;
}
