import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../config/load.js';
import { Frame } from '../core/frame.js';
import { IdentityTable } from '../core/identity.js';
import type { ProcessBatch } from '../sources/batch.js';
import { ownerResolver } from '../sources/procfs/users.js';
import { openSource } from '../sources/recording/open.js';
import { ClassifyStage } from '../stages/classify/index.js';
import { RatesStage } from '../stages/rates/index.js';
import { TIERS } from '../telemetry/names.js';
import { bytes } from './format.js';

interface TopOpts {
  procRoot?: string;
  recording?: string;
  config?: string;
  count: number;
  sort: 'cpu' | 'rss';
  delay: number;
  json?: boolean;
}

export async function topCommand(o: TopOpts): Promise<void> {
  const { config } = loadConfig(o.config);
  const { reader, replay } = openSource({
    procRoot: o.procRoot,
    defaultProcRoot: '/proc',
    recording: o.recording,
    backend: 'auto',
  });
  // the pipeline's own first stages: tiers and CPU rates as the agent computes them
  const ids = new IdentityTable(undefined, ownerResolver(reader.procRoot));
  const classify = new ClassifyStage(ids, config.classification);
  const rates = new RatesStage(ids);
  let cycle = 0;
  const step = (batch: ProcessBatch): Frame => {
    const f = new Frame(batch, false, ++cycle, Date.now(), ids.assign(batch));
    classify.process(f);
    rates.process(f);
    ids.sweep();
    return f;
  };
  let b: ProcessBatch;
  try {
    b = await reader.scan();
    // with a recording the CPU window is its first interval (no waiting)
    if (o.delay > 0 && !replay?.ended) {
      step(b);
      if (!replay) await sleep(o.delay);
      b = await reader.scan();
    }
  } finally {
    reader.close();
  }
  const f = step(b);
  const cpuCores = f.cpuCores;
  const rows = Array.from({ length: b.count }, (_, i) => i);
  rows.sort((x, y) => (o.sort === 'cpu' ? cpuCores[y]! - cpuCores[x]! : b.rssBytes[y]! - b.rssBytes[x]!) || x - y);
  const top = rows.slice(0, o.count).map((i) => ({
    pid: b.pid[i]!,
    tier: TIERS[f.tier[i]!]!,
    cpuPercent: Number((cpuCores[i]! * 100).toFixed(1)),
    rssBytes: b.rssBytes[i]!,
    threads: b.threads[i]!,
    name: ids.name[f.slot[i]!]!,
    cmdline: ids.cmdline[f.slot[i]!]!,
  }));
  if (o.json) {
    process.stdout.write(`${JSON.stringify(top)}\n`);
    return;
  }
  const width = process.stdout.columns ?? 160;
  process.stdout.write(
    `${'PID'.padStart(8)} ${'TIER'.padEnd(9)} ${'CPU%'.padStart(6)} ${'RSS'.padStart(10)} ${'THR'.padStart(5)}  NAME / COMMAND\n`,
  );
  for (const r of top) {
    const line = `${String(r.pid).padStart(8)} ${r.tier.padEnd(9)} ${r.cpuPercent.toFixed(1).padStart(6)} ${bytes(r.rssBytes).padStart(10)} ${String(r.threads).padStart(5)}  ${r.name}${r.cmdline ? `  ${r.cmdline}` : ''}`;
    process.stdout.write(`${line.slice(0, Math.max(60, width))}\n`);
  }
}
