/**
 * SwitchableSink.swap when an exporter of the new plan cannot start: the
 * sink still delivers (to real files), and the error names the exporter.
 * A successor on the same file as a running exporter can only fail after
 * the running one was shut down (two writers never share a file), so its
 * start is made to fail here: no real file exporter fails for the successor
 * alone.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SwitchableSink } from '../../src/agent/switch-sink.js';
import { ErrorCodes, NrdotError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/log.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/model.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { plainExporterOptions } from '../helpers/defaults.js';
import { readRequests } from '../helpers/otlp-file.js';

/** A started sink over `specs` in a directory of its own; both gone when the test ends. */
async function started(specs: (dir: string) => string[]): Promise<{ dir: string; sink: SwitchableSink }> {
  const dir = fastTmpDir('nrdot-switch-sink-');
  const sink = new SwitchableSink(specs(dir), plainExporterOptions(), silentLogger);
  onTestFinished(async () => {
    await sink.shutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await sink.start();
  return { dir, sink };
}

const req = (n: number): ExportMetricsServiceRequest => ({
  resourceMetrics: [
    {
      resource: { attributes: [{ key: 'n', value: { intValue: String(n) } }] },
      scopeMetrics: [],
    },
  ],
});

const lines = (f: string) => (fs.existsSync(f) ? readRequests(f).length : 0);

describe('SwitchableSink.swap', () => {
  it('a successor that fails to start: the exporter it replaced runs again and the error names the successor', async () => {
    const { dir, sink } = await started((d) => [`file:${path.join(d, 'a.jsonl')}`]);
    const a = path.join(dir, 'a.jsonl');
    const opts = plainExporterOptions();
    expect((await sink.export(req(1))).map((o) => o.ok)).toEqual([true]);
    // the same file with other options: a successor, started after the running one stops
    const plan = SwitchableSink.plan([`file:${a}`], { ...opts, file: { ...opts.file, maxFiles: 3 } }, sink.running);
    expect(plan.fresh).toHaveLength(1);
    plan.fresh[0]!.exporter.start = () => Promise.reject(new NrdotError(ErrorCodes.OUTPUT_UNWRITABLE, 'disk on fire'));
    const err = await sink.swap(plan).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NrdotError);
    expect((err as NrdotError).code).toBe(ErrorCodes.OUTPUT_UNWRITABLE);
    expect((err as Error).message).toBe(
      `exporter file:${a} could not start: disk on fire; the exporters before the swap run on`,
    );
    // still a working sink on the old options
    expect((await sink.export(req(2))).map((o) => o.ok)).toEqual([true]);
    expect(lines(a)).toBe(2);
    expect(sink.exporterStats().map((s) => s.exporter)).toContain(`file:${a}`);
  });

  it('a new exporter that fails to start: nothing changes and the error names it', async () => {
    const { dir, sink } = await started((d) => [`file:${path.join(d, 'a.jsonl')}`]);
    const a = path.join(dir, 'a.jsonl');
    const blocked = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocked, '');
    const opts = plainExporterOptions();
    const bad = path.join(blocked, 'b.jsonl');
    const plan = SwitchableSink.plan([`file:${bad}`], opts, sink.running);
    const err = await sink.swap(plan).catch((e: unknown) => e);
    expect((err as NrdotError).code).toBe(ErrorCodes.OUTPUT_UNWRITABLE);
    expect((err as Error).message).toMatch(new RegExp(`^exporter file:${bad} could not start: `));
    expect((await sink.export(req(1))).map((o) => o.ok)).toEqual([true]);
    expect(lines(a)).toBe(1);
  });
});
