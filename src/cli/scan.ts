import { type BackendChoice, openScanner } from '../sources/index.js';

interface ScanOpts {
  procRoot: string;
  repeat: number;
  backend: BackendChoice;
  full?: boolean;
  json?: boolean;
}

const NO_DETAIL = new Int32Array(0);

/**
 * Time scans. The first scan reads everything (every identity is new); the
 * following ones are the steady state: `stat` only for known processes,
 * unless --full reads status, io and the fd count for every process.
 */
export async function scanCommand(o: ScanOpts): Promise<void> {
  const { reader, note } = openScanner(o.procRoot, o.backend);
  if (!o.json) process.stderr.write(`${note}\n`);
  try {
    for (let r = 0; r < o.repeat; r++) {
      const t0 = performance.now();
      const b = await reader.scan(o.full ? {} : { detail: NO_DETAIL });
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
        const kind = r === 0 ? 'first scan, every file' : o.full ? 'full' : 'steady state, stat only';
        process.stdout.write(
          `scan ${r + 1}: ${out.processes} processes in ${out.durationMs.toFixed(1)} ms (${out.usPerProcess.toFixed(1)} µs/process, ${kind})` +
            `; vanished ${c.vanished}, denied files ${c.denied}, malformed ${c.malformed}\n`,
        );
      }
    }
  } finally {
    reader.close();
  }
}
