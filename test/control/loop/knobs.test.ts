/**
 * The knob never trades critical coverage or anomaly promotion: at the
 * smallest scale the engine still exports every critical process and every
 * anomaly (injected on the synthetic host), while exporting less. And a bad
 * budget or loop setting exits 2 naming the key.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { KnobCache } from '../../../src/control/loop/knobs.js';
import { silentLogger } from '../../../src/core/log.js';
import { createSink } from '../../../src/exporters/sink.js';
import { advanceHost, generateHost } from '../../../src/harness/synth/index.js';
import { type CycleReport, Engine } from '../../../src/pipeline/engine.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { fastTmpDir } from '../../../src/util/tmp.js';
import { nrdot } from '../../helpers/cli.js';
import { plainExporterOptions } from '../../helpers/defaults.js';

const tmp = fastTmpDir('nrdot-knobs-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const { config } = loadConfig();

describe('the knob', () => {
  it('keeps every critical process and anomaly at the smallest scale, and exports less', async () => {
    const host = path.join(tmp, 'host');
    await generateHost({ out: host, processes: 1500, seed: 21 });
    let clock = Date.UTC(2025, 0, 1);
    const make = (scale: number) => {
      const engine = new Engine({
        config,
        profile: 'conservative',
        scanner: new ProcfsReader({ procRoot: host }),
        sink: createSink(['none'], plainExporterOptions()),
        intervalMs: 10_000,
        logger: silentLogger,
        now: () => clock,
      });
      const cache = new KnobCache();
      if (scale < 1) engine.setProfileOverride((name, p) => cache.get(name, p, scale));
      return { engine, reports: [] as CycleReport[] };
    };
    const runs = [make(1), make(0.01)];
    for (const r of runs) await r.engine.start();
    for (let c = 0; c < 7; c++) {
      if (c > 0) {
        await advanceHost({ dir: host, seconds: 10, anomalies: c === 5 ? 6 : 0 });
        clock += 10_000;
      }
      for (const r of runs) r.reports.push(await r.engine.cycle());
    }
    for (const r of runs) await r.engine.shutdown();
    const [full, low] = runs.map((r) => r.reports);
    let anomalies = 0;
    for (const rep of low!) {
      expect(rep.critical.exported).toBe(rep.critical.present);
      expect(rep.coverageCritical).toBe(1);
      expect(rep.coverageAnomaly).toBe(1);
      anomalies += rep.anomalies.present;
    }
    expect(anomalies).toBeGreaterThan(0);
    expect(low!.at(-1)!.anomalies.present).toBe(full!.at(-1)!.anomalies.present);
    expect(low!.at(-1)!.critical.present).toBeGreaterThan(0);
    expect(low!.at(-1)!.datapoints.exported).toBeLessThan(full!.at(-1)!.datapoints.exported);
    expect(low!.at(-1)!.exported).toBeLessThan(full!.at(-1)!.exported);
  });

  it('a profile redefined under the same name (a hot reload) is scaled anew', () => {
    const cache = new KnobCache();
    const before = config.profiles.balanced!;
    const after = { ...before, max_series: before.max_series * 2 };
    const a = cache.get('balanced', before, 0.5);
    expect(cache.get('balanced', before, 0.5)).toBe(a);
    expect(cache.get('balanced', after, 0.5).max_series).toBe(before.max_series);
  });
});

describe('bad input', () => {
  const validate = async (yaml: string) => {
    const f = path.join(tmp, `c-${Math.random().toString(36).slice(2)}.yaml`);
    fs.writeFileSync(f, yaml);
    return nrdot(['config', 'validate', f]);
  };
  it('a budget of zero or less exits 2 naming the key', async () => {
    for (const v of ['0', '-1']) {
      const r = await validate(`control:\n  budget: { usd_per_hour: ${v} }\n`);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('control.budget.usd_per_hour');
    }
  });
  it('an unknown loop profile exits 2 naming the key', async () => {
    const r = await validate('control:\n  loop:\n    profiles: [balanced, cheapest]\n');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'control.loop.profiles.1': unknown profile 'cheapest'");
  });
  it('a good budget validates', async () => {
    const r = await validate('control:\n  budget: { usd_per_hour: 0.05, points_per_minute: 20000 }\n');
    expect(r.code, r.stderr).toBe(0);
  });
});
