/**
 * One `nrdot run` as a user starts it (the built CLI, its own process), over
 * a tree: its per-cycle times from its summary lines and its peak resident
 * memory (VmHWM from /proc/<pid>/status, read every 20 ms until it exits;
 * the kernel keeps the high-water mark, so the last reading is the peak up to
 * then).
 */
import { procStatus, startAgent } from '../src/harness/agent-process.js';

export interface AgentRun {
  /** cycle times in ms, from the summary lines */
  cycleMs: number[];
  /** peak RSS, bytes */
  peakRss: number;
  exitCode: number | null;
  stderr: string;
}

export function runAgent(args: string[], nodeArgs: string[] = []): Promise<AgentRun> {
  const agent = startAgent(['run', ...args], { nodeArgs });
  const child = agent.child;
  const pid = child.pid ?? 0;
  let peak = 0;
  const read = () => {
    peak = Math.max(peak, procStatus(pid)?.hwmBytes ?? 0);
  };
  const timer = setInterval(read, 20);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    // one last reading when it exits ('close' waits for its output too)
    child.on('exit', read);
    child.on('close', (code) => {
      clearInterval(timer);
      const cycleMs = [...agent.stdout().matchAll(/^cycle \d+ .*? \| (\d+) ms( \||$)/gm)].map((m) => Number(m[1]));
      resolve({ cycleMs, peakRss: peak, exitCode: code, stderr: agent.stderr() });
    });
  });
}
