/**
 * Admission of received input by size, against the memory governor.
 *
 * A request is admitted in one of three ways:
 *
 * - `full`: the whole request is decoded and processed. Only while the
 *   tier is below critical_only and the last reading plus every reservation
 *   plus this request's estimated cost stays under critical_only's
 *   threshold (90%): below it the engine's tiers shed by rolling up (nothing
 *   is lost), so input is taken whole; what would carry the agent into
 *   critical_only is shed here instead.
 * - `critical`: only the resources the pre-classification calls critical
 *   are decoded and processed; the rest is refused with an OTLP partial
 *   success (`rejected_data_points`). Needs the cost of shedding (and then
 *   of the kept part) to fit under the hardest tier's threshold.
 * - `refuse`: 503 with Retry-After, at the hardest tier, or when even the
 *   critical part cannot be afforded.
 *
 * Memory is read at every step (4 µs through /proc/self/statm), and the
 * cost is reserved with the governor until the request is answered, so
 * requests in flight are counted before they show in the resident size.
 *
 * Costs are estimates of what a decompressed body of N bytes costs once
 * decoded and processed (`COST_FACTORS`, measured on hostmetrics-shaped
 * requests: docs/ARCHITECTURE.md, "Memory governor"). Before the body is
 * read its size is the Content-Length, times GZIP_RATIO when it is gzip'd
 * (a guess, corrected from the gzip trailer once the body is in).
 */
import type { MemoryGovernor, Reservation } from './governor.js';
import { CRITICAL_ONLY_TIER, MAX_TIER, MEMORY_TIERS, TIER_THRESHOLDS } from './tiers.js';

export type BodyEncoding = 'protobuf' | 'json';

export type Admission =
  | { mode: 'full' }
  | { mode: 'critical' }
  | { mode: 'refuse'; retryAfterSec: number; reason: string };

/** One request's admission, from its headers to its answer. */
export interface AdmissionTicket {
  readonly decision: Admission;
  /** The decompressed size is known: decide again with the real cost (either way). */
  sized(decompressedBytes: number): Admission;
  /** After shedding in `critical` mode: `keptBytes` of the body are kept; decide for their cost. */
  kept(keptBytes: number): Admission;
  /** The request is answered: give its reservation back. Idempotent. */
  release(): void;
}

export interface ReceiverAdmission {
  open(req: { bytes?: number; encoding: BodyEncoding; gzip: boolean }): AdmissionTicket;
}

/**
 * Bytes of memory per decompressed body byte, once decoded and processed
 * (the body buffers, the decoded model, the engine's batch and its output
 * until encoded), by encoding.
 */
export const COST_FACTORS: Readonly<Record<BodyEncoding, number>> = Object.freeze({ protobuf: 6, json: 3 });
/** Shedding a protobuf body costs its decompressed bytes and the kept copy, not a decode. */
export const SHED_FACTOR_PROTOBUF = 2;
/** Decompressed / compressed size assumed before a gzip body is read. */
export const GZIP_RATIO = 8;
/** Size assumed for a body without Content-Length, until it is read. */
export const UNKNOWN_BODY_BYTES = 1 << 20;

export interface InputAdmissionOptions {
  governor: MemoryGovernor;
  /** Retry-After of a 503 (default 5 s) */
  retryAfterSec?: number;
  factors?: Partial<Record<BodyEncoding, number>>;
}

export interface AdmissionStats {
  full: number;
  critical: number;
  refused: number;
  /** requests admitted whole at the headers but moved to `critical` once their size was known */
  downgraded: number;
}

export class InputAdmission implements ReceiverAdmission {
  private readonly gov: MemoryGovernor;
  private readonly retryAfterSec: number;
  private readonly factors: Record<BodyEncoding, number>;
  readonly counts: AdmissionStats = { full: 0, critical: 0, refused: 0, downgraded: 0 };

  constructor(o: InputAdmissionOptions) {
    this.gov = o.governor;
    this.retryAfterSec = o.retryAfterSec ?? 5;
    this.factors = { ...COST_FACTORS, ...o.factors };
  }

  /** Estimated memory cost of a decompressed body of `bytes`, decoded and processed whole. */
  cost(bytes: number, encoding: BodyEncoding): number {
    return bytes * this.factors[encoding];
  }

