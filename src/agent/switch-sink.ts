/**
 * The agent's export stage across hot reloads: one stable sink (the engines
 * and the OTLP receiver hold it) over the Fanout of the config in effect.
 *
 * A reload that changes the exporters builds a new Fanout that REUSES every
 * exporter whose spec and options are unchanged (same object: its queue,
 * breaker and counters go on as if nothing happened), and creates the rest.
 * An exporter the new config drops is retired: it stops getting new data
 * and keeps draining what it holds (memory queue: until empty, then it is
 * shut down; disk queue: the same, and what is left at agent shutdown stays
 * on disk under its queue directory). An exporter replaced by one on the
 * same resource (the same file, or the same endpoint's queue directory, with
 * other options) is shut down before its successor starts, so two writers
 * never share a file or a queue segment; the successor recovers the queue.
 * If a successor then fails to start, the swap is undone: the retired one
 * is built again from its spec and started (it recovers its own queue),
 * and the swap throws naming the exporter that failed; the running sink is
 * the one before the swap.
 *
 * Nothing accepted is lost across a swap: an export() that arrives while
 * the swap shuts an exporter down for its successor waits until the swap
 * is over and goes to the sink then in effect; an export already under way
 * reaches the exporters it started on (a retired exporter's shutdown waits
 * for what it accepted: the file exporter's writes, the queued exporter's
 * appends, then drains them or keeps them on disk).
 *
 * Counters stay cumulative across swaps (src/agent/sink-totals.ts):
 * `errorCounts()`, `exporterStats()`, `health()` and `deliveries()` cover
 * every exporter the agent ever ran, per exporter name and never going
 * down, but only the exporters running or draining are held: a retired one
 * is folded into its name's totals once it is shut down.
 */

import { ErrorCodes, NrdotError } from '../core/errors.js';
import type { LaneBatch } from '../core/lanes.js';
import type { Logger } from '../core/log.js';
import { describeError, type EncodedRequest, type Exporter } from '../exporters/exporter.js';
import { type ExporterStats, Fanout } from '../exporters/fanout.js';
import type { ExportHealth } from '../exporters/otlp/queued.js';
import { type CreateExporterOptions, createExporter, type ExportSpec, parseExportSpecs } from '../exporters/spec.js';
import type { ExportMetricsServiceRequest } from '../otlp/model.js';
import type { ExportOutcome, ExportSink } from '../pipeline/types.js';
import type { ExporterDelivery } from './delivery.js';
import { hasHealth, SinkTotals } from './sink-totals.js';

interface Slot {
  exporter: Exporter;
  /** the same exporter built again, not started (to restore a retired one when its successor fails) */
  remake: () => Exporter;
  /** same key = same exporter: kind, target and the options it was built with */
  key: string;
  /** what two exporters must not share (a file, a queue directory); undefined = nothing */
  resource?: string;
}

function slotOf(spec: ExportSpec, o: CreateExporterOptions): Pick<Slot, 'key' | 'resource'> {
  switch (spec.kind) {
    case 'file':
      return { key: `file:${spec.path}|${JSON.stringify(o.file)}`, resource: `file:${spec.path}` };
    case 'otlp': {
      const opts = JSON.stringify({ otlp: o.otlp, reliable: o.reliable });
      return { key: `otlp:${spec.url}|${opts}`, resource: o.reliable?.queue.dir ? `otlp:${spec.url}` : undefined };
    }
    default:
      return { key: spec.kind };
  }
}

/** `e` as thrown by a swap: the exporter's name first, the original code kept. */
function startFailure(name: string, e: unknown): NrdotError {
  const code = e instanceof NrdotError ? e.code : ErrorCodes.RUNTIME;
  const why = e instanceof Error ? e.message : String(e);
  return new NrdotError(code, `exporter ${name} could not start: ${why}`, { cause: e });
}

/** A new set of exporters, built beside the running ones and not started. */
export interface SinkPlan {
  slots: Slot[];
  /** created for this plan (to start, or to shut down if the plan is dropped) */
  fresh: Slot[];
}

