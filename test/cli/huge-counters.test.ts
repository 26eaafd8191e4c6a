/**
 * A /proc file with a counter past what a data point can hold exactly
 * (read_bytes near 2^64, as a damaged or crafted tree may have): the run
 * exports everything else and leaves that process's disk I/O out, on both
 * scanners. Before, the protobuf writer threw on the value and every cycle
 * failed ("unexpected error").
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { loadAddon } from '../../src/sources/native/loader.js';
import { nrdot } from '../helpers/cli.js';
import { readRequests } from '../helpers/otlp-file.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';

let tmp: string;
let host: string;
let pid: string;

beforeAll(async () => {
  tmp = mkTmp('nrdot-huge-');
  host = path.join(tmp, 'host');
  await generateHost({ out: host, processes: 60, seed: 4 });
  // a process with an io file, made critical-free but exported (conservative exports every important+ process)
  pid = fs.readdirSync(host).filter((d) => /^\d+$/.test(d) && fs.existsSync(path.join(host, d, 'io')))[5]!;
  const io = path.join(host, pid, 'io');
  fs.writeFileSync(io, fs.readFileSync(io, 'utf8').replace(/^read_bytes: \d+$/m, 'read_bytes: 18446744073709551000'));
});
afterAll(() => rmTmp(tmp));

const backends = ['ts', ...(loadAddon().ok ? ['native'] : [])];

describe('a counter past 2^53 in /proc', () => {
  for (const backend of backends) {
    it(`${backend}: the run succeeds and that process has no disk I/O point, every other value is exported`, async () => {
      const out = path.join(tmp, `out-${backend}.jsonl`);
      const r = await nrdot([
        'run',
        ...['--once', '--proc-root', host, '--export', `file:${out}`, '--listen', 'off'],
        ...['--backend', backend, '--profile', 'conservative', '--config', '/dev/null'],
      ]);
      expect(r.code, r.stderr).toBe(0);
      const rms = readRequests(out).flatMap((q) => q.resourceMetrics);
      const mine = rms.find((rm) =>
        rm.resource.attributes.some((a) => a.key === 'process.pid' && String(a.value.intValue) === pid),
      );
      expect(mine, `process ${pid} exported`).toBeDefined();
      const names = mine!.scopeMetrics.flatMap((s) => s.metrics.map((m) => m.name));
      expect(names).toContain('process.memory.usage');
      expect(names).toContain('process.cpu.time');
      expect(names).not.toContain('process.disk.io');
      // other processes keep their disk I/O
      const withIo = rms.filter((rm) =>
        rm.scopeMetrics.some((s) => s.metrics.some((m) => m.name === 'process.disk.io')),
      );
      expect(withIo.length).toBeGreaterThan(0);
    });
  }
});
