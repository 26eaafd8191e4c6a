/**
 * SwitchableSink across swaps, with real exporters: exports that race a
 * swap all arrive, exactly once (file exporters into a tmp dir, a queued
 * OTLP exporter to a loopback HTTP server), and the counters stay
 * cumulative without the sink holding every exporter it ever ran.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deliveryReport } from '../../src/agent/delivery.js';
import { SwitchableSink } from '../../src/agent/switch-sink.js';
import { exporterOptions } from '../../src/config/components.js';
import { silentLogger } from '../../src/core/log.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/model.js';
import { decodeRequest } from '../../src/otlp/proto.js';
import type { ExportOutcome } from '../../src/pipeline/types.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { DEFAULTS, plainExporterOptions } from '../helpers/defaults.js';
import { type LoopbackServer, startLoopbackServer } from '../helpers/loopback-http.js';
import { readRequests } from '../helpers/otlp-file.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tmp(): string {
  const dir = fastTmpDir('nrdot-switch-swap-');
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function started(specs: string[], opts = plainExporterOptions()): Promise<SwitchableSink> {
  const sink = new SwitchableSink(specs, opts, silentLogger);
  cleanup.push(() => sink.shutdown());
  await sink.start();
  return sink;
}

const req = (n: number): ExportMetricsServiceRequest => ({
  resourceMetrics: [{ resource: { attributes: [{ key: 'n', value: { intValue: String(n) } }] }, scopeMetrics: [] }],
});

const nOf = (r: ExportMetricsServiceRequest) => Number(r.resourceMetrics[0]!.resource!.attributes[0]!.value.intValue);
/** The request numbers a file holds, in file order. */
const numbers = (f: string) => (fs.existsSync(f) ? readRequests(f).map(nOf) : []);
const sorted = (xs: Iterable<number>) => [...xs].sort((x, y) => x - y);
const tick = () => new Promise<void>((r) => setImmediate(r));

describe('SwitchableSink: exports racing a swap', () => {
  it('every request accepted while a swap replaces, retires and adds file exporters arrives exactly once', async () => {
    const dir = tmp();
    const [a, b, c] = ['a', 'b', 'c'].map((f) => path.join(dir, `${f}.jsonl`)) as [string, string, string];
    const opts = plainExporterOptions();
    const sink = await started([`file:${a}`, `file:${b}`], opts);
    // a: the same file with other options (shut down, then its successor starts); b: retired; c: new
    const plan = SwitchableSink.plan(
      [`file:${a}`, `file:${c}`],
      { ...opts, file: { ...opts.file, maxFiles: opts.file.maxFiles + 1 } },
      sink.running,
    );
    const outcomes = new Map<number, ExportOutcome[]>();
    let n = 0;
    const one = async () => {
      const k = n++;
      outcomes.set(k, await sink.export(req(k)));
    };
    const all: Promise<void>[] = [];
    for (let i = 0; i < 5; i++) all.push(one());
    let over = false;
    const swapped = sink.swap(plan).finally(() => {
      over = true;
    });
    let during = 0;
    for (; during < 5000 && !over; during++) {
      all.push(one());
      await tick();
    }
    await swapped;
    for (let i = 0; i < 5; i++) all.push(one());
    await Promise.all(all);
    await sink.shutdown();

    expect(during).toBeGreaterThan(2);
    const to = (file: string) =>
      sorted([...outcomes].filter(([, os]) => os.some((o) => o.exporter === `file:${file}`)).map(([k]) => k));
    for (const [k, os] of outcomes) {
      expect({ k, failed: os.filter((o) => !o.ok) }).toEqual({ k, failed: [] });
      expect([[`file:${a}`, `file:${b}`].join(), [`file:${a}`, `file:${c}`].join()]).toContain(
        os.map((o) => o.exporter).join(),
      );
    }
    const everyOne = Array.from({ length: n }, (_, k) => k);
    expect(sorted(numbers(a))).toEqual(everyOne);
    expect(sorted(numbers(b))).toEqual(to(b));
    expect(sorted(numbers(c))).toEqual(to(c));
    expect([...to(b), ...to(c)].length).toBe(n);
    expect(to(c).length).toBeGreaterThan(0);
  });

  it('a queued OTLP exporter retired while a request is on its way to its queue still delivers it', async () => {
    const dir = tmp();
    const server: LoopbackServer = await startLoopbackServer();
    cleanup.push(() => server.close());
    const a = path.join(dir, 'a.jsonl');
    const url = `${server.origin}/v1/metrics`;
    // memory queue: what it holds at shutdown is lost unless it drains
    const opts = exporterOptions(DEFAULTS, { logger: silentLogger, queueDir: '' });
    const sink = await started([`otlp:${url}`, `file:${a}`], opts);
    const sent = sink.export(req(7));
    // the OTLP exporter is dropped at once: reaped (its queue looks empty) while it compresses the request
    await sink.swap(SwitchableSink.plan([`file:${a}`], opts, sink.running));
    expect((await sent).map((o) => [o.exporter, o.ok])).toEqual([
      [`otlp:${url}`, true],
      [`file:${a}`, true],
    ]);
    await sink.shutdown();
    expect(server.requests.map((r) => decodeRequest(gunzipSync(r.body))).map(nOf)).toEqual([7]);
    const report = deliveryReport(sink);
    expect(report.shortfall).toBe(false);
    expect(report.exporters.find((e) => e.exporter === `otlp:${url}`)?.sent).toEqual({ records: 1, points: 0 });
  });
});

