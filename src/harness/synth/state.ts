/**
 * The model state file (`.nrdot-synth.json`) and the truth derived from it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import { STATE_FILE } from './tree.js';
import type { HostTruth, ProcessTruth, SynthProc, SynthState, SynthTruth } from './types.js';

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
  return st;
}

export function hostTruth(st: SynthState): HostTruth {
  const h = st.host;
  return { hostname: h.hostname, btime: h.btime, uptime: h.uptime, cpus: h.cpus, memTotalBytes: h.memTotalBytes };
}

export function processTruth(p: SynthProc): ProcessTruth {
  const { m: _m, ...truth } = p;
  return truth;
}

export function truthOf(st: SynthState): SynthTruth {
  return {
    seed: st.seed,
    clkTck: st.clkTck,
    pageSize: st.pageSize,
    host: hostTruth(st),
    processes: st.procs.map(processTruth),
  };
}

/** The ground truth of a synthetic tree, from its state file. */
export async function readTruth(dir: string): Promise<SynthTruth> {
  return truthOf(readState(dir));
}

export function readTruthSync(dir: string): SynthTruth {
  return truthOf(readState(dir));
}
