/**
 * CPU overhead of the agent on a real host: `nrdot run` (the built CLI, no
 * export, no HTTP server) watching N extra real sleeping processes for a
 * fixed time, as a percentage of one core, beside `ps` run at the same
 * interval for the same time (the baseline, in the same run).
 *
 *   npm run bench:overhead [-- --processes 10000 --duration 120s --interval 10s --backend native,ts]
 *
 * - The sleepers are `sleep` processes forked by one bash loop in their own
 *   process group, killed (SIGKILL to the group) on exit, error and SIGINT.
 * - The agent's CPU is utime + stime from /proc/<pid>/stat (every thread,
 *   native scan threads included), read once the first cycle is over (the
 *   warm-up, which reads every command line and classifies every process:
 *   detected as the first second in which the agent uses at most one clock
 *   tick) and again `--duration` later. The window holds duration/interval
 *   steady-state cycles. The warm-up's CPU is printed on its own.
 * - The baseline is one bash loop running `ps -eo pid,ppid,comm,rss,vsz,time,
 *   nlwp,stat,args` every interval (the wait is bash's `read -t` on a pipe
 *   that never gets data, so nothing else is forked), duration/interval times;
 *   its CPU is the children's rusage that bash's `times` prints at the end.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { CLI, procStatus, startAgent } from '../src/harness/agent-process.js';
import { fastTmpDir } from '../src/util/tmp.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

/** "120", "120s", "2m", "1500ms" -> ms */
function durationArg(name: string, fallback: string): number {
  const v = arg(name, fallback);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v);
  if (!m) throw new Error(`--${name}: expected a duration such as 120s, got ${JSON.stringify(v)}`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

const processes = Number(arg('processes', '10000'));
const durationMs = durationArg('duration', '120s');
const intervalMs = durationArg('interval', '10s');
const backends = arg('backend', 'native,ts').split(',');
const PS_ARGS = 'pid,ppid,comm,rss,vsz,time,nlwp,stat,args';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything to undo, most recent first; run on exit, error and signals. */
const cleanups: (() => void)[] = [];
function cleanupAll(): void {
  while (cleanups.length > 0) {
    try {
      cleanups.pop()!();
    } catch {
      // already gone
    }
  }
}
process.once('exit', cleanupAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    cleanupAll();
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

/** utime + stime of a process, in clock ticks; undefined once it is gone. */
function cpuTicks(pid: number): number | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    // fields after "comm": state is field 3, utime 14 and stime 15 (1-based)
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

function countProcesses(): number {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).length;
}

function groupSize(pgid: number): number {
  const r = spawnSync('pgrep', ['-g', String(pgid), '-c'], { encoding: 'utf8' });
  return Number(r.stdout.trim()) || 0;
}

/**
 * Fork `count` sleepers from one bash loop in a new process group. Returns
 * how many are running; stops early (and says so) if forking stalls.
 */
async function startSleepers(count: number): Promise<number> {
  const child = spawn('bash', ['-c', `for ((i=0;i<${count};i++)); do sleep 1000000 & done; wait`], {
    detached: true,
    stdio: 'ignore',
  });
  const pgid = child.pid!;
  cleanups.push(() => process.kill(-pgid, 'SIGKILL'));
  let last = 0;
  let stalled = 0;
  for (;;) {
    await sleep(500);
    const n = groupSize(pgid) - 1; // minus bash itself
    if (n >= count) return n;
    if (child.exitCode !== null) return n; // bash gave up (fork failed)
    stalled = n === last ? stalled + 1 : 0;
    last = n;
    if (stalled >= 20) {
      console.log(`(forking stalled at ${n} sleepers for 10 s: going on with ${n})`);
      return n;
    }
  }
}

interface AgentResult {
  backend: string;
  warmupCpuS: number;
  warmupWallS: number;
  cpuS: number;
  wallS: number;
  rss: string;
  threads: string;
}

/** Wait until `pid` uses at most one tick in a whole second (the first cycle is over). */
async function waitIdle(pid: number, isAlive: () => boolean, timeoutMs: number): Promise<number> {
  const t0 = performance.now();
  let prev = cpuTicks(pid) ?? 0;
  let quietSince = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    await sleep(100);
    if (!isAlive()) throw new Error('the agent exited during its first cycle');
    const now = cpuTicks(pid) ?? 0;
    if (now - prev > 1) {
      prev = now;
      quietSince = performance.now();
    } else if (performance.now() - quietSince >= 1000) {
      return now;
    }
  }
  throw new Error(`the agent did not go idle within ${timeoutMs / 1000} s of starting`);
}

