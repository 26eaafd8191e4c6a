/**
 * Scoring throughput: one scoring pass over N processes (steady state: every
 * process already has a slot and a baseline), inline and through a piscina
 * pool of 1 and 2 workers (FlatBuffers shards, shared table). The inline path
 * is the baseline, measured in the same run; ratios > 1 mean slower than inline.
 *
 *   npm run bench:score [-- --sizes 10000,100000 --iterations 30]
 */
import * as os from 'node:os';
import { loadConfig } from '../src/config/load.js';
import { IdentityTable } from '../src/core/identity.js';
import type { ProcessBatch } from '../src/sources/batch.js';
import { encodeBatch } from '../src/stages/score/codec.js';
import { scoreParams } from '../src/stages/score/params.js';
import { ROW_BORN, type ScoreInput } from '../src/stages/score/score.js';
import { InlineScorer, PoolScorer, type Scorer } from '../src/stages/score/scorer.js';
import { ScoreColumns } from '../src/stages/score/table.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const sizes = arg('sizes', '10000,100000').split(',').map(Number);
const iterations = Number(arg('iterations', '30'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const params = scoreParams(loadConfig().config.profiles.aggressive!.anomaly);

/** A deterministic population: small CPU with noise, RSS around a per-process level, a few NaNs and jumps. */
function population(n: number) {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pid = Int32Array.from({ length: n }, (_, i) => i + 1);
  const start = Float64Array.from({ length: n }, (_, i) => 1000 + i);
  const frame = (): ScoreInput & { pid: Int32Array; start: Float64Array } => {
    const cpu = new Float64Array(n);
    const rss = new Float64Array(n);
    const flags = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const x = rnd();
      cpu[i] = x < 0.001 ? Number.NaN : x < 0.002 ? 1.5 : (i % 11) * 0.005 * (1 + 0.2 * rnd());
      rss[i] = ((i % 97) + 1) * 1_048_576 * (1 + 0.01 * rnd());
      flags[i] = x > 0.999 ? ROW_BORN : 0;
    }
    return { count: n, slot: new Int32Array(0), cpu, rss, flags, pid, start };
  };
  return frame;
}

async function measure(scorer: Scorer, n: number) {
  const frame = population(n);
  const ids = new IdentityTable(n);
  const table = new ScoreColumns(ids);
  const frames = Array.from({ length: 4 }, frame);
  const times: number[] = [];
  for (let it = 0; it < iterations + 5; it++) {
    const f = frames[it % frames.length]!;
    const now = it * 10_000;
    const t0 = performance.now();
    const { slot } = ids.assign({
      count: n,
      pid: f.pid,
      startTicks: f.start,
      freshRows: new Int32Array(0),
      uid: new Int32Array(n),
    } as unknown as ProcessBatch);
    await scorer.score(table, { ...f, slot }, params, it + 1, now);
    ids.sweep();
    const ms = performance.now() - t0;
    if (it >= 5) times.push(ms); // the first passes warm the JIT and the workers
  }
  return median(times);
}

async function main() {
  console.log(
    `# scoring benchmark: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, median of ${iterations} passes after 5 warm-up passes (slot assignment + scoring + sweep)`,
  );
  console.log('| processes | scorer | ms per pass | processes/s | ratio vs inline | of which encoding (ms) |');
  console.log('|---|---|---|---|---|---|');
  for (const n of sizes) {
    const inline = new InlineScorer();
    const base = await measure(inline, n);
    const rows: [string, number, number][] = [['inline (baseline)', base, 0]];
    for (const w of [1, 2]) {
      const pool = new PoolScorer(w);
      try {
        const ms = await measure(pool, n);
        // the main-thread share: building the FlatBuffers shards
        const f = population(n)();
        const slot = Int32Array.from({ length: n }, (_, i) => i);
        const e: number[] = [];
        for (let i = 0; i < 10; i++) {
          const t0 = performance.now();
          const per = Math.ceil(n / w);
          for (let from = 0; from < n; from += per)
            encodeBatch({ ...f, slot }, params, 1, 0, from, Math.min(n, from + per));
          e.push(performance.now() - t0);
        }
        rows.push([`${w} worker${w > 1 ? 's' : ''}`, ms, median(e)]);
      } finally {
        await pool.close();
      }
    }
    for (const [name, ms, enc] of rows) {
      console.log(
        `| ${n} | ${name} | ${ms.toFixed(2)} | ${((n / ms) * 1000).toExponential(2)} | ${(ms / base).toFixed(2)} | ${enc ? enc.toFixed(2) : '-'} |`,
      );
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
