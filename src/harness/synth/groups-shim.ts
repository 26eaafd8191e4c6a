/**
 * What runs every container: containerd-shim-runc-v2, a child of pid 1 that
 * stays in containerd.service's cgroup (`-id` is the docker container's id,
 * or the Kubernetes pod sandbox's), and for a pod the pause process that
 * holds the sandbox's namespaces under the pod's slice. The `mixed` host,
 * the k8s shape and the ci shape's docker jobs all start containers here.
 */
import type { Builder, StartKind } from './builder.js';
import { UID } from './catalog.js';
import { podCg, svcCg } from './cgroup.js';
import type { FdKind, Qos } from './types.js';

export interface ShimOptions {
  /** containerd namespace: `k8s.io` for pods, `moby` for docker's containers */
  namespace: 'k8s.io' | 'moby';
  /** the container's id (docker) or the pod sandbox's (k8s) */
  id: string;
  start: StartKind;
  /** the cohort the shim (and so its container) exits with */
  cohort?: string;
  /** the `mixed` host's shims have server sockets ('server'); the shapes' keep the default */
  fdKind?: FdKind;
}

/** The pod a shim's sandbox belongs to: its QoS class and uid (its slice). */
export interface PodOf {
  qos: Qos;
  uid: string;
}

/**
 * Add a shim under `parent` and, for a pod, its pause process. Returns the
 * shim's index (-1 when the host is full). Draws one random number (the
 * shim's threads) before the builder's own draws, as every copy did.
 */
export function addShim(b: Builder, parent: number, o: ShimOptions, pod?: PodOf): number {
  const shim = b.add(parent, {
    argv: [
      '/usr/bin/containerd-shim-runc-v2',
      '-namespace',
      o.namespace,
      '-id',
      o.id,
      '-address',
      '/run/containerd/containerd.sock',
    ],
    exe: '/usr/bin/containerd-shim-runc-v2',
    ids: UID.root,
    category: 'container',
    role: 'containerd-shim',
    threads: b.rng.int(9, 13),
    cpu: 0.0005,
    rssMb: 11,
    fds: [8, 12],
    fdKind: o.fdKind,
    start: o.start,
    leader: 2,
    wake: 3,
    cg: svcCg('containerd.service'),
    cohort: o.cohort,
  });
  if (shim >= 0 && pod)
    b.add(shim, {
      argv: ['/pause'],
      exe: '/pause',
      ids: UID.pause,
      category: 'container',
      role: 'pause',
      cpu: 0.000001,
      rssMb: 0.5,
      rssSigma: 0.1,
      fds: [3, 3],
      start: 'child',
      leader: 2,
      ns: { next: 1, cg: podCg(pod.qos, pod.uid, o.id) },
      wake: 0.001,
    });
  return shim;
}
