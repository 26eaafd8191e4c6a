/**
 * Progress on stderr: a cli-progress bar on a terminal, otherwise a plain
 * line about every 10% so CI logs still show that work is moving.
 */
import cliProgress from 'cli-progress';

export interface ProgressReporter {
  update(done: number): void;
  stop(): void;
}

export interface ProgressOptions {
  /** defaults to process.stderr */
  stream?: NodeJS.WriteStream;
}

export function progressReporter(total: number, label: string, opts: ProgressOptions = {}): ProgressReporter {
  const stream = opts.stream ?? process.stderr;
  const safeTotal = Math.max(1, total);
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {duration_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(safeTotal, 0);
    let stopped = false;
    return {
      update(done: number) {
        if (!stopped) bar.update(Math.min(done, safeTotal));
      },
      stop() {
        if (stopped) return;
        stopped = true;
        bar.stop();
      },
    };
  }
  const t0 = Date.now();
  let nextPct = 10;
  let last = -1;
  let seen = 0;
  let stopped = false;
  const line = (done: number) => {
    const pct = Math.floor((done / safeTotal) * 100);
    const s = ((Date.now() - t0) / 1000).toFixed(1);
    stream.write(`${label}: ${done}/${total} (${pct}%) ${s}s\n`);
    last = done;
  };
  return {
    update(done: number) {
      if (stopped) return;
      seen = done;
      const pct = (done / safeTotal) * 100;
      if (pct < nextPct) return;
      while (nextPct <= pct) nextPct += 10;
      line(Math.min(done, total));
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (seen !== last) line(seen);
    },
  };
}
