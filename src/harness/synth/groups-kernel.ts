/**
 * kthreadd and the kernel threads under it: per-CPU threads, the ones made
 * once at boot, and workqueue workers that come and go.
 */
import type { Builder, Spec } from './builder.js';
import { BOOT_KTHREADS, PERCPU_KTHREADS, UID, WORKQUEUES } from './catalog.js';
import type { Ctx } from './groups-system.js';

const ROOT = UID.root;

function kthread(name: string, nice: number, rt: number, start: Spec['start']): Spec {
  return {
    argv: [name],
    exe: '',
    ids: ROOT,
    category: 'kernel',
    role: name.startsWith('kworker/') ? 'kworker' : 'kthread',
    cpu: name.startsWith('ksoftirqd') || name.startsWith('rcu_') ? 0.0008 : 0.00005,
    rssMb: 0,
    fds: [0, 0],
    start,
    kernel: true,
    nice,
    rtPrio: rt,
    wake: name.startsWith('rcu_sched') ? 40 : name.startsWith('kworker') ? 4 : 0.3,
    writeKBps: name.startsWith('jbd2') || name.includes('flush') ? 30 : undefined,
  };
}

/** kthreadd plus kernel threads up to the builder's kernel budget. */
export function addKernel(b: Builder, ctx: Ctx): void {
  const rng = b.rng;
  const kd = ctx.kthreadd;
  if (kd < 0) return;
  const cpus = b.cpus;
  const percpu = (cpu: number) =>
    PERCPU_KTHREADS.map(([n, nice, rt]) => kthread(n.replace('%d', String(cpu)), nice, rt, 'boot'));
  const kworker = (): Spec => {
    const wq = rng.pick(WORKQUEUES);
    const unbound = rng.chance(0.35);
    const base = unbound
      ? `kworker/u${cpus * 2}:${rng.int(0, 40)}`
      : `kworker/${rng.int(0, cpus - 1)}:${rng.int(0, 6)}`;
    const hi = !unbound && rng.chance(0.1) ? 'H' : '';
    return kthread(`${base}${hi}${wq ? `-${wq}` : ''}`, hi ? -20 : 0, 0, 'any');
  };
  const first: Spec[] = [
    ...percpu(0),
    kthread('rcu_sched', 0, 0, 'boot'),
    kthread('kswapd0', 0, 0, 'boot'),
    kworker(),
    kworker(),
  ];
  const rest: Spec[] = [
    ...BOOT_KTHREADS.filter(([n]) => n !== 'rcu_sched' && n !== 'kswapd0').map(([n, ni, rt]) =>
      kthread(n, ni, rt, 'boot'),
    ),
  ];
  for (let c = 1; c < cpus; c++) rest.push(...percpu(c));
  rng.shuffle(rest);
  // Keep about a third of the budget for workqueue workers, which come and go.
  const fixed = Math.max(first.length, Math.round((b.kernelBudget - 1) * 0.7));
  let added = 0;
  for (const s of [...first, ...rest]) {
    if (added >= fixed || b.kernelRoom <= 0) break;
    if (b.add(kd, s) >= 0) added++;
  }
  while (b.kernelRoom > 0) if (b.add(kd, kworker()) < 0) break;
}
