/**
 * Anomaly promotion end to end: through the engine in one long run (inline
 * and with workers, which must agree), and across two separate
 * `nrdot run --once --state-dir` processes of the built CLI.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { createSink } from '../../src/exporters/sink.js';
import { advanceHost, generateHost } from '../../src/harness/synth/index.js';
import { type CycleReport, Engine } from '../../src/pipeline/engine.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';
import { plainExporterOptions } from '../helpers/defaults.js';
import { attr, isProcess, isSelf, pointValue, readRequests } from '../helpers/otlp-file.js';

const tmp = fastTmpDir('nrdot-anomaly-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const { config } = loadConfig();

/** pid -> nrdot.anomaly of the process resources of one request */
function anomalous(req: ReturnType<typeof readRequests>[number]): Map<number, string> {
  const m = new Map<number, string>();
  for (const rm of req.resourceMetrics.filter(isProcess)) {
    const why = attr(rm, 'nrdot.anomaly');
    if (why !== undefined) m.set(attr(rm, 'process.pid') as number, why as string);
  }
  return m;
}

describe('one long run', () => {
  it('promotes injected anomalies, labels them, counts them, and inline = workers', async () => {
    const host = path.join(tmp, 'long');
    await generateHost({ out: host, processes: 1200, seed: 5 });
    let clock = Date.UTC(2025, 0, 1);
    const make = (workers: number) => {
      const out = path.join(tmp, `long-${workers}.jsonl`);
      const engine = new Engine({
        config,
        profile: 'aggressive',
        scanner: new ProcfsReader({ procRoot: host }),
        sink: createSink([`file:${out}`], plainExporterOptions()),
        intervalMs: 10_000,
        logger: silentLogger,
        now: () => clock,
        workers,
      });
      return { engine, out, reports: [] as CycleReport[] };
    };
    const runs = [make(0), make(2)];
    for (const r of runs) await r.engine.start();
    const injected: { pid: number; kind: string; cycle: number }[] = [];
    for (let c = 0; c < 8; c++) {
      if (c > 0) {
        const adv = await advanceHost({ dir: host, seconds: 10, anomalies: c === 3 || c === 5 ? 4 : 0 });
        for (const a of adv.anomalies) injected.push({ ...a, cycle: c });
        clock += 10_000;
      }
      for (const r of runs) r.reports.push(await r.engine.cycle());
    }
    for (const r of runs) await r.engine.shutdown();

    const [inline, workers] = runs.map((r) => readRequests(r.out).map(anomalous));
    expect(workers).toEqual(inline); // same promotions, same reasons, every cycle
    expect(runs[1]!.reports.map((r) => r.anomalies)).toEqual(runs[0]!.reports.map((r) => r.anomalies));

    expect(injected).toHaveLength(8);
    for (const a of injected) {
      const seen = inline![a.cycle]!.get(a.pid) ?? inline![a.cycle + 1]!.get(a.pid);
      expect(seen, `${a.kind} anomaly of pid ${a.pid} in cycle ${a.cycle}`).toBe(a.kind);
    }
    const reports = runs[0]!.reports;
    const promoted = reports.reduce(
      (s, r) => ({
        cpu: s.cpu + r.anomalies.promoted.cpu,
        memory: s.memory + r.anomalies.promoted.memory,
        new: s.new + r.anomalies.promoted.new,
      }),
      { cpu: 0, memory: 0, new: 0 },
    );
    for (const r of reports) expect(r.coverageAnomaly).toBe(1);
    expect(reports[3]!.anomalies.present).toBeGreaterThanOrEqual(4);

    // self-telemetry: cumulative promotions by reason, coverage
    const last = readRequests(runs[0]!.out).at(-1)!;
    const self = last.resourceMetrics.find(isSelf)!;
    expect(pointValue(self, 'nrdot.coverage.anomaly')).toBe(1);
    for (const reason of ['cpu', 'memory', 'new'] as const) {
      expect(pointValue(self, 'nrdot.anomalies.promoted', 'reason', reason)).toBe(promoted[reason]);
    }
    expect(promoted.cpu + promoted.memory + promoted.new).toBeGreaterThanOrEqual(8);
  });
});

