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
 * Counters stay cumulative across swaps: `errorCounts()`, `exporterStats()`
 * and `exporters` (for the shutdown delivery report) cover every exporter the
 * agent ever ran.
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

function hasHealth(e: Exporter): e is Exporter & { health(): ExportHealth } {
  return typeof (e as { health?: unknown }).health === 'function';
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
  /** every Fanout that ever ran, for cumulative counters */
  private readonly fanouts: Fanout[] = [];
  /** retired exporters still draining their queue */
  private draining: Exporter[] = [];
  private started = false;
  private stopping?: Promise<void>;

  constructor(
    specs: readonly string[],
    options: CreateExporterOptions,
    private readonly logger: Logger,
  ) {
    const plan = SwitchableSink.plan(specs, options, []);
    this.slots = plan.slots;
    this.current = new Fanout(
      plan.slots.map((s) => s.exporter),
      logger,
    );
    this.fanouts.push(this.current);
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

  /** The exporters running now (plan() reuses them). */
  get running(): readonly Slot[] {
    return this.slots;
  }

  /** Every exporter the agent ran, current first (the delivery report reads them after shutdown). */
  get exporters(): Exporter[] {
    const out: Exporter[] = [];
    for (const f of [this.current, ...this.fanouts]) for (const e of f.exporters) if (!out.includes(e)) out.push(e);
    return out;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.current.start();
  }

  export(
    payload: ExportMetricsServiceRequest | EncodedRequest,
    encoded?: Uint8Array,
    batches?: () => readonly LaneBatch[],
  ): Promise<ExportOutcome[]> {
    return this.current.export(payload, encoded, batches);
  }

  /**
   * Swap to `plan` (call between two cycles). Fresh exporters on a resource
   * nobody holds start first (a failure leaves everything as it was and
   * throws, naming the exporter); then exporters whose resource a fresh one
   * takes over are shut down and their successors started (a failure puts
   * the retired ones back, built again, and throws naming the successor);
   * the rest of the old ones drain.
   */
  async swap(plan: SinkPlan): Promise<{ started: string[]; retired: string[] }> {
    const kept = new Set(plan.slots.map((s) => s.exporter));
    const leaving = this.slots.filter((s) => !kept.has(s.exporter));
    const taken = (s: Slot) => s.resource !== undefined && leaving.some((l) => l.resource === s.resource);
    const free = plan.fresh.filter((s) => !taken(s));
    const successors = plan.fresh.filter(taken);
    const outcomes = await Promise.allSettled(free.map((s) => s.exporter.start()));
    const i = outcomes.findIndex((o) => o.status === 'rejected');
    if (i >= 0) {
      await this.discard(plan);
      throw startFailure(free[i]!.exporter.name, (outcomes[i] as PromiseRejectedResult).reason);
    }
    const replaced = leaving.filter((l) => successors.some((s) => s.resource === l.resource));
    for (const l of replaced) {
      await l.exporter
        .shutdown()
        .catch((e) => this.logger.warn({ exporter: l.exporter.name, err: String(e) }, 'shutdown failed'));
    }
    for (const s of successors) {
      try {
        await s.exporter.start();
      } catch (e) {
        await this.discard(plan);
        const err = startFailure(s.exporter.name, e);
        const lost = await this.restore(replaced);
        err.message +=
          lost.length > 0
            ? `; the exporter it replaced could not be started again either (${lost.join('; ')}): it is left out`
            : '; the exporters before the swap run on';
        throw err;
      }
    }
    const next = new Fanout(
      plan.slots.map((s) => s.exporter),
      this.logger,
    );
    this.current = next;
    this.slots = plan.slots;
    this.fanouts.push(next);
    const drain = leaving.filter((l) => !successors.some((s) => s.resource === l.resource)).map((l) => l.exporter);
    this.draining.push(...drain);
    this.reap();
    return { started: plan.fresh.map((s) => s.exporter.name), retired: leaving.map((l) => l.exporter.name) };
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
    this.current = new Fanout(
      this.slots.map((s) => s.exporter),
      this.logger,
    );
    this.fanouts.push(this.current);
    return lost;
  }

  /** Drop a plan that was never swapped in. */
  async discard(plan: SinkPlan): Promise<void> {
    await Promise.allSettled(plan.fresh.map((s) => s.exporter.shutdown()));
  }

  /** Shut down retired exporters that have nothing left to send. */
  reap(): void {
    const done = this.draining.filter((e) => !hasHealth(e) || e.health().queue.records === 0);
    this.draining = this.draining.filter((e) => !done.includes(e));
    for (const e of done) {
      void e.shutdown().catch((err) => this.logger.warn({ exporter: e.name, err: String(err) }, 'shutdown failed'));
    }
  }

  /** Queue, breaker and delivery figures of the queued exporters running now and those still draining. */
  health(): ExportHealth[] {
    this.reap();
    return [...this.current.health(), ...this.draining.filter(hasHealth).map((e) => e.health())];
  }

  /** Queue, breaker and delivery figures of the queued exporters of the config in effect (not the retired ones). */
  currentHealth(): ExportHealth[] {
    return this.current.health();
  }

  /** Failed deliveries per exporter name over the agent's life (monotonic across swaps). */
  errorCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.fanouts)
      for (const s of f.exporterStats()) out[s.exporter] = (out[s.exporter] ?? 0) + s.errors;
    for (const e of this.exporters) {
      if (hasHealth(e)) out[e.name] = (out[e.name] ?? 0) + e.health().failures;
    }
    return out;
  }

  /** Cumulative counters per exporter (aligned with `exporters`). */
  exporterStats(): ExporterStats[] {
    return this.exporters.map((e) => {
      const sum: ExporterStats = { exporter: e.name, exports: 0, errors: 0, consecutiveErrors: 0, bytes: 0 };
      for (const f of this.fanouts) {
        const i = f.exporters.indexOf(e);
        if (i < 0) continue;
        const s = f.exporterStats()[i]!;
        sum.exports += s.exports;
        sum.errors += s.errors;
        sum.bytes += s.bytes;
        sum.consecutiveErrors = s.consecutiveErrors;
        if (s.lastError) sum.lastError = s.lastError;
      }
      return sum;
    });
  }

  /** Shut every exporter down, running and draining. Safe to call twice. */
  shutdown(): Promise<void> {
    this.stopping ??= (async () => {
      await this.current.shutdown();
      await Promise.allSettled(this.draining.splice(0).map((e) => e.shutdown()));
    })();
    return this.stopping;
  }
}
