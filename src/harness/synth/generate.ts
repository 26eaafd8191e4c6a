/**
 * generateHost: write a complete synthetic procfs tree.
 */
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import { sysconf } from '../../sources/procfs/sysconf.js';
import { formatCtx } from './format.js';
import { defaultCpus, hostFiles, makeHost } from './host.js';
import { mixSeed, Rng } from './prng.js';
import { buildShape } from './shapes.js';
import { cgroupCtx, truthOf, writeState } from './state.js';
import { prepareOut, writeHostFiles, writeProcDir } from './tree.js';
import { type GenerateOptions, SHAPES, type SynthState, type SynthTruth } from './types.js';

/** Processes written between progress reports / event-loop yields. */
export const CHUNK = 500;

export const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The model of a new host, in memory (generateHost writes it as a tree). */
export function buildState(opts: Omit<GenerateOptions, 'out' | 'onProgress'>): SynthState {
  const n = opts.processes;
  if (!Number.isInteger(n) || n < 1) {
    throw new NrdotError(ErrorCodes.SYNTH, `synth: processes must be a positive integer, got ${n}`);
  }
  const seed = (opts.seed ?? 1) >>> 0;
  const cpus = opts.cpus ?? defaultCpus(n);
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 4096) {
    throw new NrdotError(ErrorCodes.SYNTH, `synth: cpus must be an integer in 1..4096, got ${cpus}`);
  }
  const shape = opts.shape ?? 'mixed';
  if (!SHAPES.includes(shape)) {
    throw new NrdotError(ErrorCodes.SYNTH, `synth: unknown shape ${String(shape)} (one of ${SHAPES.join(', ')})`);
  }
  const version = opts.cgroupVersion ?? 2;
  if (version !== 1 && version !== 2) {
    throw new NrdotError(ErrorCodes.SYNTH, `synth: cgroup version must be 1 or 2, got ${String(version)}`);
  }
  const unreadable = opts.cgroupUnreadable ?? 0;
  if (!(unreadable >= 0 && unreadable <= 1)) {
    throw new NrdotError(ErrorCodes.SYNTH, `synth: the unreadable cgroup share must be in [0, 1], got ${unreadable}`);
  }
  const { clkTck, pageSize } = sysconf();
  const rng = new Rng(mixSeed(seed, 0));
  // What the original generator did not draw comes from a second stream (see Builder.aux).
  const aux = new Rng(mixSeed(seed, 0xa11c5));
  // Uptime between ~2 and ~40 days, in hundredths like the kernel prints it.
  const uptime = Math.round(rng.range(2 * 86400, 40 * 86400) * 100) / 100;
  const { procs, nextPid } = buildShape(shape, rng, aux, n, cpus, uptime, clkTck, pageSize);
  const host = makeHost(rng, seed, cpus, uptime, procs, clkTck, pageSize);
  host.forks = nextPid - 1 + rng.int(0, 50);
  const st: SynthState = {
    format: 'nrdot-synth',
    version: 1,
    seed,
    clkTck,
    pageSize,
    step: 0,
    nextPid,
    host,
    procs,
    shape,
    cgroup: { version, unreadable },
  };
  return st;
}

export async function generateHost(opts: GenerateOptions): Promise<SynthTruth> {
  const st = buildState(opts);
  const { procs, host } = st;
  const cpus = host.cpus;
  const { pageSize } = st;
  const cg = cgroupCtx(st);

  prepareOut(opts.out);
  const fc = formatCtx(cpus, pageSize, host.memTotalBytes);
  const total = procs.length;
  opts.onProgress?.(0, total);
  for (let i = 0; i < total; i++) {
    writeProcDir(opts.out, procs[i], fc, cg);
    if ((i + 1) % CHUNK === 0 && i + 1 < total) {
      opts.onProgress?.(i + 1, total);
      await yieldToLoop();
    }
  }
  writeHostFiles(opts.out, hostFiles(st), false);
  writeState(opts.out, st);
  opts.onProgress?.(total, total);
  return truthOf(st);
}
