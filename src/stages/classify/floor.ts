/**
 * Pids that are at least `important` whatever the rules say (the processes
 * of discovered services). The set comes from outside the engine and
 * changes between cycles, so it is read once per cycle and shared by the
 * stages that need it (classify raises the tier, pool does not demote below
 * it), never cached per identity.
 */
import type { Frame } from '../../core/frame.js';

const NONE: ReadonlySet<number> = new Set();

export class ImportantPids {
  private cycle = -1;
  private set: ReadonlySet<number> = NONE;

  /** `source` must not throw; it is called once per cycle. */
  constructor(private readonly source: () => ReadonlySet<number>) {}

  /** The set for this frame's cycle. */
  of(f: Frame): ReadonlySet<number> {
    if (f.cycle !== this.cycle) {
      this.cycle = f.cycle;
      this.set = this.source();
    }
    return this.set;
  }
}
