/**
 * The memory governor's cuts over the profile's decision: pure, over columns.
 */
import type { ProcessBatch } from '../../sources/batch.js';
import { TIER_CRITICAL, TIER_IMPORTANT, TIERS } from '../../telemetry/names.js';
import { identityUnit } from '../sample/sampling.js';

/** The part of a memory-governor tier policy the router applies. */
export interface MemoryCut {
  /** tier names whose processes are rolled up instead of exported */
  dropTiers: ReadonlySet<string>;
  /** keep probability for important processes (1 = all) */
  importantKeep: number;
  /** only critical processes and anomalies are exported */
  criticalOnly: boolean;
}

/**
 * Roll up what the memory governor says to drop. Critical rows and forced
 * rows (anomalies) are never touched. Mutates `keep`; returns the rows cut and their data points.
 */
export function applyMemoryCut(
  b: Pick<ProcessBatch, 'count' | 'pid' | 'startTicks'>,
  keep: Uint8Array,
  tier: Uint8Array,
  forced: Uint8Array | undefined,
  cut: MemoryCut,
  /** series per row: when given, `points` sums the cut rows' series */
  seriesPerRow?: Uint8Array,
): { rows: number; points: number } {
  if (!cut.criticalOnly && cut.dropTiers.size === 0 && cut.importantKeep >= 1) return { rows: 0, points: 0 };
  const drop = new Uint8Array(TIERS.length);
  for (const [t, name] of TIERS.entries()) if (cut.dropTiers.has(name) && t !== TIER_CRITICAL) drop[t] = 1;
  let n = 0;
  let points = 0;
  for (let i = 0; i < b.count; i++) {
    if (keep[i] !== 1) continue;
    const t = tier[i]!;
    if (t === TIER_CRITICAL || (forced !== undefined && forced[i] !== 0)) continue;
    if (
      cut.criticalOnly ||
      drop[t] === 1 ||
      (t === TIER_IMPORTANT && identityUnit(b.pid[i]!, b.startTicks[i]!) >= cut.importantKeep)
    ) {
      keep[i] = 0;
      n++;
      points += seriesPerRow?.[i] ?? 0;
    }
  }
  return { rows: n, points };
}
