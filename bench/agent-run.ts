/**
 * One `nrdot run` as a user starts it (the built CLI, its own process), over
 * a tree: its per-cycle times from its summary lines and its peak resident
 * memory (VmHWM from /proc/<pid>/status, read every 20 ms until it exits;
 * the kernel keeps the high-water mark, so the last reading is the peak up to
 * then).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../src/util/package.js';

export interface AgentRun {
  /** cycle times in ms, from the summary lines */
  cycleMs: number[];
  /** peak RSS, bytes */
  peakRss: number;
  exitCode: number | null;
  stderr: string;
}

function vmHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export function runAgent(args: string[], nodeArgs: string[] = []): Promise<AgentRun> {
  const cli = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
  const child = spawn(process.execPath, [...nodeArgs, cli, 'run', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  let peak = 0;
  const timer = setInterval(() => {
    if (child.pid) peak = Math.max(peak, vmHwm(child.pid));
  }, 20);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // 'exit' fires before the process is reaped into 'close': one last reading
    child.on('exit', () => {
      if (child.pid) peak = Math.max(peak, vmHwm(child.pid));
    });
    child.on('close', (code) => {
      clearInterval(timer);
      const cycleMs = [...stdout.matchAll(/^cycle \d+ .*? \| (\d+) ms( \||$)/gm)].map((m) => Number(m[1]));
      resolve({ cycleMs, peakRss: peak, exitCode: code, stderr });
    });
  });
}
