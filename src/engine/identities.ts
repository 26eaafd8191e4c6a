/**
 * The identity table: strings and classification per process identity
 * (pid, start time). Filled from a batch's fresh rows; classification runs
 * once per identity and is cached here.
 */
import type { Classifier } from '../classify/classifier.js';
import { FLAG_KERNEL_THREAD, type ProcessBatch } from '../ingest/batch.js';
import { ownerName } from '../ingest/procfs/users.js';
import type { IdentityInfo } from '../metrics/build.js';

export interface IdentityEntry extends IdentityInfo {
  start: number;
  protected: boolean;
  /** encoded bytes of this process's baseline resource, and its point count when measured */
  baselineBytes: number;
  baselinePoints: number;
  seenScan: number;
}

export class IdentityTable {
  private readonly byPid = new Map<number, IdentityEntry>();
  private scanNo = 0;

  constructor(private readonly classifier: Classifier) {}

  get size(): number {
    return this.byPid.size;
  }

  /**
   * Update from a batch and return the entry of every row (same order).
   * Rows without a known identity (a reader that lost track) are classified
   * from what the batch carries.
   */
  update(b: ProcessBatch): IdentityEntry[] {
    const scan = ++this.scanNo;
    const fresh = new Map<number, number>();
    for (let k = 0; k < b.freshRows.length; k++) fresh.set(b.freshRows[k]!, k);
    const out: IdentityEntry[] = new Array(b.count);
    for (let i = 0; i < b.count; i++) {
      const pid = b.pid[i]!;
      const start = b.startTicks[i]!;
      let e = this.byPid.get(pid);
      const k = fresh.get(i);
      if (k !== undefined || !e || e.start !== start) {
        const name = k !== undefined ? b.freshName[k]! : (e?.name ?? '');
        const cmdline = k !== undefined ? b.freshCmdline[k]! : '';
        const exe = k !== undefined ? b.freshExe[k]! : '';
        const kernel = (b.flags[i]! & FLAG_KERNEL_THREAD) !== 0;
        const c = this.classifier.classify(name, exe, cmdline, kernel);
        e = {
          start,
          name,
          exe,
          cmdline,
          owner: ownerName(b.uid[i]!),
          tier: c.tier,
          protected: c.protected,
          baselineBytes: 0,
          baselinePoints: 0,
          seenScan: scan,
        };
        this.byPid.set(pid, e);
      }
      e.seenScan = scan;
      out[i] = e;
    }
    for (const [pid, e] of this.byPid) if (e.seenScan !== scan) this.byPid.delete(pid);
    return out;
  }
}
