/**
 * Reduction on every synthetic host shape and profile, continuous and cron
 * style, against what users run today (the hostmetrics process scraper's
 * default export of every process): a markdown table for docs/BENCHMARKS.md
 * and the targets each row misses. See bench/reduction.ts for how each
 * figure is counted.
 *
 *   npm run reduction-report [-- --shapes web,k8s --processes 8000 --seed 1
 *                              --profiles balanced --cycles 6 --no-once --check]
 *
 * --check: exit 1 when a target is missed.
 */

import * as fs from 'node:fs';
import * as os from 'node:os';
import { type Figures, measureReduction, misses } from '../bench/reduction.js';
import { SHAPES, type Shape } from '../src/harness/synth/index.js';
import { fastTmpDir } from '../src/util/tmp.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const shapes = arg('shapes', SHAPES.join(',')).split(',') as Shape[];
for (const s of shapes) {
  if (!SHAPES.includes(s)) {
    console.error(`--shapes: unknown shape "${s}" (one of ${SHAPES.join(', ')})`);
    process.exit(2);
  }
}
const processes = Number(arg('processes', '8000'));
const seed = Number(arg('seed', '1'));
const profiles = arg('profiles', 'conservative,balanced,aggressive,emergency').split(',');
const cycles = process.argv.includes('--cycles') ? Number(arg('cycles', '6')) : undefined;
const pct = (x: number, d = 1) => `${(x * 100).toFixed(d)}%`;

const dir = fastTmpDir('nrdot-reduction-');
const rows: Figures[] = [];
const t0 = Date.now();
try {
  for (const shape of shapes) {
    const got = await measureReduction({
      shape,
      processes,
      seed,
      profiles,
      cycles,
      once: !flag('no-once'),
      dir,
      onProgress: (what) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${what}\n`),
    });
    rows.push(...got);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(
  `${processes} synthetic processes per shape, seed ${seed}, 10 s steps with churn and 2 injected anomalies per step; ` +
    `node ${process.version}; ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'})`,
);
console.log(
  'Reduction in data points against the hostmetrics default (7 points per process present), over the cycles after the first.',
);
console.log('');
console.log(
  '| shape | profile | mode | processes | exported | roll-ups | reduction | critical | anomalies ≤ 2 cycles | RSS totals | CPU totals | targets |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
let missed = 0;
for (const f of rows) {
  const m = misses(f);
  if (m.length) missed++;
  console.log(
    `| ${f.shape} | ${f.profile} | ${f.mode} | ${f.processes.toFixed(0)} | ${f.exported.toFixed(0)} | ${f.groups.toFixed(0)} | ` +
      `${pct(f.reduction)} | ${f.criticalExported}/${f.criticalPresent} | ${f.anomaliesCaught}/${f.anomaliesInjected} | ` +
      `${f.rssError === undefined ? '–' : pct(f.rssError, 2)} | ${f.cpuError === undefined ? '–' : pct(f.cpuError, 2)} | ` +
      `${m.length ? `MISSED: ${m.join('; ')}` : 'met'} |`,
  );
}
console.log('');
console.log(
  `${rows.length - missed}/${rows.length} rows meet their targets (${((Date.now() - t0) / 1000).toFixed(0)} s)`,
);
if (flag('check') && missed > 0) process.exit(1);