export class SwitchableSink implements ExportSink {
  private current: Fanout;
  private slots: Slot[];
  /** retired exporters still draining their queue */
  private draining: Slot[] = [];
  /** retired exporters being shut down (folded into the totals when done) */
  private readonly closing = new Set<Exporter>();
  private readonly totals = new SinkTotals();
  /** set while a swap has exporters shut down and their successors not yet running: export() waits */
  private switching?: Promise<void>;
  private started = false;
  private stopping?: Promise<void>;

  constructor(
    specs: readonly string[],
    options: CreateExporterOptions,
    private readonly logger: Logger,
  ) {
    const plan = SwitchableSink.plan(specs, options, []);
    this.slots = plan.slots;
    this.current = this.fanout(plan.slots);
  }

  /** Build (not start) the exporters for `specs`, reusing those of `running` that are unchanged. Throws on a bad spec. */
  static plan(specs: readonly string[], options: CreateExporterOptions, running: readonly Slot[]): SinkPlan {
    const parsed = parseExportSpecs(specs);
    const slots: Slot[] = [];
    const fresh: Slot[] = [];
    for (const p of parsed) {
      const s = slotOf(p, options);
      const same = running.find((r) => r.key === s.key);
      if (same) {
        slots.push(same);
        continue;
      }
      const remake = () => createExporter(p, options);
      const slot = { ...s, exporter: remake(), remake };
      slots.push(slot);
      fresh.push(slot);
    }
    return { slots, fresh };
  }

  private fanout(slots: readonly Slot[]): Fanout {
    for (const s of slots) this.totals.hold(s.exporter);
    return new Fanout(
      slots.map((s) => s.exporter),
      this.logger,
    );
  }

  /** The exporters running now (plan() reuses them). */
  get running(): readonly Slot[] {
    return this.slots;
  }

  /** The exporters held now: running, draining and being shut down (retired ones are only in the totals). */
  get exporters(): Exporter[] {
    const out = [...this.current.exporters];
    for (const e of [...this.draining.map((d) => d.exporter), ...this.closing]) if (!out.includes(e)) out.push(e);
    return out;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.current.start();
  }

  async export(
    payload: ExportMetricsServiceRequest | EncodedRequest,
    encoded?: Uint8Array,
    batches?: () => readonly LaneBatch[],
  ): Promise<ExportOutcome[]> {
    while (this.switching) await this.switching;
    // every exporter of `f` takes the request before this call yields (Fanout.export), so a
    // swap that starts later finds it in their hands
    const f = this.current;
    const outcomes = await f.export(payload, encoded, batches);
    for (const [i, o] of outcomes.entries()) this.totals.record(f.exporters[i]!, o);
    return outcomes;
  }

  /**
   * Swap to `plan` (call between two cycles). Fresh exporters on a resource
   * nobody holds start first (a failure leaves everything as it was and
   * throws, naming the exporter); then exporters whose resource a fresh one
   * takes over (running or draining) are shut down and their successors
   * started, exports waiting meanwhile (a failure puts the retired ones
   * back, built again, and throws naming the successor); the rest of the
   * old ones drain.
   */
  async swap(plan: SinkPlan): Promise<{ started: string[]; retired: string[] }> {
    const kept = new Set(plan.slots.map((s) => s.exporter));
    const leaving = this.slots.filter((s) => !kept.has(s.exporter));
    const holders = [...leaving, ...this.draining];
    const taken = (s: Slot) => s.resource !== undefined && holders.some((l) => l.resource === s.resource);
    const free = plan.fresh.filter((s) => !taken(s));
    const successors = plan.fresh.filter(taken);
    const outcomes = await Promise.allSettled(free.map((s) => s.exporter.start()));
    const i = outcomes.findIndex((o) => o.status === 'rejected');
    if (i >= 0) {
      await this.discard(plan);
      throw startFailure(free[i]!.exporter.name, (outcomes[i] as PromiseRejectedResult).reason);
    }
    const replaced = holders.filter((l) => successors.some((s) => s.resource === l.resource));
    let open = () => {};
    this.switching = new Promise<void>((resolve) => {
      open = resolve;
    });
    try {
      for (const l of replaced) await this.retire(l.exporter);
      this.draining = this.draining.filter((d) => !replaced.includes(d));
      for (const s of successors) {
        try {
          await s.exporter.start();
        } catch (e) {
          await this.discard(plan);
          const err = startFailure(s.exporter.name, e);
          const lost = await this.restore(replaced.filter((r) => leaving.includes(r)));
          err.message +=
            lost.length > 0
              ? `; the exporter it replaced could not be started again either (${lost.join('; ')}): it is left out`
              : '; the exporters before the swap run on';
          throw err;
        }
      }
      this.current = this.fanout(plan.slots);
      this.slots = plan.slots;
      this.draining.push(...leaving.filter((l) => !replaced.includes(l)));
    } finally {
      this.switching = undefined;
      open();
    }
    this.reap();
    return { started: plan.fresh.map((s) => s.exporter.name), retired: leaving.map((l) => l.exporter.name) };
  }

