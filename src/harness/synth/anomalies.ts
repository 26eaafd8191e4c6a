/**
 * Anomalies `advance` injects: CPU spikes and memory balloons on existing
 * processes, and new processes that start busy.
 */
import type { Spec } from './builder.js';
import type { Rng } from './prng.js';
import type { AnomalyKind, Category, SynthProc } from './types.js';

/** Categories whose processes make believable CPU/memory anomalies. */
const SERVICE_CATEGORIES: ReadonlySet<Category> = new Set<Category>([
  'database',
  'webserver',
  'broker',
  'runtime',
  'container',
  'system',
  'user',
]);

/** Processes that start with high usage (anomaly 'new'). */
export const NEW_HOGS: readonly Omit<Spec, 'start' | 'ids'>[] = [
  {
    argv: ['stress-ng', '--cpu', '4', '--vm', '2', '--timeout', '900s'],
    exe: '/usr/bin/stress-ng',
    category: 'tool',
    role: 'stress-ng',
    threads: 7,
    cpu: 3,
    rssMb: 800,
    fds: [3, 6],
  },
  {
    argv: ['/usr/bin/python3', '/opt/jobs/etl_backfill.py', '--since', '2020-01-01'],
    exe: '/usr/bin/python3.11',
    category: 'runtime',
    role: 'python-job',
    threads: 1,
    cpu: 0.95,
    rssMb: 2500,
    fds: [6, 20],
    readKBps: 20000,
  },
  {
    argv: ['/usr/bin/java', '-Xmx8g', '-jar', '/opt/batch/reindex.jar'],
    exe: '/usr/lib/jvm/java-21-openjdk-amd64/bin/java',
    category: 'runtime',
    role: 'java-batch',
    threads: 64,
    cpu: 2.5,
    rssMb: 3000,
    fds: [40, 120],
    fdKind: 'jvm',
  },
  {
    argv: ['ffmpeg', '-i', '/srv/media/in.mov', '-c:v', 'libx264', '-preset', 'slow', '/srv/media/out.mp4'],
    exe: '/usr/bin/ffmpeg',
    category: 'user',
    role: 'ffmpeg',
    threads: 18,
    cpu: 1.8,
    rssMb: 600,
    fds: [5, 10],
    readKBps: 3000,
    writeKBps: 1500,
  },
  {
    argv: ['/tmp/.x/kdevtmpfsi'],
    exe: '/tmp/.x/kdevtmpfsi (deleted)',
    comm: 'kdevtmpfsi',
    category: 'user',
    role: 'miner',
    threads: 8,
    cpu: 3.5,
    rssMb: 120,
    fds: [4, 8],
  },
];

/** K anomaly kinds: each kind once when K >= 3, the rest by weight. */
export function anomalyKinds(rng: Rng, k: number): AnomalyKind[] {
  const base = rng.shuffle<AnomalyKind>(['cpu', 'memory', 'new']);
  const out = base.slice(0, Math.min(k, 3));
  while (out.length < k)
    out.push(
      rng.weighted<AnomalyKind>([
        ['cpu', 0.4],
        ['memory', 0.35],
        ['new', 0.25],
      ]),
    );
  return out;
}

/**
 * Apply the 'cpu' and 'memory' kinds to live processes (long-lived services
 * first). Returns the pids whose memory balloons in this step.
 */
export function applyExisting(
  rng: Rng,
  kinds: AnomalyKind[],
  live: SynthProc[],
  cpus: number,
  anomalies: { pid: number; kind: AnomalyKind }[],
): Set<number> {
  const eligible = live.filter((p) => !p.kernel && p.pid !== 1 && p.state !== 'Z' && p.anomaly === undefined);
  const services = rng.shuffle(eligible.filter((p) => SERVICE_CATEGORIES.has(p.category)));
  const targets = services.concat(rng.shuffle(eligible.filter((p) => !SERVICE_CATEGORIES.has(p.category))));
  const balloon = new Set<number>();
  let ti = 0;
  for (const kind of kinds) {
    if (kind === 'new') continue;
    const p = targets[ti++];
    if (!p) break;
    if (kind === 'cpu') {
      p.m.cpuRate = rng.range(0.8, 1.0) * (p.threads > 1 ? Math.min(p.threads, cpus, rng.int(1, 4)) : 1);
      p.m.preemptPerCpuSec *= 3;
    }
    if (kind === 'memory') balloon.add(p.pid);
    p.anomaly = kind;
    anomalies.push({ pid: p.pid, kind });
  }
  return balloon;
}
