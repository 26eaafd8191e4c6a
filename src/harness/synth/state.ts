/**
 * The model state file (`.nrdot-synth.json`) and the truth derived from it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import {
  type CgroupCtx,
  cgroupLines,
  cgroupUnreadable,
  containerOf,
  KERNEL_CG,
  podOf,
  unitOf,
  v1Path,
  v2Path,
} from './cgroup.js';
import { STATE_FILE } from './tree.js';
import {
  type HostTruth,
  type ProcessTruth,
  SHAPES,
  type SynthProc,
  type SynthState,
  type SynthTruth,
} from './types.js';

export function writeState(dir: string, st: SynthState): void {
  const file = path.join(dir, STATE_FILE);
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(st));
  fs.renameSync(tmp, file);
}

export function readState(dir: string): SynthState {
  const file = path.join(dir, STATE_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new NrdotError(ErrorCodes.SYNTH, `synth: ${dir} is not a synthetic tree: cannot read ${file}`, { cause: e });
  }
  let st: SynthState;
  try {
    st = JSON.parse(text) as SynthState;
  } catch (e) {
    throw new NrdotError(ErrorCodes.SYNTH, `synth: ${file} is not valid JSON`, { cause: e });
  }
  if (st.format !== 'nrdot-synth' || st.version !== 1 || !Array.isArray(st.procs)) {
    throw new NrdotError(ErrorCodes.SYNTH, `synth: ${file} is not a version 1 nrdot-synth state file`);
  }
  if (!SHAPES.includes(st.shape) || (st.cgroup?.version !== 1 && st.cgroup?.version !== 2)) {
    throw new NrdotError(
      ErrorCodes.SYNTH,
      `synth: ${file} has no host shape or cgroup version (written by an older nrdot): generate the tree again`,
    );
  }
  return st;
}

export function cgroupCtx(st: SynthState): CgroupCtx {
  return { seed: st.seed, version: st.cgroup.version, unreadable: st.cgroup.unreadable };
}

export function hostTruth(st: SynthState): HostTruth {
  const h = st.host;
  return { hostname: h.hostname, btime: h.btime, uptime: h.uptime, cpus: h.cpus, memTotalBytes: h.memTotalBytes };
}

export function processTruth(p: SynthProc, c: CgroupCtx): ProcessTruth {
  const { m, ...core } = p;
  const cg = m.cg ?? KERNEL_CG;
  const containerId = containerOf(cg);
  const unit = unitOf(cg, c.version);
  return {
    ...core,
    cgroup: cgroupLines(cg, c.version),
    cgroupPath: c.version === 2 ? v2Path(cg) : v1Path(cg),
    cgroupReadable: !cgroupUnreadable(c.seed, c.unreadable, p),
    unit,
    containerId,
    podUid: podOf(cg),
    pool: m.pool ? `${m.pool}@${containerId ?? unit}` : null,
  };
}

export function truthOf(st: SynthState): SynthTruth {
  const c = cgroupCtx(st);
  return {
    seed: st.seed,
    shape: st.shape,
    cgroupVersion: st.cgroup.version,
    clkTck: st.clkTck,
    pageSize: st.pageSize,
    host: hostTruth(st),
    processes: st.procs.map((p) => processTruth(p, c)),
  };
}

/** The ground truth of a synthetic tree, from its state file. */
export async function readTruth(dir: string): Promise<SynthTruth> {
  return truthOf(readState(dir));
}

export function readTruthSync(dir: string): SynthTruth {
  return truthOf(readState(dir));
}
