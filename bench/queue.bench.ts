/**
 * Export queue benchmark: write (append) and read (take + ack) throughput of
 * the disk queue for 4 KiB, 64 KiB and 512 KiB records, with
 * fsyncIntervalMs 0 (fsync before each append resolves) and 1000, beside a
 * baseline measured in the same run on the same directory: a plain
 * `fs.writeSync` append loop of the same bytes with the same fsync policy
 * (fdatasync after every write, or at most once a second), and a plain
 * `fs.readSync` loop reading them back. Also the time a new queue takes to
 * recover (scan and CRC-check) what was written.
 *
 *   npm run bench:queue [-- --dir DIR --seconds 1.5 --max-mib 256 --rounds 2]
 *
 * `--dir` defaults to a temp dir under os.tmpdir(), which is on the work
 * disk here (not /dev/shm); the output names the filesystem type. Each
 * configuration writes for about `--seconds` or `--max-mib` MiB, whichever
 * comes first; the baseline then writes the same number of records. Queue
 * and baseline alternate for `--rounds` rounds and the best round of each is
 * shown (this machine is shared, so the best round is the least disturbed).
 * Reads come from the page cache in both cases (the data was just written).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { queueOptions } from '../src/config/components.js';
import { defaultConfig } from '../src/config/load.js';
import { createDiskQueue } from '../src/exporters/queue/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const seconds = Number(arg('seconds', '1.5'));
const rounds = Number(arg('rounds', '2'));
const maxMiB = Number(arg('max-mib', '256'));
const userDir = process.argv.includes('--dir') ? arg('dir', '') : undefined;
const base = userDir
  ? fs.mkdtempSync(path.join(userDir, 'nrdot-queue-bench-'))
  : fs.mkdtempSync(path.join(os.tmpdir(), 'nrdot-queue-bench-'));

const SIZES = [4 * 1024, 64 * 1024, 512 * 1024];
const FSYNC = [0, 1000];
const MiB = 1024 * 1024;

const FS_TYPES: Record<number, string> = {
  61267: 'ext2/3/4',
  1481003842: 'xfs',
  2435016766: 'btrfs',
  16914836: 'tmpfs',
  2035054128: 'overlayfs',
  801189825: 'zfs',
};

interface Rate {
  mbps: number;
  rps: number;
}
const rate = (records: number, size: number, ms: number): Rate => ({
  mbps: (records * size) / MiB / (ms / 1000),
  rps: records / (ms / 1000),
});
const best = (a: Rate, b: Rate): Rate => (a.mbps >= b.mbps ? a : b);
const f = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

function payload(size: number): Uint8Array {
  const b = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) b[i] = (i * 2654435761) >>> 24;
  return b;
}

async function queueRun(dir: string, size: number, fsyncIntervalMs: number, limit?: number) {
  const p = payload(size);
  const maxRecords = limit ?? Math.max(1, Math.floor((maxMiB * MiB) / size));
  const opts = { ...queueOptions(defaultConfig()), maxBytes: 4 * 1024 * MiB, fsyncIntervalMs };
  const q = createDiskQueue(dir, opts);
  await q.start();
  const lanes = ['critical', 'standard', 'sampled'] as const;
  let n = 0;
  const t0 = performance.now();
  while (n < maxRecords && (limit !== undefined || performance.now() - t0 < seconds * 1000)) {
    const out = await q.append(lanes[n % 3]!, p);
    if (!out.accepted) throw new Error(`append refused: ${out.reason}`);
    n++;
  }
  await q.shutdown(); // the final flush is part of writing
  const writeMs = performance.now() - t0;

  const t1 = performance.now();
  const q2 = createDiskQueue(dir, opts);
  await q2.start();
  const recoverMs = performance.now() - t1;
  const t2 = performance.now();
  let got = 0;
  for (let r = await q2.take(); r; r = await q2.take()) {
    await q2.ack(r);
    got++;
  }
  await q2.shutdown();
  const readMs = performance.now() - t2;
  if (got !== n) throw new Error(`read back ${got} of ${n} records`);
  return { n, write: rate(n, size, writeMs), read: rate(n, size, readMs), recoverMs };
}

function baselineRun(dir: string, size: number, fsyncIntervalMs: number, n: number) {
  const p = payload(size);
  const file = path.join(dir, 'baseline.dat');
  const t0 = performance.now();
  const fd = fs.openSync(file, 'w');
  let lastSync = performance.now();
  for (let i = 0; i < n; i++) {
    fs.writeSync(fd, p);
    if (fsyncIntervalMs === 0) fs.fdatasyncSync(fd);
    else if (performance.now() - lastSync >= fsyncIntervalMs) {
      fs.fdatasyncSync(fd);
      lastSync = performance.now();
    }
  }
  fs.fdatasyncSync(fd);
  fs.closeSync(fd);
  const writeMs = performance.now() - t0;
  const t1 = performance.now();
  const rfd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < n; i++) {
    if (fs.readSync(rfd, buf, 0, size, i * size) !== size) throw new Error('short read');
  }
  fs.closeSync(rfd);
  const readMs = performance.now() - t1;
  fs.rmSync(file);
  return { write: rate(n, size, writeMs), read: rate(n, size, readMs) };
}

async function main(): Promise<void> {
  const st = fs.statfsSync(base);
  const fsType = FS_TYPES[st.type] ?? `0x${st.type.toString(16)}`;
  console.log('# Export queue (disk) vs plain fs loop\n');
  console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Linux ${os.release()}`);
  console.log(`dir ${base} (${fsType}${userDir ? ', from --dir' : ', os.tmpdir() on the work disk'})\n`);
  console.log(
    '| record | fsyncIntervalMs | records | queue write MB/s | rec/s | baseline write MB/s | queue/baseline | queue read MB/s | rec/s | baseline read MB/s | queue/baseline | recovery ms |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  try {
    for (const size of SIZES) {
      for (const fsyncMs of FSYNC) {
        let n: number | undefined;
        let q: Awaited<ReturnType<typeof queueRun>> | undefined;
        let b: ReturnType<typeof baselineRun> | undefined;
        for (let r = 0; r < rounds; r++) {
          const dir = fs.mkdtempSync(path.join(base, 'q-'));
          const qr = await queueRun(dir, size, fsyncMs, n);
          fs.rmSync(dir, { recursive: true, force: true });
          n = qr.n;
          const br = baselineRun(base, size, fsyncMs, n);
          q = !q
            ? qr
            : {
                n,
                write: best(q.write, qr.write),
                read: best(q.read, qr.read),
                recoverMs: Math.min(q.recoverMs, qr.recoverMs),
              };
          b = !b ? br : { write: best(b.write, br.write), read: best(b.read, br.read) };
        }
        if (!q || !b) throw new Error('--rounds must be at least 1');
        console.log(
          `| ${size / 1024} KiB | ${fsyncMs} | ${q.n} | ${f(q.write.mbps)} | ${f(q.write.rps)} | ${f(b.write.mbps)} | ` +
            `${ratio(q.write.mbps, b.write.mbps)} | ${f(q.read.mbps)} | ${f(q.read.rps)} | ${f(b.read.mbps)} | ` +
            `${ratio(q.read.mbps, b.read.mbps)} | ${q.recoverMs.toFixed(0)} |`,
        );
      }
    }
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
  console.log(
    `\nNotes: best of ${rounds} alternating rounds. One appender awaiting each append (no concurrency), records spread over the three lanes. ` +
      'Queue write time includes the final flush at shutdown; baseline write time includes its final fdatasync. ' +
      'Read = take + ack of every record after a restart (recovery time, the CRC scan of every un-acked record, ' +
      'in its own column) vs readSync of the same bytes; both from the page cache. ' +
      'The queue writes 24 bytes of framing per record more than the baseline. ' +
      "The queue's file I/O runs on libuv's thread pool (one round trip per append or read window), so a slow " +
      "disk or fsync never blocks the event loop; the baseline's writeSync/readSync block it. Reads CRC-check " +
      'every record (at recovery and again at take).',
  );
}

await main();
