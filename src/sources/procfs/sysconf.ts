import { execFileSync } from 'node:child_process';

let cached: { clkTck: number; pageSize: number } | undefined;

function getconf(name: string, fallback: number): number {
  try {
    const v = Number(execFileSync('getconf', [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(v) && v > 0 ? v : fallback;
  } catch {
    return fallback;
  }
}

/**
 * Clock ticks per second and page size of this machine. Synthetic trees are
 * written with the same values, so they read back the same way.
 */
export function sysconf(): { clkTck: number; pageSize: number } {
  if (!cached) cached = { clkTck: getconf('CLK_TCK', 100), pageSize: getconf('PAGESIZE', 4096) };
  return cached;
}
