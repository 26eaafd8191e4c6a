import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost, type SynthTruth } from '../../../src/harness/synth/index.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { mkTmp, rmTmp, rowsByPid } from '../../helpers/synth.js';

/** A reader whose pid list was taken before the tree changed. */
class StaleListReader extends ProcfsReader {
  constructor(
    root: string,
    private readonly stale: number[],
  ) {
    super({ procRoot: root });
  }
  override listPids(): number[] {
    return this.stale;
  }
}

let tmp: string;
let tree: string;
let truth: SynthTruth;

beforeAll(async () => {
  tmp = mkTmp();
  tree = path.join(tmp, 'tree');
  truth = await generateHost({ out: tree, processes: 120, seed: 21 });
});
afterAll(() => rmTmp(tmp));

describe('processes that vanish under the reader', () => {
  it('skips and counts a process whose directory disappeared after listing', () => {
    const listed = new ProcfsReader({ procRoot: tree }).listPids();
    expect(listed.length).toBe(120);
    const victims = truth.processes.filter((p) => !p.kernel && p.pid > 2).slice(0, 3);
    const copies = path.join(tmp, 'saved');
    fs.mkdirSync(copies);
    for (const v of victims) fs.renameSync(path.join(tree, String(v.pid)), path.join(copies, String(v.pid)));
    try {
      const b = new StaleListReader(tree, listed).scan();
      expect(b.count).toBe(117);
      expect(b.counters.vanished).toBe(3);
      const rows = rowsByPid(b);
      for (const v of victims) expect(rows.has(v.pid)).toBe(false);
    } finally {
      for (const v of victims) fs.renameSync(path.join(copies, String(v.pid)), path.join(tree, String(v.pid)));
    }
  });

  it('keeps a process whose status, io, fd/ or cmdline is absent while its stat is there, with those values unknown', () => {
    // e.g. a kernel without CONFIG_TASK_IO_ACCOUNTING has no /proc/<pid>/io at all
    const users = truth.processes.filter((p) => !p.kernel && p.pid > 2 && p.state !== 'Z');
    const cases: [number, string][] = [
      [users[0].pid, 'status'],
      [users[1].pid, 'io'],
      [users[2].pid, 'fd'],
      [users[3].pid, 'cmdline'],
    ];
    const saved = path.join(tmp, 'saved-files');
    fs.mkdirSync(saved);
    for (const [pid, f] of cases) fs.renameSync(path.join(tree, String(pid), f), path.join(saved, `${pid}-${f}`));
    try {
      const b = new ProcfsReader({ procRoot: tree }).scan();
      expect(b.count).toBe(120);
      expect(b.counters.vanished).toBe(0);
      const rows = rowsByPid(b);
      const row = (pid: number) => rows.get(pid)!.row;
      expect(b.uid[row(cases[0][0])]).toBe(-1);
      expect(b.volCtx[row(cases[0][0])]).toBe(-1);
      expect(b.readBytes[row(cases[1][0])]).toBe(-1);
      expect(b.writeBytes[row(cases[1][0])]).toBe(-1);
      expect(b.fds[row(cases[2][0])]).toBe(-1);
      expect(rows.get(cases[3][0])!.cmdline).toBe('');
    } finally {
      for (const [pid, f] of cases) fs.renameSync(path.join(saved, `${pid}-${f}`), path.join(tree, String(pid), f));
    }
    // Restored: everything is back.
    expect(new ProcfsReader({ procRoot: tree }).scan().count).toBe(120);
  });

  it('keeps a process with a dangling exe link and reports its exe', () => {
    const p = truth.processes.find((q) => q.role === 'java-app')!;
    expect(fs.existsSync(p.exe)).toBe(false); // dangling on this machine
    const b = new ProcfsReader({ procRoot: tree }).scan();
    const v = rowsByPid(b).get(p.pid)!;
    expect(v.exe).toBe(p.exe);
  });

  it('marks a process whose stat is garbage as malformed', () => {
    const p = truth.processes.find((q) => q.role === 'sleep' || q.category === 'tool')!;
    const file = path.join(tree, String(p.pid), 'stat');
    const good = fs.readFileSync(file, 'latin1');
    fs.writeFileSync(file, `${p.pid} (trunc`);
    try {
      const b = new ProcfsReader({ procRoot: tree }).scan();
      expect(b.counters.malformed).toBe(1);
      expect(b.count).toBe(119);
    } finally {
      fs.writeFileSync(file, good);
    }
  });
});
