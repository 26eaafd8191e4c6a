/**
 * Reduction per profile on a synthetic host, through the real CLI:
 *   nrdot run --once --proc-root <host> --profile P --export file:out.jsonl
 * and prints a markdown table for docs/BENCHMARKS.md.
 *
 *   npm run reduction-report [-- --processes 10000 --seed 1 --dir /tmp/host10k]
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fastTmpDir } from '../src/util/tmp.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'main.js');
const processes = arg('processes', '10000');
const seed = arg('seed', '1');
const tmp = fastTmpDir('nrdot-reduction-');
const dir = arg('dir', path.join(tmp, `host-${processes}`));

const run = (args: string[]) =>
  execFileSync(process.execPath, [cli, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

try {
  if (!fs.existsSync(path.join(dir, '.nrdot-synth.json'))) {
    process.stderr.write(run(['synth', '--out', dir, '--processes', processes, '--seed', seed]));
  }
  console.log(
    `host: ${dir} (${processes} synthetic processes, seed ${seed}); node ${process.version}; ${os.cpus().length} cores`,
  );
  console.log(
    '| profile | processes exported / seen | data points exported / baseline | bytes exported / baseline | reduction (points) | reduction (bytes) | critical coverage |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const profile of ['conservative', 'balanced', 'aggressive', 'emergency']) {
    const out = path.join(tmp, `${profile}.jsonl`);
    const line = run([
      'run',
      '--once',
      '--proc-root',
      dir,
      '--profile',
      profile,
      '--export',
      `file:${out}`,
      '--log-level',
      'warn',
    ]);
    const m =
      /processes (\d+), exported (\d+).*points (\d+)\/(\d+) \| bytes (.+?) vs baseline (.+?) \| reduction (\S+) \| critical (\d+)\/(\d+) \((\S+)\)/.exec(
        line,
      );
    if (!m) throw new Error(`cannot parse: ${line}`);
    const [, seen, exported, pts, basePts, bytes, baseBytes, red, , , cov] = m;
    const redPts = (1 - Number(pts) / Number(basePts)) * 100;
    console.log(
      `| ${profile} | ${exported} / ${seen} | ${pts} / ${basePts} | ${bytes} / ${baseBytes} | ${redPts.toFixed(1)}% | ${red} | ${cov} |`,
    );
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
