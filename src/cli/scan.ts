import type { BackendChoice } from '../sources/index.js';
import { openSource } from '../sources/recording/open.js';
import { resolveFiles, type ScanFiles, type ScanOptions } from '../sources/scanner.js';

interface ScanOpts {
  procRoot?: string;
  recording?: string;
  repeat: number;
  backend: BackendChoice;
  full?: boolean;
  files?: ScanFiles;
  cgroup: boolean;
  json?: boolean;
}

const NO_DETAIL = new Int32Array(0);

/** What a detail row reads, for the summary line (a new process always reads status). */
function detailFiles(files: ScanFiles | undefined, fresh = false): string {
  const m = resolveFiles(files);
  const names = [(m.status || fresh) && 'status', m.io && 'io', m.fds && 'fd/'].filter(Boolean);
  return names.length > 0 ? `stat, ${names.join(', ')}` : 'stat only';
}

/**
 * Time scans. The first scan reads everything (every identity is new); the
 * following ones are the steady state: `stat` only for known processes,
 * unless --full reads status, io and the fd count for every process.
 * `--files` masks status, io and fd/ off for those detail rows (new
 * processes still read status once); `--no-cgroup` skips the cgroup file.
 */
export async function scanCommand(o: ScanOpts): Promise<void> {
  const { reader, note, replay } = openSource({
    procRoot: o.procRoot,
    defaultProcRoot: '/proc',
    recording: o.recording,
    backend: o.backend,
  });
  if (!o.json) process.stderr.write(`${note}\n`);
  const base: ScanOptions = { files: o.files, cgroup: o.cgroup };
  try {
    for (let r = 0; r < o.repeat; r++) {
      if (replay?.ended) {
        process.stderr.write(
          `the recording ends after ${replay.scans} scans: stopping at scan ${r} of --repeat ${o.repeat}\n`,
        );
        break;
      }
      const t0 = performance.now();
      const b = await reader.scan(o.full ? base : { ...base, detail: NO_DETAIL });
      const ms = performance.now() - t0;
      const out = {
        backend: reader.backend,
        processes: b.count,
        durationMs: Number(ms.toFixed(3)),
        usPerProcess: b.count > 0 ? Number(((ms * 1000) / b.count).toFixed(3)) : 0,
      };
      if (o.json) process.stdout.write(`${JSON.stringify(out)}\n`);
      else {
        const c = b.counters;
        const once = ['cmdline', 'exe', o.cgroup ? 'cgroup' : ''].filter(Boolean).join(', ');
        const kind =
          r === 0
            ? `first scan: ${detailFiles(o.files, true)}, ${once}`
            : o.full
              ? `full: ${detailFiles(o.files)}`
              : 'steady state, stat only';
        process.stdout.write(
          `scan ${r + 1}: ${out.processes} processes in ${out.durationMs.toFixed(1)} ms (${out.usPerProcess.toFixed(1)} µs/process, ${kind})` +
            `; vanished ${c.vanished}, denied files ${c.denied}, malformed ${c.malformed}, cgroup unreadable ${c.cgroupUnreadable}\n`,
        );
      }
    }
  } finally {
    reader.close();
  }
}