describe('two --once runs with --state-dir', () => {
  it('continue the baselines, so anomalies injected in between are caught by the second run', async () => {
    const host = path.join(tmp, 'once');
    await generateHost({ out: host, processes: 800, seed: 9 });
    const state = path.join(tmp, 'once-state');
    const run = (out: string, extra: string[] = []) =>
      nrdot(['run', '--once', '--proc-root', host, '--profile', 'aggressive', '--export', `file:${out}`, ...extra]);

    const first = await run(path.join(tmp, 'once-1.jsonl'), ['--state-dir', state]);
    expect(first.code, first.stderr).toBe(0);
    // config-history: the config the run started with; nrdot.lock: the state directory's lock
    expect(fs.readdirSync(state).sort()).toEqual(['config-history', 'nrdot-state.bin', 'nrdot.lock']);
    const adv = await advanceHost({ dir: host, seconds: 10, anomalies: 6, churn: 0 });

    // without the state the second run has no baselines: CPU and memory anomalies go unseen
    const blindOut = path.join(tmp, 'once-blind.jsonl');
    const blind = await run(blindOut);
    expect(blind.code, blind.stderr).toBe(0);
    const blindSeen = anomalous(readRequests(blindOut)[0]!);
    expect(adv.anomalies.filter((a) => a.kind !== 'new' && blindSeen.has(a.pid))).toEqual([]);

    const out2 = path.join(tmp, 'once-2.jsonl');
    const second = await run(out2, ['--state-dir', state, '--workers', '2']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/"parts":\[[^\]]*"score"[^\]]*\].*state restored/);
    expect(second.stdout).toMatch(/ \| anomalies \d+$/m);
    const seen = anomalous(readRequests(out2)[0]!);
    for (const a of adv.anomalies) expect(seen.get(a.pid), `${a.kind} anomaly of pid ${a.pid}`).toBe(a.kind);
  });

  it('a checkpoint with a scoring value out of range: that part starts fresh, the rest continues', async () => {
    const host = path.join(tmp, 'once');
    const state = path.join(tmp, 'bad-state');
    const first = await nrdot(['run', '--once', '--proc-root', host, '--export', 'none', '--state-dir', state]);
    expect(first.code, first.stderr).toBe(0);
    // set the first EWMA CPU mean to -1 and fix the CRC: a file that is whole but holds nonsense
    const file = path.join(state, 'nrdot-state.bin');
    const buf = fs.readFileSync(file);
    const hlen = buf.readUInt32LE(12);
    const header = JSON.parse(buf.toString('utf8', 16, 16 + hlen)) as {
      count: number;
      sections: { name: string; columns: { name: string; kind: string; width: number }[] }[];
    };
    const size = { f64: 8, i32: 4, u8: 1 } as Record<string, number>;
    let o = 16 + hlen + header.count * 12;
    for (const sec of header.sections) {
      for (const c of sec.columns) {
        if (sec.name === 'score' && c.name === 'score.cpuMean') buf.writeDoubleLE(-1, o);
        o += header.count * c.width * size[c.kind]!;
      }
    }
    buf.writeUInt32LE(zlib.crc32(buf.subarray(0, buf.length - 4)) >>> 0, buf.length - 4);
    fs.writeFileSync(file, buf);
    const r = await nrdot(['run', '--once', '--proc-root', host, '--export', 'none', '--state-dir', state]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => l.includes('state file is unusable'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('nrdot-state.bin');
    expect(lines[0]).toMatch(/score\.score\.cpuMean\[0\]: -1 is out of range/);
    expect(r.stderr).toMatch(/"parts":\["rates","rollup","heartbeat"\].*state restored/);
    const files = fs.readdirSync(state);
    expect(files.some((f) => f.startsWith('nrdot-state.bin.corrupt-'))).toBe(true);
    expect(files).toContain('nrdot-state.bin'); // a fresh one, written at shutdown
  });
});
