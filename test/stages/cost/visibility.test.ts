/**
 * Visibility, checked against what a user downstream sees: from the exported
 * OTLP alone, memory shown by name (exported processes plus named group
 * aggregates) over all memory (the same plus `_other_`) must equal what
 * nrdot reports as `nrdot.coverage.visibility{resource=memory}`; CPU likewise
 * from `process.cpu.utilization`. A richer profile shows more.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/core/log.js';
import { createSink } from '../../../src/exporters/sink.js';
import { advanceHost, generateHost } from '../../../src/harness/synth/index.js';
import type { ResourceMetrics } from '../../../src/otlp/model.js';
import { type CycleReport, Engine } from '../../../src/pipeline/engine.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { fastTmpDir } from '../../../src/util/tmp.js';
import { plainExporterOptions } from '../../helpers/defaults.js';
import { attr, isProcess, isRollup, isSampled, isSelf, metric, readRequests } from '../../helpers/otlp-file.js';

const tmp = fastTmpDir('nrdot-visibility-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const config = structuredClone(loadConfig().config);
// the CPU share is checked from process.cpu.utilization, off by default
config.metrics['process.cpu.utilization'] = { enabled: true };

const sum = (rm: ResourceMetrics, name: string) => {
  const m = metric(rm, name);
  const pts = m?.gauge?.dataPoints ?? m?.sum?.dataPoints ?? [];
  // CPU time is user + system: block I/O delay (state=wait) is not CPU the process used
  const cpu = pts.filter((p) => !p.attributes?.some((a) => a.key === 'state' && a.value.stringValue === 'wait'));
  return cpu.reduce((a, p) => a + (p.asDouble ?? Number(p.asInt ?? 0)), 0);
};

describe('nrdot.coverage.visibility', () => {
  it('equals the named share of memory and CPU in the export, and shrinks with cheaper profiles', async () => {
    const host = path.join(tmp, 'host');
    await generateHost({ out: host, processes: 1500, seed: 11, shape: 'web' });
    let clock = Date.UTC(2025, 0, 1);
    const runs = ['conservative', 'aggressive', 'emergency'].map((profile) => {
      const out = path.join(tmp, `${profile}.jsonl`);
      const engine = new Engine({
        config,
        profile,
        scanner: new ProcfsReader({ procRoot: host }),
        sink: createSink([`file:${out}`], plainExporterOptions()),
        intervalMs: 10_000,
        logger: silentLogger,
        now: () => clock,
      });
      return { profile, engine, out, last: undefined as CycleReport | undefined };
    });
    for (const r of runs) await r.engine.start();
    for (let c = 0; c < 2; c++) {
      if (c > 0) {
        await advanceHost({ dir: host, seconds: 10 });
        clock += 10_000;
      }
      for (const r of runs) r.last = await r.engine.cycle();
    }
    for (const r of runs) await r.engine.shutdown();

    const seen: Record<string, { cpu: number; memory: number }> = {};
    for (const r of runs) {
      const req = readRequests(r.out).at(-1)!;
      const rms = req.resourceMetrics;
      const shown = rms.filter(
        (rm) => (isProcess(rm) && !isSampled(rm)) || (isRollup(rm) && attr(rm, 'nrdot.group') !== '_other_'),
      );
      const all = [...shown, ...rms.filter((rm) => isRollup(rm) && attr(rm, 'nrdot.group') === '_other_')];
      const share = (name: string) =>
        shown.reduce((a, rm) => a + sum(rm, name), 0) / all.reduce((a, rm) => a + sum(rm, name), 0);
      const self = rms.find(isSelf)!;
      const v = metric(self, 'nrdot.coverage.visibility')!.gauge!.dataPoints;
      const reported = (res: string) =>
        v.find((p) => p.attributes?.some((a) => a.key === 'resource' && a.value.stringValue === res))!.asDouble!;
      expect(reported('memory')).toBeCloseTo(share('process.memory.usage'), 6);
      expect(reported('cpu')).toBeCloseTo(share('process.cpu.utilization'), 1); // new processes have no utilization yet;
      expect(r.last!.visibility).toEqual({ cpu: reported('cpu'), memory: reported('memory') });
      seen[r.profile] = r.last!.visibility;
    }
    expect(seen.conservative!.memory).toBeGreaterThan(seen.aggressive!.memory);
    expect(seen.aggressive!.memory).toBeGreaterThanOrEqual(seen.emergency!.memory);
    expect(seen.emergency!.memory).toBeGreaterThan(0);
    expect(seen.emergency!.memory).toBeLessThan(1);
  });
});
