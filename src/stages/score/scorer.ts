/**
 * Scorers: the one scoring implementation (score.ts) run inline or on a
 * piscina pool. Both take the same input and table and give the same bytes.
 *
 * The pool path splits the rows into one contiguous shard per worker, encodes
 * each shard as a FlatBuffer in its own ArrayBuffer and transfers it; the
 * state table is shared (SharedArrayBuffer), and each shard writes only the
 * slots its rows name, which are distinct. The per-row result comes back as a
 * transferred Uint8Array.
 */
import { Piscina } from 'piscina';
import { workerModule } from '../../util/package.js';
import { encodeBatch } from './codec.js';
import type { ScoreParams } from './params.js';
import { type ScoreInput, scoreRows } from './score.js';
import type { ScoreBuffers, ScoreColumns } from './table.js';

export interface Scorer {
  /** 0 = inline */
  readonly workers: number;
  /** One byte per row: reason | OUT_PROMOTED_NOW (see score.ts). */
  score(table: ScoreColumns, input: ScoreInput, params: ScoreParams, cycle: number, nowMs: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** What a worker receives (workers/score.ts). */
export interface ScoreTask {
  batch: ArrayBuffer;
  table: ScoreBuffers;
}

export class InlineScorer implements Scorer {
  readonly workers = 0;
  async score(table: ScoreColumns, input: ScoreInput, params: ScoreParams, _cycle: number, nowMs: number) {
    const out = new Uint8Array(input.count);
    scoreRows(table.state(), input, params, nowMs, out);
    return out;
  }
  async close(): Promise<void> {}
}

/** dist/workers/score.js */
export function workerFile(): string {
  return workerModule('score');
}

export class PoolScorer implements Scorer {
  private readonly pool: Piscina<ScoreTask, Uint8Array>;
  private closed = false;

  constructor(readonly workers: number) {
    if (!(workers >= 1)) throw new Error('PoolScorer needs at least one worker');
    this.pool = new Piscina({
      filename: workerFile(),
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 60_000,
      name: 'default',
    });
  }

  async score(table: ScoreColumns, input: ScoreInput, params: ScoreParams, cycle: number, nowMs: number) {
    const n = input.count;
    const out = new Uint8Array(n);
    if (n === 0) return out;
    const shards = Math.min(this.workers, n);
    const per = Math.ceil(n / shards);
    const buffers = table.buffers();
    const jobs: Promise<void>[] = [];
    for (let from = 0; from < n; from += per) {
      const to = Math.min(n, from + per);
      const batch = encodeBatch(input, params, cycle, nowMs, from, to);
      jobs.push(
        this.pool.run({ batch, table: buffers }, { transferList: [batch] }).then((r) => {
          out.set(r, from);
        }),
      );
    }
    await Promise.all(jobs);
    return out;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }
}

export function createScorer(workers: number): Scorer {
  return workers > 0 ? new PoolScorer(workers) : new InlineScorer();
}
