// Child process for the native-* tests: scans ROOT N times with each backend
// (with the ScanOptions given as JSON, if any) and prints the batches as JSON
// (rows keyed by pid). Runs the built code in
// dist/ (npm test builds it first), under setpriv or a tiny `ulimit -n`.
import { loadAddon } from '../../dist/src/sources/native/loader.js';
import { NativeScanner } from '../../dist/src/sources/native/scanner.js';
import { ProcfsReader } from '../../dist/src/sources/procfs/reader.js';

const FIELDS = [
  'ppid',
  'startTicks',
  'utimeSec',
  'stimeSec',
  'iowaitSec',
  'rssBytes',
  'vsizeBytes',
  'threads',
  'fds',
  'state',
  'readBytes',
  'writeBytes',
  'minFaults',
  'majFaults',
  'volCtx',
  'involCtx',
  'uid',
  'flags',
];

function batchJson(b) {
  const rows = [];
  for (let i = 0; i < b.count; i++) {
    const values = {};
    for (const f of FIELDS) values[f] = b[f][i];
    rows.push({ pid: b.pid[i], values });
  }
  for (let k = 0; k < b.freshRows.length; k++) {
    rows[b.freshRows[k]].fresh = {
      name: b.freshName[k],
      cmdline: b.freshCmdline[k],
      exe: b.freshExe[k],
      cgroup: b.freshCgroup[k],
    };
  }
  rows.sort((x, y) => x.pid - y.pid);
  return { count: b.count, host: b.host, counters: b.counters, rows };
}

const [root, n, json] = process.argv.slice(2);
const scans = Number(n ?? 1);
const opts = JSON.parse(json ?? '{}');
const out = { limits: null, native: [], nativeKept: [], ts: [] };
const ts = new ProcfsReader({ procRoot: root });
for (let i = 0; i < scans; i++) out.ts.push(batchJson(ts.scan(opts)));
const load = loadAddon();
if (load.ok) {
  const nat = new NativeScanner(load.addon, { procRoot: root });
  for (let i = 0; i < scans; i++) {
    out.native.push(batchJson(await nat.scan(opts)));
    out.nativeKept.push(nat.lastScan.keptFds);
  }
  out.limits = load.addon.limits();
  nat.close();
}
process.stdout.write(JSON.stringify(out));