  /** Shut `e` down (it gets no new data) and fold its figures into the totals. */
  private async retire(e: Exporter): Promise<void> {
    this.closing.add(e);
    await e.shutdown().catch((err) => this.logger.warn({ exporter: e.name, err: String(err) }, 'shutdown failed'));
    this.closing.delete(e);
    this.totals.fold(e);
  }

  /**
   * Undo the retirement of `replaced` (shut down for successors that then
   * failed): each is built again and started in its place in the running
   * sink. Returns what could not be started (left out of the sink).
   */
  private async restore(replaced: readonly Slot[]): Promise<string[]> {
    const lost: string[] = [];
    const back = new Map<Slot, Slot>();
    for (const l of replaced) {
      const exporter = l.remake();
      try {
        await exporter.start();
        back.set(l, { ...l, exporter });
      } catch (e) {
        lost.push(`${l.exporter.name}: ${describeError(e)}`);
        this.logger.error({ exporter: l.exporter.name, err: describeError(e) }, 'could not restore an exporter');
      }
    }
    this.slots = this.slots.flatMap((s) => (replaced.includes(s) ? (back.has(s) ? [back.get(s)!] : []) : [s]));
    this.current = this.fanout(this.slots);
    return lost;
  }

  /** Drop a plan that was never swapped in. */
  async discard(plan: SinkPlan): Promise<void> {
    await Promise.allSettled(plan.fresh.map((s) => s.exporter.shutdown()));
  }

  /** Shut down retired exporters that have nothing left to send. */
  reap(): void {
    const done = this.draining.filter((d) => !hasHealth(d.exporter) || d.exporter.health().queue.records === 0);
    this.draining = this.draining.filter((d) => !done.includes(d));
    for (const d of done) void this.retire(d.exporter);
  }

  /** Queue, breaker and delivery figures of the queued exporters held now, per name (counters over the agent's life). */
  health(): ExportHealth[] {
    this.reap();
    return this.totals.health(this.exporters);
  }

  /** Queue, breaker and delivery figures of the queued exporters of the config in effect (not the retired ones). */
  currentHealth(): ExportHealth[] {
    return this.current.health();
  }

  /** Failed deliveries per exporter name over the agent's life (monotonic across swaps). */
  errorCounts(): Record<string, number> {
    return this.totals.errorCounts(this.exporters);
  }

  /** Cumulative export() counters per exporter name over the agent's life. */
  exporterStats(): ExporterStats[] {
    return this.totals.exporterStats(this.exporters);
  }

  /** What became of the data each exporter (per name) accepted; read after shutdown (src/agent/delivery.ts). */
  deliveries(): ExporterDelivery[] {
    return this.totals.deliveries(this.exporters);
  }

  /** Shut every exporter down, running and draining (they stay held: the delivery report reads them). Safe to call twice. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      while (this.switching) await this.switching;
      await this.current.shutdown();
      await Promise.allSettled([...this.draining.map((d) => d.exporter), ...this.closing].map((e) => e.shutdown()));
    })();
    return this.stopping;
  }
}
