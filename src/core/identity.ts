/**
 * The identity table: strings and classification per process identity
 * (pid, start time). Filled from a batch's fresh rows; classification runs
 * once per identity and is cached here.
 */

import { FLAG_KERNEL_THREAD, type ProcessBatch } from '../sources/batch.js';
import { ownerName } from '../sources/procfs/users.js';
import type { IdentityInfo } from '../stages/build/build.js';
import type { Classifier } from '../stages/classify/classifier.js';
import { type HeartbeatState, newHeartbeatState } from '../stages/route/route.js';
import { TIER_NOISE } from '../telemetry/names.js';

export interface IdentityEntry extends IdentityInfo, HeartbeatState {
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

  constructor(
    private readonly classifier: Classifier,
    private readonly demotePoolWorkers = true,
  ) {}

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
    const toClassify: number[] = [];
    for (let i = 0; i < b.count; i++) {
      const pid = b.pid[i]!;
      const start = b.startTicks[i]!;
      let e = this.byPid.get(pid);
      const k = fresh.get(i);
      if (k !== undefined || !e || e.start !== start) {
        e = {
          start,
          name: k !== undefined ? b.freshName[k]! : (e?.name ?? ''),
          exe: k !== undefined ? b.freshExe[k]! : '',
          cmdline: k !== undefined ? b.freshCmdline[k]! : '',
          owner: (k !== undefined ? b.freshOwner?.[k] : undefined) || ownerName(b.uid[i]!),
          tier: 0,
          protected: false,
          baselineBytes: 0,
          baselinePoints: 0,
          seenScan: scan,
          ...newHeartbeatState(),
        };
        this.byPid.set(pid, e);
        toClassify.push(i);
      }
      e.seenScan = scan;
      out[i] = e;
    }
    // Classify after every row has an entry, so a new process's parent is
    // known even when the parent is new too.
    for (const i of toClassify) {
      const e = out[i]!;
      const kernel = (b.flags[i]! & FLAG_KERNEL_THREAD) !== 0;
      const c = this.classifier.classify(e.name, e.exe, e.cmdline, kernel);
      e.tier = c.tier;
      e.protected = c.protected;
      if (this.demotePoolWorkers && !c.protected && !kernel && c.tier < TIER_NOISE) {
        // A worker of a pre-fork pool (nginx, httpd, postgres backends,
        // gunicorn, php-fpm ...) has its parent's executable name: it is one
        // tier below the parent. The busiest workers still pass thresholds.
        const parent = this.byPid.get(b.ppid[i]!);
        if (parent && parent !== e && parent.name === e.name) e.tier = c.tier + 1;
      }
    }
    for (const [pid, e] of this.byPid) if (e.seenScan !== scan) this.byPid.delete(pid);
    return out;
  }
}
