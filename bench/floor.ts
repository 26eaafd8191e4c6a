/**
 * The C floor for a /proc scan (bench/scanfloor.c): compiled once into a temp
 * dir with `cc -O2`, then run over a tree. `stat` mode reads every process's
 * `stat` on a kept fd while the fd limit allows and open-read-close beyond
 * it, plus the directory listing: what any scanner must do at least.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../src/util/package.js';

export function compileFloor(dir: string): string {
  const bin = path.join(dir, 'scanfloor');
  if (!fs.existsSync(bin)) {
    execFileSync('cc', ['-O2', '-o', bin, path.join(packageRoot(), 'bench', 'scanfloor.c')], { stdio: 'inherit' });
  }
  return bin;
}

export interface FloorTimes {
  processes: number;
  /** the first iteration (opens the kept fds), ms */
  firstMs: number;
  /** median of the later iterations, ms */
  steadyMs: number;
}

/**
 * `iterations` scans of `root` in one process. `fstat`: also fstat each kept
 * fd (what a scanner must do on a tree that is not procfs, where files are
 * replaced by rename).
 */
export function runFloor(bin: string, root: string, iterations: number, fstat = false): FloorTimes {
  const out = execFileSync(bin, [root, 'stat', String(iterations), fstat ? '1' : '0'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const rows = out
    .trim()
    .split('\n')
    .map((l) => l.split(' ').map(Number) as [number, number]);
  const steady = rows
    .slice(1)
    .map((r) => r[1] / 1e6)
    .sort((a, b) => a - b);
  return {
    processes: rows[0]![0],
    firstMs: rows[0]![1] / 1e6,
    steadyMs: steady[Math.floor(steady.length / 2)] ?? rows[0]![1] / 1e6,
  };
}
