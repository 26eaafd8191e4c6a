/**
 * The work inside a CI job: the step's long-lived process (make, jest, go,
 * cargo, pytest, git) and its short-lived leaves (compilers, test workers,
 * git helpers).
 */
import type { Builder, Namespace, Spec } from './builder.js';

export type Work = 'cpp' | 'node' | 'go' | 'rust' | 'python' | 'git';
export const WORKS: readonly (readonly [Work, number])[] = [
  ['cpp', 3],
  ['node', 3],
  ['go', 2],
  ['rust', 1.5],
  ['python', 2],
  ['git', 1],
];
export const FILES = [
  'parser',
  'lexer',
  'codegen',
  'runtime',
  'net',
  'io',
  'main',
  'util',
  'alloc',
  'sched',
  'json',
  'http',
];

/** A short-lived leaf: a compiler, a test worker, a git helper. */
export function leafSpec(b: Builder, work: Work, ids: readonly [number, number], ns: Namespace | undefined): Spec {
  const rng = b.rng;
  const f = rng.pick(FILES);
  const base = {
    ids,
    ns,
    start: 'child' as const,
    ephemeral: true,
    fds: [4, 12] as const,
    category: 'tool' as const,
    wake: 2,
  };
  switch (work) {
    case 'cpp':
      return rng.chance(0.8)
        ? {
            ...base,
            argv: [
              '/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus',
              '-quiet',
              '-I',
              'include',
              `src/${f}.cpp`,
              '-O2',
              '-o',
              `/tmp/cc${rng.hex(6)}.s`,
            ],
            exe: '/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus',
            role: 'cc1plus',
            cpu: 0.9,
            cpuSigma: 0.2,
            rssMb: 350,
            readKBps: 200,
          }
        : {
            ...base,
            argv: ['as', '--64', '-o', `build/${f}.o`, `/tmp/cc${rng.hex(6)}.s`],
            exe: '/usr/bin/x86_64-linux-gnu-as',
            comm: 'as',
            role: 'as',
            cpu: 0.6,
            rssMb: 20,
            writeKBps: 500,
          };
    case 'node':
      return {
        ...base,
        argv: ['/usr/local/bin/node', '/builds/app/node_modules/jest-worker/build/workers/processChild.js'],
        exe: '/usr/local/bin/node',
        role: 'jest-worker',
        threads: 11,
        cpu: 0.7,
        cpuSigma: 0.3,
        rssMb: 250,
        vmMb: 1000,
      };
    case 'go':
      return {
        ...base,
        argv: [
          '/usr/local/go/pkg/tool/linux_amd64/compile',
          '-o',
          `/tmp/go-build${rng.int(1e8, 9e8)}/b${rng.int(1, 400)}/_pkg_.a`,
          '-p',
          `app/internal/${f}`,
          '-complete',
        ],
        exe: '/usr/local/go/pkg/tool/linux_amd64/compile',
        role: 'go-compile',
        threads: rng.int(4, 12),
        cpu: 0.9,
        cpuSigma: 0.2,
        rssMb: 180,
      };
    case 'rust':
      return {
        ...base,
        argv: [
          '/usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/rustc',
          '--crate-name',
          f,
          '--edition=2021',
          `src/${f}.rs`,
          '-C',
          'opt-level=3',
        ],
        exe: '/usr/local/rustup/toolchains/stable-x86_64-unknown-linux-gnu/bin/rustc',
        role: 'rustc',
        threads: rng.int(4, 16),
        cpu: 1,
        cpuSigma: 0.2,
        rssMb: 600,
      };
    case 'python':
      return {
        ...base,
        argv: ['/usr/local/bin/python3', '-c', 'import sys;exec(eval(sys.stdin.readline()))'],
        exe: '/usr/local/bin/python3.12',
        comm: 'python3',
        role: 'pytest-worker',
        cpu: 0.6,
        cpuSigma: 0.3,
        rssMb: 160,
      };
    case 'git':
      return {
        ...base,
        argv: ['/usr/lib/git-core/git-remote-https', 'origin', 'https://gitlab.example.com/acme/app.git'],
        exe: '/usr/lib/git-core/git-remote-https',
        role: 'git-remote-https',
        cpu: 0.2,
        rssMb: 12,
        readKBps: 2000,
        writeKBps: 4000,
      };
  }
}

/** The long-lived step process of a job (make, npm, go, cargo, pytest, git). */
export function stepSpec(
  b: Builder,
  work: Work,
  k: number,
  ids: readonly [number, number],
  ns: Namespace | undefined,
): Spec {
  const base = {
    ids,
    ns,
    start: 'child' as const,
    fds: [5, 12] as const,
    category: 'tool' as const,
    cpu: 0.01,
    rssMb: 30,
    wake: 5,
  };
  switch (work) {
    case 'cpp':
      return { ...base, argv: ['make', `-j${k}`, 'all'], exe: '/usr/bin/make', role: 'make', rssMb: 8 };
    case 'node':
      return {
        ...base,
        argv: ['node', '/builds/app/node_modules/.bin/jest', `--maxWorkers=${k}`],
        exe: '/usr/local/bin/node',
        role: 'jest',
        threads: 11,
        rssMb: 200,
      };
    case 'go':
      return {
        ...base,
        argv: ['go', 'test', `-p=${k}`, './...'],
        exe: '/usr/local/go/bin/go',
        role: 'go',
        threads: 12,
        rssMb: 120,
      };
    case 'rust':
      return {
        ...base,
        argv: ['cargo', 'build', '--release', `-j${k}`],
        exe: '/usr/local/cargo/bin/cargo',
        role: 'cargo',
        threads: 8,
        rssMb: 90,
      };
    case 'python':
      return {
        ...base,
        argv: ['/usr/local/bin/python3', '-m', 'pytest', '-n', String(k), 'tests/'],
        exe: '/usr/local/bin/python3.12',
        comm: 'python3',
        role: 'pytest',
        rssMb: 90,
      };
    case 'git':
      return {
        ...base,
        argv: ['git', 'fetch', '--depth', '50', 'origin', `+refs/pipelines/${b.rng.int(1e5, 9e5)}:refs/pipelines/x`],
        exe: '/usr/bin/git',
        role: 'git',
        rssMb: 10,
      };
  }
}
