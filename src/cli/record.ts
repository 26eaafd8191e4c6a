import { ErrorCodes, NrdotError } from '../core/errors.js';
import { progressReporter } from '../harness/synth/progress.js';
import type { BackendChoice } from '../sources/index.js';
import { recordHost } from '../sources/recording/index.js';
import { bytes } from './format.js';

interface RecordOpts {
  out?: string;
  procRoot: string;
  duration?: number;
  interval: number;
  scans?: number;
  backend: BackendChoice;
  hostName?: string;
}

const DEFAULT_DURATION_MS = 10 * 60_000;

/**
 * `nrdot record`: scans of a host, everything read, written to --out for
 * `--recording DIR` to replay. Ctrl-C stops early and keeps what was taken.
 */
export async function recordCommand(o: RecordOpts): Promise<void> {
  if (!o.out) throw new NrdotError(ErrorCodes.USAGE, 'record: --out <dir> is required');
  if (o.duration !== undefined && o.scans !== undefined) {
    throw new NrdotError(ErrorCodes.USAGE, 'record: give --duration or --scans, not both');
  }
  // scans at 0, I, 2I, ... up to the duration: floor(D / I) + 1 of them
  const scans = o.scans ?? Math.floor((o.duration ?? DEFAULT_DURATION_MS) / o.interval) + 1;
  const ac = new AbortController();
  const onInt = () => ac.abort();
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onInt);
  const bar = progressReporter(scans, `record ${o.out}`);
  let s: Awaited<ReturnType<typeof recordHost>>;
  try {
    s = await recordHost({
      out: o.out,
      procRoot: o.procRoot,
      backend: o.backend,
      hostName: o.hostName,
      intervalMs: o.interval,
      scans,
      signal: ac.signal,
      onScan: (w) => bar.update(w.scans),
    });
  } finally {
    bar.stop();
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onInt);
  }
  const perScan = s.scans > 0 ? Math.round(s.rows / s.scans) : 0;
  const perRow = s.rows > 0 ? (s.bytes / s.rows).toFixed(1) : '0';
  process.stdout.write(
    `recorded ${s.scans} scans of ${perScan} processes on average (${s.rows} process rows, ${s.backend} scanner) to ${s.dir}: ` +
      `${bytes(s.bytes)}, ${perRow} bytes per process row, in ${(s.durationMs / 1000).toFixed(1)} s` +
      `${s.interrupted ? ' (interrupted: the scans taken are kept)' : ''}\n` +
      `replay it with: nrdot run --recording ${s.dir} --once   |   nrdot top --recording ${s.dir}\n`,
  );
}
