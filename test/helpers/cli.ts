import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from '../../src/harness/agent-process.js';

// startAgent lives with the harness so the benchmarks start the agent the same way.
export { CLI, type RunningAgent, startAgent } from '../../src/harness/agent-process.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the built CLI (npm test builds it first) as a user would. `run`
 * without `--listen` gets `--listen 127.0.0.1:0`, so parallel tests never
 * fight over the default port 9464 (and every run still serves /metrics).
 */
export function nrdot(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  if (args[0] === 'run' && !args.includes('--listen') && !args.includes('--help')) {
    args = [...args, '--listen', '127.0.0.1:0'];
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? REPO,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
