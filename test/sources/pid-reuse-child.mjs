// Runs as pid 1 of a new pid namespace (unshare --pid --fork --mount-proc):
// scan, let a child exit, make the next child reuse its pid through
// ns_last_pid, scan again, print what the native scanner saw.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { loadAddon } from '../../dist/src/sources/native/loader.js';
import { NativeScanner } from '../../dist/src/sources/native/scanner.js';

const load = loadAddon();
if (!load.ok) throw new Error(load.reason);
const nat = new NativeScanner(load.addon, { procRoot: '/proc' });
const rowOf = (b, pid) => {
  for (let i = 0; i < b.count; i++) if (b.pid[i] === pid) return i;
  return -1;
};
const settle = () => new Promise((r) => setTimeout(r, 100));

const a = spawn('sleep', ['600'], { stdio: 'ignore' });
await settle();
const b1 = await nat.scan();
const i1 = rowOf(b1, a.pid);
const first = { start: b1.startTicks[i1], flags: b1.flags[i1] };
a.kill('SIGKILL');
await new Promise((r) => a.once('close', r));
fs.writeFileSync('/proc/sys/kernel/ns_last_pid', String(a.pid - 1));
const c = spawn('cat', [], { stdio: ['pipe', 'ignore', 'ignore'] });
await settle();
const b2 = await nat.scan();
const i2 = rowOf(b2, c.pid);
const k = Array.from(b2.freshRows).indexOf(i2);
const second = { start: b2.startTicks[i2], flags: b2.flags[i2], name: b2.freshName[k] };
c.kill('SIGKILL');
nat.close();
process.stdout.write(JSON.stringify({ pid: a.pid, reusedPid: c.pid, first, second, reopened: nat.lastScan.reopened }));
