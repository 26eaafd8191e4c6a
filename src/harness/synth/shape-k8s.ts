/**
 * `k8s`: a Kubernetes node (counts for 6,000 processes, scaled): kubelet and
 * containerd, and ~150 pods, each one containerd-shim-runc-v2 (a child of
 * pid 1, in containerd.service's cgroup, `-id` = the pod sandbox id), a
 * pause process and 1-4 app containers, every container in its own pid
 * namespace and its own `cri-containerd-<id>.scope` under the pod's slice.
 * Some containers run pools (gunicorn, php-fpm, celery, nginx, node cluster,
 * postgres backends). A pod is a cohort: `synth advance` retires pods whole
 * and starts new ones (new pod uid, sandbox and container ids).
 */
import type { Builder } from './builder.js';
import { uuidOf } from './cgroup.js';
import type { ShapeChurn } from './churn.js';
import { QOS_WEIGHTS } from './groups-apps.js';
import { addLogin } from './groups-login.js';
import { addShim } from './groups-shim.js';
import { addCronJob, type Ctx } from './groups-system.js';
import { addApp, addSidecar, container, POOL_KINDS, SIDECARS, SINGLE_KINDS, top } from './shape-k8s-apps.js';
import { addNoise, type ShapePlan, userAt } from './shape-kit.js';

/** Average processes per pod at the reference size (150 pods in 6,000 processes). */
const PER_POD = 38;
/** Share of pods whose main container runs a pool, and the size of the others. */
const POOL_SHARE = 0.55;
const SINGLE_POD = 5;

/**
 * One pod with about `budget` processes: shim, pause, a main container (a
 * pool sized to the budget, or a single process) and 0-3 sidecars.
 */
export function addPod(b: Builder, init: number, budget: number, poolPod: boolean): number {
  const rng = b.rng;
  if (b.userRoom < 3) return 0;
  const before = b.made;
  const pod = uuidOf(rng.hex(32));
  const qos = rng.weighted(QOS_WEIGHTS);
  const sandbox = rng.hex(64);
  const shim = addShim(
    b,
    init,
    { namespace: 'k8s.io', id: sandbox, start: 'any', cohort: `pod:${pod}` },
    { qos, uid: pod },
  );
  const containers = rng.weighted([
    [1, 35],
    [2, 35],
    [3, 20],
    [4, 10],
  ] as const);
  const sidecars: (typeof SIDECARS)[number][] = [];
  for (let i = 1; i < containers; i++) sidecars.push(rng.pick(SIDECARS));
  const mainKind = rng.weighted(poolPod ? POOL_KINDS : SINGLE_KINDS);
  const mainC = container(qos, pod, rng.hex(64), rng.chance(0.4));
  const sideCost = sidecars.length * 2;
  const workers = poolPod ? Math.max(2, Math.round(budget - 3 - sideCost)) : 1;
  addApp(b, shim, mainC, mainKind, workers);
  for (const s of sidecars) {
    if (b.userRoom <= 0) break;
    addSidecar(b, shim, container(qos, pod, rng.hex(64), rng.chance(0.5)), s);
  }
  return b.made - before;
}

function build(b: Builder, ctx: Ctx, s: number): void {
  const rng = b.rng;
  // Node-level daemonset pods first: kube-proxy, CNI, log shipper.
  for (const [kind, main] of [
    ['kube-proxy', '/usr/local/bin/kube-proxy'],
    ['calico-node', '/usr/bin/calico-node'],
    ['fluent-bit', '/fluent-bit/bin/fluent-bit'],
  ] as const) {
    addSystemPod(b, ctx.init, kind, main);
  }
  addLogin(b, ctx, userAt(3), { manager: false });
  addNoise(b, ctx, 2);
  addCronJob(b, ctx);
  const reserve = Math.max(1, Math.round(b.capacity * 0.01));
  let pods = Math.max(1, Math.round((b.userRoom - reserve) / PER_POD));
  void s;
  while (b.userRoom - reserve >= 3 && pods > 0) {
    const room = b.userRoom - reserve;
    const last = pods === 1;
    const poolPod = last || rng.chance(POOL_SHARE);
    // Pool pods carry what the pods of one or two processes (plus sidecars) leave over.
    const forPools = Math.max(3, room - pods * (1 - POOL_SHARE) * SINGLE_POD);
    const budget = last ? room : (forPools / (pods * POOL_SHARE)) * rng.range(0.6, 1.4);
    if (addPod(b, ctx.init, budget, poolPod) === 0) break;
    pods--;
  }
}

/** A daemonset pod whose single container runs a node agent. */
function addSystemPod(b: Builder, init: number, kind: string, exe: string): void {
  const rng = b.rng;
  const pod = uuidOf(rng.hex(32));
  const sandbox = rng.hex(64);
  const shim = addShim(b, init, { namespace: 'k8s.io', id: sandbox, start: 'early' }, { qos: 'besteffort', uid: pod });
  if (shim < 0) return;
  const c = container('besteffort', pod, rng.hex(64), true);
  b.add(
    shim,
    top(c, {
      argv: [
        exe,
        ...(kind === 'kube-proxy'
          ? ['--config=/var/lib/kube-proxy/config.conf']
          : kind === 'calico-node'
            ? ['-felix']
            : ['-c', '/fluent-bit/etc/fluent-bit.conf']),
      ],
      exe,
      category: 'container',
      role: kind,
      threads: rng.int(8, 20),
      cpu: 0.004,
      rssMb: kind === 'calico-node' ? 120 : 45,
      fds: [10, 40],
      wake: 20,
    }),
  );
}

/** Pods come and go whole; pool workers inside them are recycled. */
const churn: ShapeChurn = {
  cohortShare: 0.85,
  newCohorts(b, a, sizes) {
    const init = a.live.find((p) => p.pid === 1);
    if (!init) return;
    const i = a.ext(init);
    for (const size of sizes) addPod(b, i, size, size > 8);
  },
};

export const K8S: ShapePlan = {
  base: { containerd: true, dockerd: false, kubelet: true },
  cpuShare: 0.45,
  build,
  churn,
};
