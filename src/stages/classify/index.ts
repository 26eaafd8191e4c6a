/**
 * classify: the tier of every row, by the rules (RE2 sets over executable
 * name, path and command line). A process is classified once per identity
 * (when its strings arrive) and the tier is kept at its slot; verdicts are
 * cached by (kernel, name, command line, path). Pool workers are moved one
 * tier down afterwards, by the pool stage. Rows whose pid is in the
 * `important` set (processes of discovered services) are raised to
 * important in the frame, every cycle: the set changes, the slot keeps the
 * rules' tier.
 */
import type { Config } from '../../config/schema.js';
import type { Frame } from '../../core/frame.js';
import type { Column, IdentityTable } from '../../core/identity.js';
import type { Stage } from '../../pipeline/stage.js';
import { FLAG_KERNEL_THREAD } from '../../sources/batch.js';
import { TIER_IMPORTANT } from '../../telemetry/names.js';
import { Classifier } from './classifier.js';
import type { ImportantPids } from './floor.js';

const CACHE_ENTRIES = 65536;

export class ClassifyStage implements Stage {
  readonly name = 'classify';
  private readonly classifier: Classifier;
  private readonly tier: Column<Uint8Array>;
  private readonly prot: Column<Uint8Array>;
  /** 1 once the slot's identity has been classified */
  private readonly done: Column<Uint8Array>;
  /**
   * Rules' verdicts by (kernel, name, command line, path): pool workers and
   * restarted processes repeat them, and an RE2 set match costs microseconds.
   */
  private readonly cache = new Map<string, number>();

  constructor(
    private readonly ids: IdentityTable,
    cfg: Config['classification'],
    private readonly important?: ImportantPids,
  ) {
    this.classifier = new Classifier(cfg);
    this.tier = ids.u8('classify.tier');
    this.prot = ids.u8('classify.protected');
    this.done = ids.u8('classify.done');
  }

  process(f: Frame): void {
    const { ids, tier, done } = this;
    const b = f.batch;
    const todo: number[] = [];
    for (let i = 0; i < f.n; i++) {
      if (f.isNew[i] === 1 || f.named[i] === 1 || done.data[f.slot[i]!] === 0) todo.push(i);
    }
    for (const i of todo) {
      const s = f.slot[i]!;
      const kernel = (b.flags[i]! & FLAG_KERNEL_THREAD) !== 0;
      const name = ids.name[s]!;
      const exe = ids.exe[s]!;
      const cmdline = ids.cmdline[s]!;
      const key = `${kernel ? 'k' : 'u'}\0${name}\0${cmdline}\0${exe}`;
      // the verdict as one small integer: tier * 2 + protected
      let v = this.cache.get(key);
      if (v === undefined) {
        const c = this.classifier.classify(name, exe, cmdline, kernel);
        v = c.tier * 2 + (c.protected ? 1 : 0);
        if (this.cache.size >= CACHE_ENTRIES) this.cache.clear();
        this.cache.set(key, v);
      }
      tier.data[s] = v >> 1;
      this.prot.data[s] = v & 1;
      done.data[s] = 1;
    }
    for (let i = 0; i < f.n; i++) {
      const s = f.slot[i]!;
      f.tier[i] = tier.data[s]!;
      f.prot[i] = this.prot.data[s]!;
    }
    const floor = this.important?.of(f);
    if (floor && floor.size > 0) {
      for (let i = 0; i < f.n; i++) if (f.tier[i]! > TIER_IMPORTANT && floor.has(b.pid[i]!)) f.tier[i] = TIER_IMPORTANT;
    }
  }
}
