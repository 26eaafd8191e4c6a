/**
 * The memory governor: reads this process's memory every interval, compares
 * it with `limit_mib` and moves through the tiers of `tiers.ts`. Consumers
 * read `tier`/`policy` when they need them (cheap getters) or subscribe with
 * `onChange`.
 */

import { type Logger, silentLogger } from '../core/log.js';
import { MEMORY_TIERS, type MemoryTier, nextTier, policyFor, type TierPolicy } from './tiers.js';

const MIB = 1024 * 1024;

export interface TierChange {
  from: MemoryTier;
  to: MemoryTier;
  /** memory / limit */
  usage: number;
  rssBytes: number;
  atMs: number;
}

export interface MemoryGovernorOptions {
  /** the limit in MiB; 0 disables the governor (always normal) */
  limitMib: number;
  /** default `process.memoryUsage.rss()` */
  readMemoryBytes?: () => number;
  /** `memory.check_interval` in ms */
  intervalMs: number;
  /** fraction of the limit (`memory.hysteresis`) */
  hysteresis: number;
  /** default Date.now */
  now?: () => number;
  logger?: Logger;
  onChange?: (e: TierChange) => void;
}

export interface MemoryGovernorStats {
  tier: number;
  tierName: MemoryTier;
  usage: number;
  rssBytes: number;
  limitBytes: number;
  /** tier changes so far */
  changes: number;
  timeInTierMs: Record<MemoryTier, number>;
}

function invalid(name: string, rule: string, v: unknown): never {
  throw new RangeError(`MemoryGovernor: '${name}' must be ${rule}, got ${v}`);
}

export class MemoryGovernor {
  private readonly limitBytes: number;
  private readonly read: () => number;
  private readonly intervalMs: number;
  private readonly hysteresis: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly onChange?: (e: TierChange) => void;

  private current = 0;
  private lastUsage = 0;
  private lastRss = 0;
  private changes = 0;
  private readonly spent: Record<MemoryTier, number>;
  private enteredAt: number;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private readFailing = false;

  constructor(o: MemoryGovernorOptions) {
    if (!(Number.isFinite(o.limitMib) && o.limitMib >= 0)) invalid('limitMib', 'a finite number >= 0', o.limitMib);
    this.intervalMs = o.intervalMs;
    if (!(Number.isFinite(this.intervalMs) && this.intervalMs > 0)) {
      invalid('intervalMs', 'a finite number > 0', o.intervalMs);
    }
    this.hysteresis = o.hysteresis;
    // at or above the first threshold (0.6), drop_noise could never be left
    if (!(this.hysteresis >= 0 && this.hysteresis <= 0.5)) invalid('hysteresis', 'in [0, 0.5]', o.hysteresis);
    if (o.readMemoryBytes !== undefined && typeof o.readMemoryBytes !== 'function') {
      invalid('readMemoryBytes', 'a function', typeof o.readMemoryBytes);
    }
    this.limitBytes = o.limitMib * MIB;
    this.read = o.readMemoryBytes ?? (() => process.memoryUsage.rss());
    this.now = o.now ?? Date.now;
    this.logger = o.logger ?? silentLogger;
    this.onChange = o.onChange;
    this.spent = Object.fromEntries(MEMORY_TIERS.map((t) => [t, 0])) as Record<MemoryTier, number>;
    this.enteredAt = this.now();
  }

  get enabled(): boolean {
    return this.limitBytes > 0;
  }

  /** Check now, then every `intervalMs` (the timer does not keep the process alive). Safe twice. */
  start(): void {
    if (this.timer || this.stopped || !this.enabled) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  shutdown(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Read the memory now, update the tier and return it. Throws what the reader throws. */
  check(): number {
    if (!this.enabled) return 0;
    const rss = this.read();
    const usage = rss / this.limitBytes;
    this.lastRss = rss;
    this.lastUsage = usage;
    const to = nextTier(this.current, usage, this.hysteresis);
    if (to !== this.current) this.change(to, usage, rss);
    return this.current;
  }

  get tier(): number {
    return this.current;
  }

  get tierName(): MemoryTier {
    return MEMORY_TIERS[this.current]!;
  }

  get policy(): TierPolicy {
    return policyFor(this.current);
  }

  /** the last reading as a fraction of the limit (0 when disabled) */
  get usage(): number {
    return this.lastUsage;
  }

  stats(): MemoryGovernorStats {
    const timeInTierMs = { ...this.spent };
    timeInTierMs[this.tierName] += Math.max(0, this.now() - this.enteredAt);
    return {
      tier: this.current,
      tierName: this.tierName,
      usage: this.lastUsage,
      rssBytes: this.lastRss,
      limitBytes: this.limitBytes,
      changes: this.changes,
      timeInTierMs,
    };
  }

  private tick(): void {
    try {
      this.check();
      if (this.readFailing) this.logger.info('memory governor: reading memory works again');
      this.readFailing = false;
    } catch (e) {
      if (!this.readFailing) {
        this.logger.warn({ err: String(e) }, 'memory governor: reading memory failed; tier unchanged');
      }
      this.readFailing = true;
    }
  }

  private change(to: number, usage: number, rssBytes: number): void {
    const at = this.now();
    const from = MEMORY_TIERS[this.current]!;
    this.spent[from] += Math.max(0, at - this.enteredAt);
    this.enteredAt = at;
    const up = to > this.current;
    this.current = to;
    this.changes++;
    const e: TierChange = { from, to: MEMORY_TIERS[to]!, usage, rssBytes, atMs: at };
    const fields = {
      from: e.from,
      to: e.to,
      usage: Math.round(usage * 1000) / 1000,
      rssBytes,
      limitBytes: this.limitBytes,
    };
    if (up) this.logger.warn(fields, 'memory tier raised: shedding load');
    else this.logger.info(fields, 'memory tier lowered');
    try {
      this.onChange?.(e);
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'memory governor: onChange callback threw');
    }
  }
}
