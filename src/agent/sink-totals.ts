/**
 * The counters of SwitchableSink (src/agent/switch-sink.ts) across hot
 * reloads, per exporter name and monotonic: export() outcomes of every
 * exporter the sink holds (running or draining), plus the final figures of
 * those it no longer holds, folded into one total per name when they are
 * shut down. A reload therefore costs nothing per scrape and holds no
 * reference to a retired exporter; a successor with the same name (same
 * file or endpoint, other options) continues its predecessor's counters.
 */

import type { Exporter, ExportResult } from '../exporters/exporter.js';
import { countOutcome, type ExporterStats } from '../exporters/fanout.js';
import type { ExportHealth } from '../exporters/otlp/queued.js';
import { DROP_REASONS } from '../exporters/queue/index.js';
import { addDelivery, type ExporterDelivery, exporterDelivery, type QueueFigures, queueFigures } from './delivery.js';

/** An exporter that reports its queue's health (the queued OTLP exporter). */
export function hasHealth(e: Exporter): e is Exporter & { health(): ExportHealth } {
  return typeof (e as { health?: unknown }).health === 'function';
}

const fresh = (exporter: string): ExporterStats => ({
  exporter,
  exports: 0,
  errors: 0,
  consecutiveErrors: 0,
  bytes: 0,
});

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** Two health figures of one name: counters add up, queues add up, the worse breaker shows. */
export function addHealth(a: ExportHealth, b: ExportHealth): ExportHealth {
  const droppedByPath = { critical: {}, standard: {}, sampled: {} } as ExportHealth['droppedByPath'];
  for (const lane of Object.keys(droppedByPath) as (keyof typeof droppedByPath)[]) {
    addCounts(droppedByPath[lane], a.droppedByPath[lane]);
    addCounts(droppedByPath[lane], b.droppedByPath[lane]);
  }
  const dropped = { ...a.dropped };
  addCounts(dropped, b.dropped);
  const droppedRecords = { ...a.droppedRecords };
  addCounts(droppedRecords, b.droppedRecords);
  const worse = b.breaker > a.breaker ? b : a;
  return {
    exporter: a.exporter,
    queue: {
      records: a.queue.records + b.queue.records,
      bytes: a.queue.bytes + b.queue.bytes,
      oldestAgeMs: Math.max(a.queue.oldestAgeMs, b.queue.oldestAgeMs),
      persistent: a.queue.persistent && b.queue.persistent,
    },
    breaker: worse.breaker,
    breakerState: worse.breakerState,
    retries: a.retries + b.retries,
    failures: a.failures + b.failures,
    sent: {
      records: a.sent.records + b.sent.records,
      points: a.sent.points + b.sent.points,
      bytes: a.sent.bytes + b.sent.bytes,
    },
    dropped,
    droppedByPath,
    droppedRecords,
  };
}

/** What is left of the exporters of one name the sink no longer holds. */
interface Gone {
  stats: ExporterStats;
  /** queued exporters: their final figures (the queue gauges are zero: nothing of theirs is queued any more) */
  queue?: QueueFigures;
}

export class SinkTotals {
  /** export() counters of the exporters held now */
  private readonly live = new Map<Exporter, ExporterStats>();
  private readonly gone = new Map<string, Gone>();

  /** Count `e` from now on (idempotent). */
  hold(e: Exporter): void {
    if (!this.live.has(e)) this.live.set(e, fresh(e.name));
  }

  /** Number of exporters whose counters are kept one by one. */
  get held(): number {
    return this.live.size;
  }

  /** One export() outcome of `e` (an exporter already folded counts into its name's total). */
  record(e: Exporter, r: ExportResult): void {
    let s = this.live.get(e);
    if (!s) {
      const g = this.goneOf(e.name);
      s = g.stats;
    }
    countOutcome(s, r);
  }

  private goneOf(name: string): Gone {
    let g = this.gone.get(name);
    if (!g) {
      g = { stats: fresh(name) };
      this.gone.set(name, g);
    }
    return g;
  }

