/**
 * The built CLI as a process of its own, the way a user starts it: for the
 * tests of the CLI and for the benchmarks that measure a running agent.
 *
 *   startAgent(args, { env?, shell?, nodeArgs?, cwd? }) -> RunningAgent
 *   procStatus(pid | 'self') -> { rssBytes, hwmBytes, threads } | undefined
 *
 * The CLI is dist/src/cli/main.js under the package root (`npm run build`
 * makes it), whether this module runs from src/ (vitest) or dist/ (bench).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageRoot } from '../util/package.js';

export const CLI = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');

export interface RunningAgent {
  child: ChildProcess;
  /** stderr so far (pino JSON lines and CLI messages) */
  stderr(): string;
  stdout(): string;
  /** parsed JSON log lines so far */
  logs(): Record<string, unknown>[];
  /** resolves with the first log line whose msg matches (rejects after `ms`, or when the agent exits first) */
  waitForLog(msg: RegExp, ms?: number): Promise<Record<string, unknown>>;
  /** the control server's URL (from its log line) */
  controlUrl(ms?: number): Promise<string>;
  /** the OTLP receiver's URL, `…/v1/metrics` (from its log line) */
  receiverUrl(ms?: number): Promise<string>;
  /** exit code and signal, once it exited */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running (for afterEach/afterAll and a benchmark's finally) */
  kill(): void;
}

export interface StartOptions {
  /** added to this process's environment */
  env?: NodeJS.ProcessEnv;
  /** run through `bash -c` with this prefix, e.g. `ulimit -n 256;` */
  shell?: string;
  /** node's own flags, before the CLI's path */
  nodeArgs?: string[];
  /** working directory (default: the package root) */
  cwd?: string;
}

/**
 * Start the built CLI in the background (`run` gets `--listen 127.0.0.1:0`
 * unless given one, so parallel runs never fight over the default port).
 */
export function startAgent(args: string[], opts: StartOptions = {}): RunningAgent {
  if (args[0] === 'run' && !args.includes('--listen')) args = [...args, '--listen', '127.0.0.1:0'];
  const env = { ...process.env, ...opts.env };
  const cwd = opts.cwd ?? packageRoot();
  const argv = [...(opts.nodeArgs ?? []), CLI, ...args];
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const child =
    opts.shell !== undefined
      ? spawn('bash', ['-c', `${opts.shell} exec ${[process.execPath, ...argv].map(q).join(' ')}`], {
          cwd,
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(process.execPath, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
    receiverUrl: async (ms) => String((await waitForLog(/^otlp receiver listening$/, ms)).url),
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

export interface ProcStatus {
  /** VmRSS, bytes */
  rssBytes: number;
  /** VmHWM (the kernel's high-water mark of VmRSS), bytes */
  hwmBytes: number;
  threads: number;
}

/**
 * Memory and threads of a process from /proc/<pid>/status; undefined when
 * it is gone (or has no such fields: a zombie has no Vm lines).
 */
export function procStatus(pid: number | 'self'): ProcStatus | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return undefined;
  }
  const field = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const rss = field('VmRSS');
  const hwm = field('VmHWM');
  const threads = field('Threads');
  if (rss === undefined || hwm === undefined || threads === undefined) return undefined;
  return { rssBytes: rss * 1024, hwmBytes: hwm * 1024, threads };
}
