/**
 * The memory governor: reads this process's memory (on its timer and
 * whenever a consumer asks, e.g. the OTLP receiver on every request),
 * compares it with `limit_mib` and moves through the tiers of `tiers.ts`
 * one step per reading. Consumers read `tier`/`policy` when they need them
 * (cheap getters) or subscribe with `onChange`.
 *
 * Work that is about to allocate (a received body to decode) reserves its
 * estimated cost first (`reserve`): `headroom()` is what is left below a
 * threshold after the current reading and every reservation, so admission
 * can refuse what would cross it before it lands.
 *
 * Under pressure (a reading at or above the first tier's threshold) it asks
 * the runtime to collect garbage (`relieve`, at most once per
 * `reliefIntervalMs`): the resident size of a V8 process follows its peak
 * heap until a major collection gives pages back, so without this a burst
 * keeps the agent in a high tier long after the data is gone.
 */

import { type Logger, silentLogger } from '../core/log.js';
import { MEMORY_TIERS, type MemoryTier, nextTier, policyFor, TIER_THRESHOLDS, type TierPolicy } from './tiers.js';

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
  /**
   * Ask the runtime to give memory back (a major garbage collection); called
   * after a reading at or above the first tier's threshold, at most once per
   * `reliefIntervalMs`. Default: none (see `gcRelief()` in gc.ts).
   */
  relieve?: () => void;
  /** default 500 ms */
  reliefIntervalMs?: number;
}

/** A reservation of memory for work about to allocate; `release` is idempotent. */
export interface Reservation {
  readonly bytes: number;
  /** change the reserved amount (e.g. once a body's real size is known) */
  resize(bytes: number): void;
  release(): void;
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
  /** memory reserved by admitted work not finished yet */
  reservedBytes: number;
  /** readings so far (timer and on demand) */
  readings: number;
  /** garbage collections requested under pressure */
  reliefs: number;
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
  private reserved = 0;
  private readings = 0;
  private reliefs = 0;
  private lastReliefAt = Number.NEGATIVE_INFINITY;
  private readonly relieve?: () => void;
  private readonly reliefIntervalMs: number;

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
    this.relieve = o.relieve;
    this.reliefIntervalMs = o.reliefIntervalMs ?? 500;
    if (!(Number.isFinite(this.reliefIntervalMs) && this.reliefIntervalMs >= 0)) {
      invalid('reliefIntervalMs', 'a finite number >= 0', o.reliefIntervalMs);
    }
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

  /**
   * Read the memory now, move at most one tier (see `nextTier`) and return
   * the tier. Throws what the reader throws.
   */
  check(): number {
    if (!this.enabled) return 0;
    const rss = this.read();
    this.readings++;
    const usage = rss / this.limitBytes;
    this.lastRss = rss;
    this.lastUsage = usage;
    const to = nextTier(this.current, usage, this.hysteresis);
    if (to !== this.current) this.change(to, usage, rss);
    if (this.relieve && usage >= TIER_THRESHOLDS[1]!) this.relief();
    return this.current;
  }

  /** `check()` for callers that must not fail: on a reader error the last reading stands. */
  measure(): number {
    try {
      return this.check();
    } catch {
      return this.current;
    }
  }

  /** the limit in bytes (0 when disabled) */
  get limit(): number {
    return this.limitBytes;
  }

  /** the last reading, bytes */
  get rssBytes(): number {
    return this.lastRss;
  }

  /** memory reserved by admitted work, bytes */
  get reservedBytes(): number {
    return this.reserved;
  }

  /**
   * Bytes left below `fraction` of the limit after the last reading and
   * every reservation (negative when already above; Infinity when disabled).
   */
  headroom(fraction: number): number {
    if (!this.enabled) return Number.POSITIVE_INFINITY;
    return fraction * this.limitBytes - this.lastRss - this.reserved;
  }

  /** Reserve `bytes` for work about to allocate, until `release()` (nothing is held when disabled). */
  reserve(bytes: number): Reservation {
    const size = (n: number) => (this.enabled ? Math.max(0, n) || 0 : 0);
    let held = size(bytes);
    let released = false;
    this.reserved += held;
    const gov = this;
    return {
      get bytes() {
        return released ? 0 : held;
      },
      resize(n: number) {
        if (released) return;
        const next = size(n);
        gov.reserved += next - held;
        held = next;
      },
      release() {
        if (released) return;
        released = true;
        gov.reserved -= held;
        if (gov.reserved < 1e-6) gov.reserved = 0;
      },
    };
  }

  private relief(): void {
    const at = this.now();
    if (at - this.lastReliefAt < this.reliefIntervalMs) return;
    this.lastReliefAt = at;
    this.reliefs++;
    try {
      this.relieve?.();
    } catch (err) {
      this.logger.warn({ err: String(err) }, 'memory governor: relief (garbage collection) failed');
    }
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
      reservedBytes: this.reserved,
      readings: this.readings,
      reliefs: this.reliefs,
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
      reservedBytes: this.reserved,
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