  /** Estimated cost of shedding a body (decompressed `bytes`) down to its critical part. */
  shedCost(bytes: number, encoding: BodyEncoding): number {
    return encoding === 'protobuf' ? bytes * SHED_FACTOR_PROTOBUF : this.cost(bytes, encoding);
  }

  open(req: { bytes?: number; encoding: BodyEncoding; gzip: boolean }): AdmissionTicket {
    const raw = req.bytes ?? UNKNOWN_BODY_BYTES;
    const decompressed = req.gzip ? raw * GZIP_RATIO : raw;
    return new Ticket(this, req.encoding, decompressed);
  }

  /** @internal the decision for a request holding `held`, needing `fullCost` whole or `criticalCost` shed */
  decide(held: number, fullCost: number, criticalCost: number, allowFull: boolean): Admission {
    const gov = this.gov;
    if (!gov.enabled) return { mode: 'full' };
    const tier = gov.measure();
    if (tier >= MAX_TIER) {
      return this.refuse(`memory tier ${MEMORY_TIERS[tier]} (${pct(gov.usage)} of the limit)`);
    }
    // what this request already holds is part of the reservations: count it once
    if (
      allowFull &&
      tier < CRITICAL_ONLY_TIER &&
      gov.headroom(TIER_THRESHOLDS[CRITICAL_ONLY_TIER]!) + held >= fullCost
    ) {
      return { mode: 'full' };
    }
    if (gov.headroom(TIER_THRESHOLDS[MAX_TIER]!) + held >= criticalCost) return { mode: 'critical' };
    return this.refuse(
      `memory ${pct(gov.usage)} of the limit with ${mib(gov.reservedBytes - held)} MiB reserved: no room for even the critical part (${mib(criticalCost)} MiB)`,
    );
  }

  /** @internal */
  reserve(bytes: number): Reservation {
    return this.gov.reserve(bytes);
  }

  private refuse(reason: string): Admission {
    return { mode: 'refuse', retryAfterSec: this.retryAfterSec, reason };
  }
}

class Ticket implements AdmissionTicket {
  decision: Admission;
  private readonly res: Reservation;
  private done = false;

  constructor(
    private readonly a: InputAdmission,
    private readonly encoding: BodyEncoding,
    decompressed: number,
  ) {
    this.res = a.reserve(0);
    this.decision = this.apply(a.cost(decompressed, encoding), a.shedCost(decompressed, encoding), true);
    a.counts[this.decision.mode === 'refuse' ? 'refused' : this.decision.mode]++;
  }

  sized(decompressedBytes: number): Admission {
    if (this.decision.mode === 'refuse') return this.decision;
    const before = this.decision.mode;
    const d = this.apply(
      this.a.cost(decompressedBytes, this.encoding),
      this.a.shedCost(decompressedBytes, this.encoding),
      true,
    );
    this.recount(before, d);
    return d;
  }

  kept(keptBytes: number): Admission {
    if (this.decision.mode !== 'critical') return this.decision;
    const cost = this.a.cost(keptBytes, this.encoding);
    const d = this.apply(cost, cost, false);
    this.recount('critical', d);
    return d;
  }

  release(): void {
    this.done = true;
    this.res.release();
  }

  private apply(fullCost: number, criticalCost: number, allowFull: boolean): Admission {
    if (this.done) return this.decision;
    const d = this.a.decide(this.res.bytes, fullCost, criticalCost, allowFull);
    this.decision = d;
    if (d.mode === 'refuse') this.res.release();
    else this.res.resize(d.mode === 'full' ? fullCost : criticalCost);
    return d;
  }

  private recount(before: 'full' | 'critical', d: Admission): void {
    if (d.mode === before) return;
    const c = this.a.counts;
    c[before]--;
    if (d.mode === 'refuse') c.refused++;
    else c[d.mode]++;
    if (before === 'full' && d.mode === 'critical') c.downgraded++;
  }
}

function pct(u: number): string {
  return `${Math.round(u * 100)}%`;
}

function mib(b: number): string {
  return (b / (1024 * 1024)).toFixed(1);
}
