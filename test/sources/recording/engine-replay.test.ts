/**
 * A recording replays to the same exported data as the live run it
 * recorded: the engine runs over a changing synthetic host while a recorder
 * records the same trees (each scan of the recorder and of the live engine
 * sees the same tree and the same wall clock); then a second engine runs over
 * the replay. Every process and group resource of every cycle is equal,
 * values and time stamps included; only nrdot's own self-telemetry (timings)
 * is left out of the comparison.
 *
 * The same holds for an agent's scan history (history.ts), which keeps only
 * what the agent read (scan.detail: exported): replayed with the config the
 * agent ran, every scan asks for the detail the agent's asked for.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { silentLogger } from '../../../src/core/log.js';
import { createSink } from '../../../src/exporters/sink.js';
import { advanceHost, generateHost } from '../../../src/harness/synth/index.js';
import { Engine } from '../../../src/pipeline/engine.js';
import { ProcfsReader } from '../../../src/sources/procfs/reader.js';
import { ownerResolver } from '../../../src/sources/procfs/users.js';
import { HEADER_FILE, SCANS_FILE } from '../../../src/sources/recording/format.js';
import { HistoryScanner, ScanHistory } from '../../../src/sources/recording/history.js';
import { Recorder, ReplayScanner } from '../../../src/sources/recording/index.js';
import type { ProcessScanner } from '../../../src/sources/scanner.js';
import { CommandLinePrivacy } from '../../../src/util/privacy.js';
import { plainExporterOptions } from '../../helpers/defaults.js';
import { isProcess, isSelf, readRequests } from '../../helpers/otlp-file.js';
import { mkTmp, rmTmp } from '../../helpers/synth.js';

let tmp: string;
beforeAll(() => {
  tmp = mkTmp('nrdot-engine-replay-');
});
afterAll(() => rmTmp(tmp));
afterEach(() => {
  vi.useRealTimers();
});

const { config } = loadConfig();
const CYCLES = 6;
const T0 = Date.UTC(2026, 2, 1, 12);

function engineOver(scanner: ProcessScanner, out: string, clock: { t: number }, profile: string): Engine {
  return new Engine({
    config,
    profile,
    scanner,
    sink: createSink([`file:${out}`], plainExporterOptions()),
    intervalMs: 10_000,
    logger: silentLogger,
    now: () => clock.t,
    workers: 0,
  });
}

/** A second engine over the replay of `dir`, from T0, CYCLES cycles, to the end of the recording. */
async function replayed(dir: string, out: string, clock: { t: number }, profile: string): Promise<ReplayScanner> {
  clock.t = T0;
  const replay = ReplayScanner.open(dir);
  const again = engineOver(replay, out, clock, profile);
  await again.start();
  for (let c = 0; c < CYCLES; c++) {
    await again.cycle();
    clock.t += 10_000;
  }
  await again.shutdown();
  expect(replay.ended).toBe(true);
  return replay;
}

/** Every request of the replay equals the live run's, but for nrdot's own telemetry; and processes were exported. */
function expectSameExports(liveOut: string, replayOut: string): void {
  const liveReqs = readRequests(liveOut);
  const replayReqs = readRequests(replayOut);
  expect(replayReqs).toHaveLength(liveReqs.length);
  expect(liveReqs.length).toBeGreaterThanOrEqual(CYCLES);
  let processes = 0;
  for (let i = 0; i < liveReqs.length; i++) {
    const a = liveReqs[i]!.resourceMetrics.filter((rm) => !isSelf(rm));
    const b = replayReqs[i]!.resourceMetrics.filter((rm) => !isSelf(rm));
    processes += a.filter(isProcess).length;
    expect(b, `request ${i}`).toEqual(a);
  }
  expect(processes).toBeGreaterThan(30);
}

describe('replay = the live run it recorded', () => {
  for (const profile of ['balanced', 'aggressive']) {
    it(`${profile}: every exported process and group, every cycle`, async () => {
      const root = path.join(tmp, `${profile}-host`);
      await generateHost({ out: root, processes: 600, seed: 23, shape: 'web' });
      // the scanners stamp batches with Date.now(): the same instant for the recorder and the live engine
      vi.useFakeTimers({ toFake: ['Date'] });
      const clock = { t: T0 };
      const recDir = path.join(tmp, `${profile}-rec`);
      const rec = new Recorder({ out: recDir, scanner: new ProcfsReader({ procRoot: root }), intervalMs: 10_000 });
      const liveOut = path.join(tmp, `${profile}-live.jsonl`);
      const live = engineOver(new ProcfsReader({ procRoot: root }), liveOut, clock, profile);
      await live.start();
      for (let c = 0; c < CYCLES; c++) {
        vi.setSystemTime(clock.t);
        await rec.scanOnce();
        await live.cycle();
        await advanceHost({ dir: root, seconds: 10, anomalies: c === 2 ? 3 : 0, churn: 0.03 });
        clock.t += 10_000;
      }
      rec.close();
      await live.shutdown();

      const replayOut = path.join(tmp, `${profile}-replay.jsonl`);
      await replayed(recDir, replayOut, clock, profile);

      expectSameExports(liveOut, replayOut);
      fs.rmSync(root, { recursive: true, force: true });
    }, 120_000);
  }
});

describe("an agent's scan history replays to the run that kept it", () => {
  it('balanced, scan.detail: exported: every exported process and group, every cycle', async () => {
    expect(config.scan.detail).toBe('exported');
    const root = path.join(tmp, 'history-host');
    await generateHost({ out: root, processes: 600, seed: 29, shape: 'mixed' });
    vi.useFakeTimers({ toFake: ['Date'] });
    const clock = { t: T0 };
    const history = new ScanHistory(
      { windowMs: 3_600_000, maxBytes: 64 << 20 },
      { procRoot: root, backend: 'ts' },
      ownerResolver(root), // as the agent names owners (src/agent/history.ts)
      () => ({ privacy: new CommandLinePrivacy('keep'), detail: 'exported', bounded: false }),
      () => 10_000,
    );
    const scanner = new HistoryScanner(
      new ProcfsReader({ procRoot: root }),
      history,
      () => ({}),
      (e) => {
        throw e;
      },
    );
    const liveOut = path.join(tmp, 'history-live.jsonl');
    const live = engineOver(scanner, liveOut, clock, 'balanced');
    await live.start();
    for (let c = 0; c < CYCLES; c++) {
      vi.setSystemTime(clock.t);
      await live.cycle();
      await advanceHost({ dir: root, seconds: 10, anomalies: c === 2 ? 3 : 0, churn: 0.03 });
      clock.t += 10_000;
    }
    await live.shutdown();
    const snap = history.snapshot()!;
    expect(snap.header.scans).toBe(CYCLES);
    const dir = path.join(tmp, 'history-rec');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, HEADER_FILE), JSON.stringify(snap.header));
    fs.writeFileSync(path.join(dir, SCANS_FILE), Buffer.concat(snap.chunks));

    const replayOut = path.join(tmp, 'history-replay.jsonl');
    const replay = await replayed(dir, replayOut, clock, 'balanced');
    // the config the agent ran asks for no detail the history lacks
    expect(replay.detailAsked).toBeGreaterThan(0);
    expect(replay.detailMissing).toBe(0);

    expectSameExports(liveOut, replayOut);
    fs.rmSync(root, { recursive: true, force: true });
  }, 120_000);
});
