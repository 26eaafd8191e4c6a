/**
 * piscina task: score one encoded shard against the shared state table.
 * A thin adapter: decoding and scoring live in src/score.
 */
import { move } from 'piscina';
import { decodeBatch } from '../src/stages/score/codec.js';
import { scoreRows } from '../src/stages/score/score.js';
import type { ScoreTask } from '../src/stages/score/scorer.js';
import { viewBuffers } from '../src/stages/score/table.js';

export default function scoreShard(task: ScoreTask): Uint8Array {
  const { input, params, nowMs } = decodeBatch(task.batch);
  const out = new Uint8Array(input.count);
  scoreRows(viewBuffers(task.table), input, params, nowMs, out);
  return move(out) as Uint8Array;
}