async function runAgent(backend: string, cwd: string): Promise<AgentResult> {
  const agent = startAgent(
    ['run', '--interval', `${intervalMs}ms`, '--export', 'none', '--listen', 'off', '--quiet', '--backend', backend],
    { cwd },
  );
  const { child } = agent;
  cleanups.push(() => agent.kill());
  const alive = () => child.exitCode === null && child.signalCode === null;
  const pid = child.pid!;
  const tStart = performance.now();
  try {
    const ticks0 = await waitIdle(pid, alive, Math.max(intervalMs, 60_000));
    const t0 = performance.now();
    await sleep(durationMs);
    const ticks1 = cpuTicks(pid);
    const t1 = performance.now();
    if (!alive() || ticks1 === undefined) throw new Error('the agent exited during the measurement');
    const st = procStatus(pid);
    const rss = st ? `${st.rssBytes / 1024} kB` : '?';
    const threads = st ? String(st.threads) : '?';
    child.kill('SIGTERM');
    await Promise.race([agent.exited, sleep(30_000)]);
    return {
      backend,
      warmupCpuS: ticks0 / CLK_TCK,
      warmupWallS: (t0 - tStart) / 1000,
      cpuS: (ticks1 - ticks0) / CLK_TCK,
      wallS: (t1 - t0) / 1000,
      rss,
      threads,
    };
  } catch (e) {
    throw new Error(`${(e as Error).message}; agent stderr:\n${agent.stderr().slice(-8000)}`);
  } finally {
    agent.kill();
  }
}

/** `ps` every interval, duration/interval times: CPU seconds of the ps runs, wall seconds of the loop. */
async function runPs(runs: number): Promise<{ cpuS: number; wallS: number; lines: number }> {
  const waitS = intervalMs / 1000;
  const script = `for ((i=0;i<${runs};i++)); do ps -eo ${PS_ARGS} >/dev/null; read -t ${waitS} -u 3 _; done; times`;
  const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit', 'pipe'] });
  cleanups.push(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => {
    out += s;
  });
  const t0 = performance.now();
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  const wallS = (performance.now() - t0) / 1000;
  // `times`: the shell's own user/sys, then its children's
  const children = out.trim().split('\n')[1];
  const m = children ? /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(children) : null;
  if (code !== 0 || !m) throw new Error(`the ps loop failed (exit ${code}): ${out}`);
  const cpuS = Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
  const lines = spawnSync('ps', ['-eo', PS_ARGS], { encoding: 'utf8', maxBuffer: 256 << 20 }).stdout.split('\n');
  return { cpuS, wallS, lines: lines.filter((l) => l.length > 0).length - 1 };
}

async function main(): Promise<void> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const cycles = Math.round(durationMs / intervalMs);
  const before = countProcesses();
  const t0 = performance.now();
  const started = await startSleepers(processes);
  const total = countProcesses();
  console.log(
    `# CPU overhead: node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ` +
      `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, CLK_TCK ${CLK_TCK}`,
  );
  console.log(
    `\n${started} sleepers started in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
      `${total} processes on the host (${before} before). Interval ${intervalMs / 1000} s, ` +
      `${durationMs / 1000} s measured (${cycles} cycles) after the first cycle.\n`,
  );
  const cwd = fastTmpDir('nrdot-overhead-');
  cleanups.push(() => fs.rmSync(cwd, { recursive: true, force: true }));

  const agents: AgentResult[] = [];
  for (const b of backends) agents.push(await runAgent(b, cwd));
  const ps = await runPs(cycles);

  const pct = (cpuS: number, wallS: number) => (cpuS / wallS) * 100;
  const psPct = pct(ps.cpuS, durationMs / 1000);
  console.log('| what | CPU s | % of one core | CPU ms per interval | ratio vs ps |');
  console.log('|---|---|---|---|---|');
  console.log(
    `| baseline: \`ps -eo ${PS_ARGS}\` every ${intervalMs / 1000} s (${ps.lines} rows) | ${ps.cpuS.toFixed(2)} | ` +
      `${psPct.toFixed(3)}% | ${((ps.cpuS * 1000) / cycles).toFixed(1)} | 1.00 |`,
  );
  for (const a of agents) {
    console.log(
      `| nrdot run --backend ${a.backend} | ${a.cpuS.toFixed(2)} | ${pct(a.cpuS, a.wallS).toFixed(3)}% | ` +
        `${((a.cpuS * 1000) / cycles).toFixed(1)} | ${(a.cpuS / a.wallS / (ps.cpuS / (durationMs / 1000))).toFixed(2)} |`,
    );
  }
  console.log('');
  for (const a of agents) {
    console.log(
      `${a.backend}: start-up + first cycle ${a.warmupCpuS.toFixed(2)} s CPU in ${a.warmupWallS.toFixed(1)} s; ` +
        `RSS at the end ${a.rss}, ${a.threads} threads.`,
    );
  }
  console.log(`ps loop wall time: ${ps.wallS.toFixed(1)} s for ${cycles} runs.`);
}

main()
  .catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  })
  .finally(cleanupAll);