  /**
   * `e` is shut down and dropped: fold its final figures into its name's
   * total. What a persistent queue still holds is not its own any more (the
   * successor on the same directory, or the next start, recovers it); what a
   * memory queue still holds is lost and stays in the delivery report as such.
   */
  fold(e: Exporter): void {
    const s = this.live.get(e);
    if (!s) return;
    this.live.delete(e);
    const g = this.goneOf(e.name);
    g.stats = addStats(g.stats, s);
    const q = queueFigures(e);
    if (!q) return;
    if (q.health.queue.persistent) {
      q.health.queue = { records: 0, bytes: 0, oldestAgeMs: 0, persistent: true };
    }
    q.health.breaker = 0;
    q.health.breakerState = 'closed';
    if (!g.queue) {
      g.queue = q;
      return;
    }
    const dropped = { ...g.queue.dropped };
    for (const r of DROP_REASONS) {
      const [a, b] = [dropped[r], q.dropped[r]];
      dropped[r] = { records: a.records + b.records, bytes: a.bytes + b.bytes, points: a.points + b.points };
    }
    g.queue = { health: addHealth(g.queue.health, q.health), dropped };
  }

  /** export() counters of `e` (held) alone. */
  private statsOf(e: Exporter): ExporterStats {
    return { ...(this.live.get(e) ?? fresh(e.name)) };
  }

  /** Failed deliveries per exporter name over the agent's life: failed export() calls and failed sends of queued exporters. */
  errorCounts(held: readonly Exporter[]): Record<string, number> {
    const out: Record<string, number> = {};
    const add = (name: string, n: number) => {
      out[name] = (out[name] ?? 0) + n;
    };
    for (const e of held) {
      add(e.name, this.statsOf(e).errors);
      if (hasHealth(e)) add(e.name, e.health().failures);
    }
    for (const [name, g] of this.gone) add(name, g.stats.errors + (g.queue?.health.failures ?? 0));
    return out;
  }

  /** Cumulative export() counters per exporter name: the held exporters (in order), then names only folded ones had. */
  exporterStats(held: readonly Exporter[]): ExporterStats[] {
    const out = new Map<string, ExporterStats>();
    for (const e of held) {
      const s = this.statsOf(e);
      const before = out.get(e.name);
      out.set(e.name, before ? addStats(before, s) : s);
    }
    for (const [name, g] of this.gone) {
      const now = out.get(name);
      // the folded ones came first: the running one's streak and last error are the latest
      out.set(name, now ? addStats(g.stats, now) : { ...g.stats });
    }
    return [...out.values()];
  }

  /**
   * Queue, breaker and delivery figures per name of the queued exporters
   * held now, their counters including those of folded exporters of the
   * same name (so a successor does not restart them from zero).
   */
  health(held: readonly Exporter[]): ExportHealth[] {
    const out = new Map<string, ExportHealth>();
    for (const e of held) {
      if (!hasHealth(e)) continue;
      const h = e.health();
      let before = out.get(e.name);
      if (!before) {
        const g = this.gone.get(e.name)?.queue?.health;
        // folded exporters queue nothing: only their counters carry over
        if (g) before = { ...g, queue: { records: 0, bytes: 0, oldestAgeMs: 0, persistent: h.queue.persistent } };
      }
      out.set(e.name, before ? addHealth(before, h) : h);
    }
    return [...out.values()];
  }

  /** Delivery per exporter name over the agent's life (read after shutdown). */
  deliveries(held: readonly Exporter[]): ExporterDelivery[] {
    const out = new Map<string, ExporterDelivery>();
    const add = (d: ExporterDelivery) => {
      const before = out.get(d.exporter);
      out.set(d.exporter, before ? addDelivery(before, d) : d);
    };
    for (const e of held) add(exporterDelivery(this.statsOf(e), queueFigures(e)));
    for (const g of this.gone.values()) add(exporterDelivery(g.stats, g.queue));
    return [...out.values()];
  }
}

/** `a` then `b` of the same name: counts add up, the streak and last error are the later ones'. */
function addStats(a: ExporterStats, b: ExporterStats): ExporterStats {
  const out: ExporterStats = {
    exporter: a.exporter,
    exports: a.exports + b.exports,
    errors: a.errors + b.errors,
    bytes: a.bytes + b.bytes,
    consecutiveErrors:
      b.exports > 0 && b.consecutiveErrors < b.exports
        ? b.consecutiveErrors
        : a.consecutiveErrors + b.consecutiveErrors,
  };
  const lastError = b.lastError ?? a.lastError;
  if (lastError) out.lastError = lastError;
  return out;
}
