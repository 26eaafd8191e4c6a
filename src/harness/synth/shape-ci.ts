/**
 * `ci`: a CI runner host (counts for 6,000 processes, scaled): gitlab-runner
 * with docker and shell executors, GitHub Actions runners, dockerd and
 * containerd, a postgres and a redis service container, and ~150 running
 * jobs. A job is a shell (in its docker container's scope, or in the
 * runner's service) running parallel work: `make -jK` (g++ -> cc1plus, as),
 * `npm test` (jest workers), `go test` (compile), `cargo build` (rustc),
 * `pytest -n K` (xdist workers), `git fetch` (git-remote-https). The leaves
 * are short-lived; a job is a cohort. `synth advance` replaces a large share
 * of the leaves and finishes whole jobs, starting new ones (with new
 * container ids) in their place.
 */
import type { Builder, Namespace } from './builder.js';
import { UID } from './catalog.js';
import { dockerCg } from './cgroup.js';
import type { ShapeChurn } from './churn.js';
import { addContainer } from './groups-apps.js';
import { addLogin } from './groups-login.js';
import { addShim } from './groups-shim.js';
import { addCronJob, type Ctx } from './groups-system.js';
import { FILES, leafSpec, stepSpec, WORKS, type Work } from './shape-ci-work.js';
import { addNoise, type ShapePlan, service, sized, userAt } from './shape-kit.js';

const RUNNER = [990, 990] as const;
const ACTIONS = [1001, 1001] as const;

/** Where a job runs: its parents and placement. */
export interface CiParents {
  init: number;
  /** gitlab-runner (shell executor jobs hang under it), -1 when absent */
  runner: number;
  /** Runner.Listener processes with no job at the moment */
  freeListeners: number[];
}

/** One running job of about `budget` processes. Returns processes added. */
export function addJob(b: Builder, p: CiParents, budget: number): number {
  const rng = b.rng;
  if (b.userRoom < 4) return 0;
  const before = b.made;
  const jobId = rng.int(1e6, 9e6);
  const cohort = `job:${jobId}`;
  const executor = rng.weighted([
    ['docker', 6],
    ['shell', 2],
    ['actions', p.freeListeners.length > 0 ? 2 : 0],
  ] as const);
  let shellParent: number;
  let ns: Namespace | undefined;
  let ids: readonly [number, number];
  let overhead: number;
  if (executor === 'docker') {
    const id = rng.hex(64);
    shellParent = addShim(b, p.init, { namespace: 'moby', id, start: 'recent', cohort });
    ns = { next: 1, cg: dockerCg(id) };
    ids = UID.root;
    overhead = 2;
  } else if (executor === 'shell') {
    shellParent = p.runner >= 0 ? p.runner : p.init;
    ids = RUNNER;
    overhead = 1;
  } else {
    const listener = p.freeListeners.splice(rng.int(0, p.freeListeners.length - 1), 1)[0];
    shellParent = b.add(listener, {
      argv: [
        '/home/runner/actions-runner/bin/Runner.Worker',
        'spawnclient',
        String(rng.int(100, 200)),
        String(rng.int(100, 200)),
      ],
      exe: '/home/runner/actions-runner/bin/Runner.Worker',
      comm: 'Runner.Worker',
      ids: ACTIONS,
      category: 'runtime',
      role: 'actions-worker',
      threads: rng.int(15, 30),
      cpu: 0.01,
      rssMb: 90,
      fds: [20, 60],
      start: 'recent',
      wake: 10,
      cohort,
    });
    ids = ACTIONS;
    overhead = 2;
  }
  if (shellParent < 0) return b.made - before;
  const shell = b.add(shellParent, {
    argv:
      executor === 'actions'
        ? ['/usr/bin/bash', '-e', `/home/runner/work/_temp/${rng.hex(8)}.sh`]
        : ['/bin/bash', '--login'],
    exe: '/usr/bin/bash',
    comm: 'bash',
    ids,
    category: 'shell',
    role: 'job-shell',
    cpu: 0.001,
    rssMb: 4,
    fds: [4, 8],
    start: executor === 'docker' ? 'child' : 'recent',
    leader: 2,
    ns,
    cohort,
  });
  if (shell < 0) return b.made - before;
  // A fetch is a handful of processes: only for small jobs, so replacements keep the host's size.
  const work = rng.weighted(budget > 8 ? WORKS.filter(([w]) => w !== 'git') : WORKS);
  const k = Math.max(
    1,
    Math.min(work === 'git' ? 2 : 48, Math.round((budget - overhead - 1) / (work === 'cpp' ? 2 : 1))),
  );
  const step = b.add(shell, stepSpec(b, work, k, ids, ns));
  if (step < 0) return b.made - before;
  for (let i = 0; i < k && b.userRoom > 0; i++) {
    if (work === 'cpp') {
      // make -> g++ driver -> cc1plus or as
      const drv = b.add(step, {
        argv: ['g++', '-O2', '-Iinclude', '-c', `src/${rng.pick(FILES)}.cpp`, '-o', `build/${rng.pick(FILES)}.o`],
        exe: '/usr/bin/x86_64-linux-gnu-g++-12',
        comm: 'g++',
        ids,
        ns,
        category: 'tool',
        role: 'g++',
        cpu: 0.002,
        rssMb: 4,
        fds: [4, 6],
        start: 'child',
        ephemeral: true,
      });
      if (drv >= 0) b.add(drv, leafSpec(b, work, ids, ns));
    } else b.add(step, leafSpec(b, work, ids, ns));
  }
  return b.made - before;
}

