/**
 * Failed authentications, rate-limited per client address. Wrong tokens
 * were unlimited (2,295 tries/s, each writing ~400 bytes of audit and log).
 *
 * An address that fails `maxFailures` times within `windowMs` is blocked
 * for `windowMs` from its last failure: its requests get 429 with
 * Retry-After without their token being checked (so a right guess during
 * the block teaches nothing). The failures up to the limit are audited one
 * by one; the attempts during a block are only counted, and one summary
 * line per block is written when it ends (or at shutdown).
 */

export interface AuthLimitOptions {
  /** failures allowed in a window (default 5) */
  maxFailures?: number;
  /** the window, and the length of a block (default 60 s) */
  windowMs?: number;
  now?: () => number;
  /** clients tracked at once (default 10,000; the oldest unblocked ones are forgotten first) */
  maxClients?: number;
}

interface Client {
  windowStart: number;
  failures: number;
  blockedUntil: number;
  blockedAt: number;
  /** attempts refused during the block */
  refused: number;
}

/** One block that ended: what to write to the audit log. */
export interface BlockSummary {
  remote: string;
  /** attempts refused with 429 during the block */
  refused: number;
  fromMs: number;
  untilMs: number;
}

export type Gate = { ok: true } | { ok: false; retryAfterSec: number; firstRefusal: boolean };

export class AuthLimiter {
  private readonly clients = new Map<string, Client>();
  readonly maxFailures: number;
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxClients: number;

  constructor(o: AuthLimitOptions = {}) {
    this.maxFailures = o.maxFailures ?? 5;
    this.windowMs = o.windowMs ?? 60_000;
    this.now = o.now ?? Date.now;
    this.maxClients = o.maxClients ?? 10_000;
  }

  /** Before looking at the credentials: may this address try? */
  check(remote: string): Gate {
    const c = this.clients.get(remote);
    const t = this.now();
    if (!c || c.blockedUntil <= t) return { ok: true };
    c.refused++;
    return {
      ok: false,
      retryAfterSec: Math.max(1, Math.ceil((c.blockedUntil - t) / 1000)),
      firstRefusal: c.refused === 1,
    };
  }

  /** A failed authentication; true when it starts a block. */
  failed(remote: string): boolean {
    const t = this.now();
    let c = this.clients.get(remote);
    if (!c || t - c.windowStart >= this.windowMs) {
      if (!c) this.makeRoom();
      c = { windowStart: t, failures: 0, blockedUntil: 0, blockedAt: 0, refused: 0 };
      this.clients.set(remote, c);
    }
    c.failures++;
    if (c.failures >= this.maxFailures && c.blockedUntil <= t) {
      c.blockedUntil = t + this.windowMs;
      c.blockedAt = t;
      return true;
    }
    return false;
  }

  /** A successful authentication clears the address's failures. */
  succeeded(remote: string): void {
    const c = this.clients.get(remote);
    if (c && c.blockedUntil <= this.now()) this.clients.delete(remote);
  }

  /** Blocks that are over (all of them with `all`), for the audit log; forgets idle clients. */
  ended(all = false): BlockSummary[] {
    const t = this.now();
    const out: BlockSummary[] = [];
    for (const [remote, c] of this.clients) {
      if (c.blockedUntil > 0 && (all || c.blockedUntil <= t)) {
        if (c.refused > 0) out.push({ remote, refused: c.refused, fromMs: c.blockedAt, untilMs: c.blockedUntil });
        this.clients.delete(remote);
      } else if (c.blockedUntil === 0 && t - c.windowStart >= this.windowMs) {
        this.clients.delete(remote);
      }
    }
    return out;
  }

  private makeRoom(): void {
    if (this.clients.size < this.maxClients) return;
    for (const [remote, c] of this.clients) {
      if (c.blockedUntil === 0) {
        this.clients.delete(remote);
        if (this.clients.size < this.maxClients) return;
      }
    }
  }
}
