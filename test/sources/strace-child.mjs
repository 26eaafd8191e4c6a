// Child process for scan-files-strace.test.ts, run under `strace -f -y`:
// scans ROOT with BACKEND four times and marks the gaps between scans with
// a failed open of /nrdot-strace-mark-<i>, so the trace can be cut per scan
// (the copy that makes a new process between scans 2 and 3 has its own gap).
// Scan 1: first scan, every file; 2: files none; 3: files none with cgroup
// off after a new process appeared; 4: every file again.
import * as fs from 'node:fs';
import { loadAddon } from '../../dist/src/sources/native/loader.js';
import { NativeScanner } from '../../dist/src/sources/native/scanner.js';
import { ProcfsReader } from '../../dist/src/sources/procfs/reader.js';

const [root, backend] = process.argv.slice(2);
const mark = (i) => {
  try {
    fs.openSync(`/nrdot-strace-mark-${i}`, 'r');
  } catch {
    // the failed open is the mark
  }
};
let scanner;
if (backend === 'native') {
  const load = loadAddon();
  if (!load.ok) throw new Error(load.reason);
  scanner = new NativeScanner(load.addon, { procRoot: root });
} else {
  scanner = new ProcfsReader({ procRoot: root });
}
const NONE = { status: false, io: false, fds: false };
const counts = [];
mark(0);
counts.push((await scanner.scan()).count);
mark(1);
counts.push((await scanner.scan({ files: NONE })).count);
mark(2);
// a process that appears now is fresh in scan 3: it reads status, cmdline, exe, not cgroup
fs.cpSync(`${root}/${process.env.NRDOT_FRESH_FROM}`, `${root}/${process.env.NRDOT_FRESH_PID}`, { recursive: true });
mark(3);
const b3 = await scanner.scan({ files: NONE, cgroup: false });
counts.push(b3.count);
mark(4);
counts.push((await scanner.scan()).count);
mark(5);
scanner.close();
process.stdout.write(JSON.stringify({ counts, fresh3: b3.freshRows.length }));
