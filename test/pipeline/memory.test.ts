/**
 * The memory governor inside the engine: a real MemoryGovernor fed injected
 * readings drives the engine through every tier on a synthetic host. Each
 * tier sheds what it says, and every critical process and every anomaly is
 * exported at every tier.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { MemoryGovernor } from '../../src/control/index.js';
import { silentLogger } from '../../src/core/log.js';
import { createSink } from '../../src/exporters/sink.js';
import { generateHost } from '../../src/harness/synth/index.js';
import { Engine, type MemoryView } from '../../src/pipeline/engine.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { GOVERNOR, plainExporterOptions } from '../helpers/defaults.js';
import { attr, isProcess, isRollup, isSampled, readRequests } from '../helpers/otlp-file.js';

const tmp = fastTmpDir('nrdot-memory-');
const host = path.join(tmp, 'host');
beforeAll(async () => {
  await generateHost({ out: host, processes: 1500, seed: 17 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('memory tiers in the engine', () => {
  it('shed noise, then standard, then half of important, then all but critical; critical always flows', async () => {
    const { config } = loadConfig();
    const cfg = structuredClone(config);
    cfg.paths.standard.heartbeat_cycles = 1; // every kept process in every cycle's output
    const limitMib = 100;
    let reading = 0.5;
    const gov = new MemoryGovernor({
      ...GOVERNOR,
      limitMib,
      readMemoryBytes: () => reading * limitMib * 1024 * 1024,
      hysteresis: 0.05,
    });
    const view: MemoryView = gov;
    const out = path.join(tmp, 'tiers.jsonl');
    const engine = new Engine({
      config: cfg,
      profile: 'conservative',
      scanner: new ProcfsReader({ procRoot: host }),
      sink: createSink([`file:${out}`], plainExporterOptions()),
      intervalMs: 10_000,
      logger: silentLogger,
      memory: view,
    });
    await engine.start();
    const readings = [0.5, 0.65, 0.75, 0.85, 0.92, 1.05, 0.5];
    const reports = [];
    for (const r of readings) {
      reading = r;
      // the governor moves one tier per reading: read until it settles (0.5 after refuse_input takes five)
      for (let i = 0; i < 6; i++) gov.check();
      reports.push(await engine.cycle());
    }
    await engine.shutdown();
    expect(reports.map((r) => r.memory.tierName)).toEqual([
      'normal',
      'drop_noise',
      'drop_standard',
      'sample_important',
      'critical_only',
      'refuse_input',
      'normal',
    ]);
    const reqs = readRequests(out);
    const tiersOf = (i: number) => {
      const counts: Record<string, number> = {};
      for (const rm of reqs[i]!.resourceMetrics.filter((x) => isProcess(x) && !isRollup(x) && !isSampled(x))) {
        const t = attr(rm, 'nrdot.tier') as string;
        // anomalies are exported whatever their tier: count them apart
        const k = attr(rm, 'nrdot.anomaly') !== undefined ? 'anomaly' : t;
        counts[k] = (counts[k] ?? 0) + 1;
      }
      return counts;
    };
    const base = tiersOf(0);
    expect(base.noise ?? 0).toBeGreaterThan(0);
    expect(base.standard ?? 0).toBeGreaterThan(0);
    expect(base.important ?? 0).toBeGreaterThan(10);
    expect(tiersOf(1).noise ?? 0).toBe(0);
    expect(tiersOf(1).standard).toBe(base.standard);
    expect(tiersOf(2).standard ?? 0).toBe(0);
    expect(tiersOf(2).important).toBe(base.important);
    const half = (tiersOf(3).important ?? 0) / base.important!;
    expect(half).toBeGreaterThan(0.25);
    expect(half).toBeLessThan(0.75);
    for (const i of [4, 5])
      expect(Object.keys(tiersOf(i)).filter((k) => k !== 'critical' && k !== 'anomaly')).toEqual([]);
    expect(tiersOf(6)).toEqual(base);
    for (const [i, r] of reports.entries()) {
      expect(r.coverageCritical, `critical coverage at ${r.memory.tierName}`).toBe(1);
      expect(r.coverageAnomaly).toBe(1);
      expect(tiersOf(i).critical).toBe(base.critical);
      // the totals stay whole: what is cut is rolled up, not lost
      expect(r.exported + r.rolledUp).toBe(r.processes);
      if (i > 0 && i < 6) expect(r.droppedBy.memory).toBeGreaterThan(0);
    }
    // the sampled path is off under memory pressure
    expect(reports.slice(1, 6).every((r) => r.paths.sampled.points === 0)).toBe(true);
  });
});
