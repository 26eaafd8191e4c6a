import * as path from 'node:path';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { advanceHost, generateHost } from '../harness/synth/index.js';
import { progressReporter } from '../harness/synth/progress.js';
import type { Shape } from '../harness/synth/types.js';

interface SynthOpts {
  out?: string;
  processes?: number;
  seed: number;
  cpus?: number;
  shape: Shape;
  cgroup: 'v1' | 'v2';
  cgroupUnreadable: number;
}

export async function synthCommand(o: SynthOpts): Promise<void> {
  if (!o.out) throw new NrdotError(ErrorCodes.USAGE, 'synth: --out <dir> is required');
  if (!o.processes) throw new NrdotError(ErrorCodes.USAGE, 'synth: --processes <n> is required');
  const out = path.resolve(o.out);
  const t0 = performance.now();
  const bar = progressReporter(o.processes, `synth ${out}`);
  let truth: Awaited<ReturnType<typeof generateHost>>;
  try {
    truth = await generateHost({
      out,
      processes: o.processes,
      seed: o.seed,
      cpus: o.cpus,
      shape: o.shape,
      cgroupVersion: o.cgroup === 'v1' ? 1 : 2,
      cgroupUnreadable: o.cgroupUnreadable,
      onProgress: (d) => bar.update(d),
    });
  } catch (e) {
    if (e instanceof NrdotError) throw e;
    throw new NrdotError(ErrorCodes.SYNTH, `synth --out ${out}: ${(e as Error).message}`);
  } finally {
    bar.stop();
  }
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  process.stdout.write(
    `wrote ${truth.processes.length} processes (${truth.shape} host, ${truth.host.cpus} CPUs, cgroup v${truth.cgroupVersion}, host ${truth.host.hostname}) to ${out} in ${s} s\n` +
      `use it with: nrdot run --proc-root ${out} --once   |   move it forward: nrdot synth advance --dir ${out} --seconds 10\n`,
  );
}

interface AdvanceOpts {
  dir: string;
  seconds: number;
  anomalies: number;
  churn?: number;
  json?: boolean;
}

export async function synthAdvanceCommand(o: AdvanceOpts): Promise<void> {
  const dir = path.resolve(o.dir);
  let r: Awaited<ReturnType<typeof advanceHost>>;
  try {
    r = await advanceHost({ dir, seconds: o.seconds, anomalies: o.anomalies, churn: o.churn });
  } catch (e) {
    if (e instanceof NrdotError) throw e;
    throw new NrdotError(ErrorCodes.SYNTH, `synth advance --dir ${dir}: ${(e as Error).message}`);
  }
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ uptime: r.host.uptime, processes: r.processes.length, exited: r.exited, spawned: r.spawned, anomalies: r.anomalies })}\n`,
    );
    return;
  }
  process.stdout.write(
    `advanced ${dir} by ${o.seconds} s: ${r.processes.length} processes, ${r.exited.length} exited, ${r.spawned.length} spawned` +
      (r.anomalies.length > 0 ? `, anomalies: ${r.anomalies.map((a) => `${a.pid}:${a.kind}`).join(' ')}` : '') +
      '\n',
  );
}