describe('SwitchableSink: counters across reloads', () => {
  it('holds only the exporters it runs, and no counter goes down across 12 reloads', async () => {
    const dir = tmp();
    const [a, b, c] = ['a', 'b', 'c'].map((f) => path.join(dir, `${f}.jsonl`)) as [string, string, string];
    const opts = plainExporterOptions();
    const sink = await started([`file:${a}`, `file:${b}`], opts);
    // b fails every write from now on (a directory where its file was)
    fs.rmSync(b);
    fs.mkdirSync(b);
    for (let i = 0; i < 3; i++) await sink.export(req(i));
    expect(sink.errorCounts()).toEqual({ [`file:${a}`]: 0, [`file:${b}`]: 3 });

    let last = { errors: sink.errorCounts(), stats: sink.exporterStats() };
    for (let k = 1; k <= 12; k++) {
      // a: a successor every time (other options); b: retired at the first reload; c: in every other config
      const specs = k % 2 === 0 ? [`file:${a}`, `file:${c}`] : [`file:${a}`];
      const file = { ...opts.file, maxFiles: opts.file.maxFiles + (k % 2) };
      await sink.swap(SwitchableSink.plan(specs, { ...opts, file }, sink.running));
      await sink.export(req(100 + k));
      await vi.waitFor(() => expect(sink.exporters.map((e) => e.name)).toEqual(specs));
      const now = { errors: sink.errorCounts(), stats: sink.exporterStats() };
      for (const [name, v] of Object.entries(last.errors)) expect(now.errors[name]).toBeGreaterThanOrEqual(v);
      for (const s of last.stats) {
        const t = now.stats.find((x) => x.exporter === s.exporter)!;
        expect(t.exports).toBeGreaterThanOrEqual(s.exports);
        expect(t.bytes).toBeGreaterThanOrEqual(s.bytes);
      }
      last = now;
    }
    expect(last.errors).toEqual({ [`file:${a}`]: 0, [`file:${b}`]: 3, [`file:${c}`]: 0 });
    const byName = Object.fromEntries(last.stats.map((s) => [s.exporter, s.exports]));
    expect(byName).toEqual({ [`file:${a}`]: 15, [`file:${b}`]: 3, [`file:${c}`]: 6 });
    expect(numbers(a)).toHaveLength(15);
    await sink.shutdown();
    const report = deliveryReport(sink);
    expect(report.exporters.map((e) => [e.exporter, e.failedWrites])).toEqual([
      [`file:${a}`, 0],
      [`file:${c}`, 0],
      [`file:${b}`, 3],
    ]);
    expect(report.shortfall).toBe(true);
  });
});