function build(b: Builder, ctx: Ctx, s: number): void {
  const rng = b.rng;
  const runner = service(b, ctx, 'gitlab-runner.service', {
    argv: [
      '/usr/bin/gitlab-runner',
      'run',
      '--working-directory',
      '/home/gitlab-runner',
      '--config',
      '/etc/gitlab-runner/config.toml',
      '--service',
      'gitlab-runner',
      '--user',
      'gitlab-runner',
    ],
    exe: '/usr/bin/gitlab-runner',
    ids: UID.root,
    category: 'runtime',
    role: 'gitlab-runner',
    threads: rng.int(20, 40),
    cpu: 0.01,
    rssMb: 60,
    fds: [20, 80],
    wake: 30,
  });
  const listeners: number[] = [];
  const nListeners = sized(rng, 12, s, 0.3, 1);
  for (let i = 0; i < nListeners; i++) {
    const l = service(b, ctx, `actions.runner.acme-app.ci-${i + 1}.service`, {
      argv: ['/home/runner/actions-runner/bin/Runner.Listener', 'run', '--startuptype', 'service'],
      exe: '/home/runner/actions-runner/bin/Runner.Listener',
      comm: 'Runner.Listener',
      ids: ACTIONS,
      category: 'runtime',
      role: 'actions-listener',
      threads: rng.int(12, 20),
      cpu: 0.001,
      rssMb: 70,
      fds: [10, 30],
      wake: 2,
    });
    if (l >= 0) listeners.push(l);
  }
  // Service containers the test jobs talk to.
  addContainer(b, ctx, false, 'postgres');
  addContainer(b, ctx, false, 'redis');
  addLogin(b, ctx, userAt(4), { manager: true });
  addNoise(b, ctx, 2);
  addCronJob(b, ctx);
  const p: CiParents = { init: ctx.init, runner, freeListeners: listeners };
  const reserve = Math.max(1, Math.round(b.capacity * 0.01));
  let stale = 0;
  while (b.userRoom - reserve >= 4 && stale < 20) {
    const added = addJob(b, p, Math.min(b.userRoom - reserve, sized(rng, 40, 1, 0.7, 4)));
    stale = added === 0 ? stale + 1 : 0;
  }
}

const WORK_OF: Record<string, Work> = {
  cc1plus: 'cpp',
  as: 'cpp',
  'jest-worker': 'node',
  'go-compile': 'go',
  rustc: 'rust',
  'pytest-worker': 'python',
  'git-remote-https': 'git',
};

/** Jobs finish and new ones start; inside running jobs, each compiler or test worker is followed by the next. */
const churn: ShapeChurn = {
  cohortShare: 0.4,
  newCohorts(b, a, sizes) {
    const init = a.live.find((p) => p.pid === 1);
    if (!init) return;
    const runner = a.live.find((p) => p.role === 'gitlab-runner');
    const p: CiParents = {
      init: a.ext(init),
      runner: runner ? a.ext(runner) : -1,
      freeListeners: a.live.filter((q) => q.role === 'actions-listener' && !a.children.has(q.pid)).map((q) => a.ext(q)),
    };
    for (const size of sizes) addJob(b, p, Math.max(4, size));
  },
  replaceLeaf(b, p, ns) {
    const work = WORK_OF[p.role];
    return work ? leafSpec(b, work, [p.uid, p.m.gid], ns) : undefined;
  },
};

export const CI: ShapePlan = { base: { containerd: true, dockerd: true, kubelet: false }, cpuShare: 0.8, build, churn };
