/**
 * A synthetic host in memory, as a scanner: the generator's model advanced
 * step by step (stepState) and handed to the engine as ProcessBatch columns
 * directly, with no procfs tree written or parsed. What a reader of the
 * tree would report (processTruth) is what each row holds; a row is new
 * (FLAG_NEW_IDENTITY, with its strings) the first time its (pid, start) is
 * seen. The simulator (`nrdot simulate`) runs the real engine over it.
 */
import {
  allocBatch,
  FLAG_DETAIL,
  FLAG_KERNEL_THREAD,
  FLAG_NEW_IDENTITY,
  type ProcessBatch,
} from '../../sources/batch.js';
import { stepState } from './advance.js';
import { buildState } from './generate.js';
import { cgroupCtx, processTruth } from './state.js';
import type { AnomalyKind, GenerateOptions, SynthState } from './types.js';

export class MemoryHost {
  readonly backend = 'synth-memory';
  readonly procRoot = undefined;
  readonly st: SynthState;
  private seen = new Set<string>();
  /** ms since the epoch of the model's clock (advances with step()) */
  nowMs: number;

  constructor(opts: Omit<GenerateOptions, 'out' | 'onProgress'>, startMs: number) {
    this.st = buildState(opts);
    this.nowMs = startMs;
  }

  get processes(): number {
    return this.st.procs.length;
  }

  /** Move the host `seconds` forward, CPU rates times `cpuScale`, with `anomalies` injected. */
  step(seconds: number, anomalies: number, cpuScale: number): { anomalies: { pid: number; kind: AnomalyKind }[] } {
    const { clkTck, pageSize } = this.st;
    const r = stepState(this.st, { seconds, anomalies, cpuScale }, clkTck, pageSize);
    this.nowMs += seconds * 1000;
    return { anomalies: r.anomalies };
  }

  scan(): ProcessBatch {
    const st = this.st;
    const h = st.host;
    const n = st.procs.length;
    const b = allocBatch(n, {
      hostname: h.hostname,
      bootTimeSec: h.btime,
      uptimeSec: h.uptime,
      cpuCount: h.cpus,
      memTotalBytes: h.memTotalBytes,
      clkTck: st.clkTck,
      pageSize: st.pageSize,
    });
    b.count = n;
    b.scannedAtMs = this.nowMs;
    const cg = cgroupCtx(st);
    const tck = st.clkTck;
    const fresh: number[] = [];
    const next = new Set<string>();
    for (let i = 0; i < n; i++) {
      const p = st.procs[i]!;
      b.pid[i] = p.pid;
      b.ppid[i] = p.ppid;
      b.startTicks[i] = p.starttimeTicks;
      b.utimeSec[i] = p.utimeTicks / tck;
      b.stimeSec[i] = p.stimeTicks / tck;
      b.iowaitSec[i] = p.blkioTicks / tck;
      b.rssBytes[i] = p.rssBytes;
      b.vsizeBytes[i] = p.vsizeBytes;
      b.threads[i] = p.threads;
      b.fds[i] = p.fds;
      b.state[i] = p.state.charCodeAt(0);
      b.readBytes[i] = p.readBytes;
      b.writeBytes[i] = p.writeBytes;
      b.minFaults[i] = p.minflt;
      b.majFaults[i] = p.majflt;
      b.volCtx[i] = p.volCtx;
      b.involCtx[i] = p.involCtx;
      b.uid[i] = p.uid;
      let flags = FLAG_DETAIL;
      if (p.kernel) flags |= FLAG_KERNEL_THREAD;
      const key = `${p.pid}:${p.starttimeTicks}`;
      next.add(key);
      if (!this.seen.has(key)) {
        flags |= FLAG_NEW_IDENTITY;
        fresh.push(i);
      }
      b.flags[i] = flags;
    }
    this.seen = next;
    b.freshRows = Int32Array.from(fresh);
    for (const i of fresh) {
      const t = processTruth(st.procs[i]!, cg);
      b.freshName.push(t.comm);
      b.freshCmdline.push(t.cmdline);
      b.freshExe.push(t.exe);
      b.freshCgroup.push(t.cgroupReadable ? t.cgroup.join('\n') : '');
    }
    return b;
  }
}
