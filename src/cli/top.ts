import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../config/load.js';
import { IdentityTable } from '../core/identity.js';
import { openScanner } from '../sources/index.js';
import { Classifier } from '../stages/classify/classifier.js';
import { CounterMemory } from '../stages/rates/counters.js';
import { TIERS } from '../telemetry/names.js';
import { bytes } from './format.js';

interface TopOpts {
  procRoot: string;
  config?: string;
  count: number;
  sort: 'cpu' | 'rss';
  delay: number;
  json?: boolean;
}

export async function topCommand(o: TopOpts): Promise<void> {
  const { config } = loadConfig(o.config);
  const { reader } = openScanner(o.procRoot, 'auto');
  const ids = new IdentityTable(new Classifier(config.classification), config.classification.demote_pool_workers);
  const counters = new CounterMemory();
  let b: Awaited<ReturnType<typeof reader.scan>>;
  try {
    b = await reader.scan();
    if (o.delay > 0) {
      counters.step(b);
      ids.update(b);
      await sleep(o.delay);
      b = await reader.scan();
    }
  } finally {
    reader.close();
  }
  const { cpuCores } = counters.step(b);
  const entries = ids.update(b);
  const rows = Array.from({ length: b.count }, (_, i) => i);
  rows.sort((x, y) => (o.sort === 'cpu' ? cpuCores[y]! - cpuCores[x]! : b.rssBytes[y]! - b.rssBytes[x]!) || x - y);
  const top = rows.slice(0, o.count).map((i) => ({
    pid: b.pid[i]!,
    tier: TIERS[entries[i]!.tier]!,
    cpuPercent: Number((cpuCores[i]! * 100).toFixed(1)),
    rssBytes: b.rssBytes[i]!,
    threads: b.threads[i]!,
    name: entries[i]!.name,
    cmdline: entries[i]!.cmdline,
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
