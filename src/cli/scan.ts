import { type BackendChoice, openScanner } from '../ingest/index.js';

interface ScanOpts {
  procRoot: string;
  repeat: number;
  backend: BackendChoice;
  json?: boolean;
}

export function scanCommand(o: ScanOpts): void {
  const { reader, note } = openScanner(o.procRoot, o.backend);
  if (!o.json) process.stderr.write(`${note}\n`);
  for (let r = 0; r < o.repeat; r++) {
    const t0 = performance.now();
    const b = reader.scan();
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
      process.stdout.write(
        `scan ${r + 1}: ${out.processes} processes in ${out.durationMs.toFixed(1)} ms (${out.usPerProcess.toFixed(1)} µs/process)` +
          `; vanished ${c.vanished}, denied files ${c.denied}, malformed ${c.malformed}\n`,
      );
    }
  }
}
