import { type ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(REPO, 'dist/src/cli/main.js');

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

export interface RunningAgent {
  child: ChildProcess;
  /** stderr so far (pino JSON lines and CLI messages) */
  stderr(): string;
  stdout(): string;
  /** parsed JSON log lines so far */
  logs(): Record<string, unknown>[];
  /** resolves with the first log line whose msg matches (rejects after `ms`) */
  waitForLog(msg: RegExp, ms?: number): Promise<Record<string, unknown>>;
  /** the control server's URL (from its log line) */
  controlUrl(ms?: number): Promise<string>;
  /** exit code and signal, once it exited */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running (for afterEach/afterAll) */
  kill(): void;
}

/**
 * Start the built CLI in the background (`run` gets `--listen 127.0.0.1:0`
 * unless given one). `shell` runs it through `bash -c` with this prefix,
 * e.g. `ulimit -n 256;`.
 */
export function startAgent(args: string[], opts: { env?: NodeJS.ProcessEnv; shell?: string } = {}): RunningAgent {
  if (args[0] === 'run' && !args.includes('--listen')) args = [...args, '--listen', '127.0.0.1:0'];
  const env = { ...process.env, ...opts.env };
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const child =
    opts.shell !== undefined
      ? spawn('bash', ['-c', `${opts.shell} exec ${[process.execPath, CLI, ...args].map(q).join(' ')}`], {
          cwd: REPO,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, [CLI, ...args], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  const waiting: { re: RegExp; resolve: (l: Record<string, unknown>) => void }[] = [];
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const p of parts) {
      let l: Record<string, unknown>;
      try {
        l = JSON.parse(p) as Record<string, unknown>;
      } catch {
        continue;
      }
      lines.push(l);
      for (const w of [...waiting]) {
        if (w.re.test(String(l.msg))) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitForLog = (re: RegExp, ms = 30_000) => {
    const have = lines.find((l) => re.test(String(l.msg)));
    if (have) return Promise.resolve(have);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no log line ${re} within ${ms} ms; stderr:\n${stderr}`)), ms);
      waiting.push({
        re,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
      void exited.then(() => {
        clearTimeout(t);
        reject(new Error(`the agent exited before logging ${re}; stderr:\n${stderr}`));
      });
    });
  };
  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    logs: () => lines,
    waitForLog,
    controlUrl: async (ms) => String((await waitForLog(/^control server listening$/, ms)).url),
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
