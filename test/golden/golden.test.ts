/**
 * Golden outputs: what nrdot exports, and what each cycle reports, on seeded
 * synthetic hosts (every profile, three cycles with `synth advance` between
 * them, with and without anomalies) and for received OTLP, must not change
 * unless a commit says so. The expected digests are in `digests.json`.
 *
 *   NRDOT_GOLDEN_DUMP=DIR   write every scenario's canonical lines to DIR (to diff two commits)
 *   NRDOT_GOLDEN_UPDATE=1   rewrite digests.json from this run (a deliberate change: say so in the commit)
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { createSink } from '../../src/exporters/sink.js';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import { advanceHost, generateHost } from '../../src/harness/synth/index.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/model.js';
import { encodeRequest } from '../../src/otlp/proto.js';
import { type CycleReport, Engine } from '../../src/pipeline/engine.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { CLI } from '../helpers/cli.js';
import { plainExporterOptions } from '../helpers/defaults.js';
import { readRequests } from '../helpers/otlp-file.js';
import { stderrOf } from '../helpers/until.js';
import { otherTypesResource } from '../sources/receiver/fixtures.js';
import { canonLines, digest } from './canon.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIGESTS = path.join(HERE, 'digests.json');
const PROFILES = ['conservative', 'balanced', 'aggressive', 'emergency'] as const;
const tmp = fastTmpDir('nrdot-golden-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const expected: Record<string, string> = fs.existsSync(DIGESTS)
  ? (JSON.parse(fs.readFileSync(DIGESTS, 'utf8')) as Record<string, string>)
  : {};
const actual: Record<string, string> = {};
const update = process.env.NRDOT_GOLDEN_UPDATE === '1';
const dumpDir = process.env.NRDOT_GOLDEN_DUMP;

afterAll(() => {
  if (update) fs.writeFileSync(DIGESTS, `${JSON.stringify({ ...expected, ...actual }, null, 2)}\n`);
});

/** The report's fields that do not depend on timing or on the exporters' health. */
function reportLine(r: CycleReport): string {
  return JSON.stringify({
    cycle: r.cycle,
    profile: r.profile,
    processes: r.processes,
    exported: r.exported,
    rolledUp: r.rolledUp,
    rollupGroups: r.rollupGroups,
    critical: r.critical,
    datapoints: r.datapoints,
    bytes: r.bytes,
    reduction: r.reduction,
    coverageCritical: r.coverageCritical,
    anomalies: r.anomalies,
    coverageAnomaly: r.coverageAnomaly,
    cost: r.cost,
    droppedBy: r.droppedBy,
    paths: {
      critical: r.paths.critical.points,
      standard: r.paths.standard.points,
      sampled: r.paths.sampled.points,
      heartbeatSkipped: r.paths.heartbeatSkipped,
      sampleRate: r.paths.sampleRate,
    },
    scan: { vanished: r.scan.vanished, denied: r.scan.denied, malformed: r.scan.malformed },
  });
}

function check(name: string, lines: string[]): void {
  const d = `${digest(lines)} ${lines.length}`;
  actual[name] = d;
  if (dumpDir) {
    fs.mkdirSync(dumpDir, { recursive: true });
    fs.writeFileSync(path.join(dumpDir, `${name}.txt`), `${lines.join('\n')}\n`);
  }
  if (!update) expect(d, `golden output of ${name} changed (NRDOT_GOLDEN_DUMP=DIR to see it)`).toBe(expected[name]);
}

interface ScanScenario {
  name: string;
  processes: number;
  seed: number;
  anomalies: number;
}

const SCANNED: ScanScenario[] = [
  { name: 'host1k', processes: 1000, seed: 101, anomalies: 0 },
  { name: 'host3k-anomalies', processes: 3000, seed: 102, anomalies: 6 },
  { name: 'host20k-anomalies', processes: 20000, seed: 103, anomalies: 12 },
];

describe('golden outputs of scanned hosts', () => {
  it.each(SCANNED)('$name: every profile, three cycles with synth advance between', { timeout: 300_000 }, async (s) => {
    const { config } = loadConfig();
    const root = path.join(tmp, s.name);
    await generateHost({ out: root, processes: s.processes, seed: s.seed });
    const runs = PROFILES.map((profile) => {
      const out = path.join(tmp, `${s.name}-${profile}.jsonl`);
      const engine = new Engine({
        config,
        profile,
        scanner: new ProcfsReader({ procRoot: root }),
        sink: createSink([`file:${out}`], plainExporterOptions()),
        intervalMs: 10_000,
        logger: silentLogger,
      });
      return { profile, out, engine, reports: [] as CycleReport[] };
    });
    for (const r of runs) await r.engine.start();
    for (let c = 0; c < 3; c++) {
      if (c > 0) await advanceHost({ dir: root, seconds: 10, anomalies: s.anomalies });
      for (const r of runs) r.reports.push(await r.engine.cycle());
    }
    for (const r of runs) await r.engine.shutdown();
    for (const r of runs) {
      const reqs = readRequests(r.out);
      expect(reqs).toHaveLength(3);
      // owners of a synthetic tree's uids are looked up in this machine's /etc/passwd: not part of the host
      for (const [c, req] of reqs.entries()) {
        check(`${s.name}.${r.profile}.c${c + 1}.data`, canonLines(req, ['process.owner']));
      }
      check(`${s.name}.${r.profile}.reports`, r.reports.map(reportLine));
    }
  });
});

async function post(url: string, req: ExportMetricsServiceRequest): Promise<number> {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
    body: gzipSync(encodeRequest(req)),
  });
  await res.body.arrayBuffer();
  return res.statusCode;
}

describe('golden outputs of received OTLP', () => {
  it.each(['balanced', 'aggressive'])(
    '%s: two hosts, three collection rounds, other metrics passed through',
    async (profile) => {
      const out = path.join(tmp, `received-${profile}.jsonl`);
      const child = spawn(
        process.execPath,
        [
          CLI,
          'run',
          '--no-scan',
          '--profile',
          profile,
          '--otlp-listen',
          '127.0.0.1:0',
          '--listen',
          'off',
          '--export',
          `file:${out}`,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const waitFor = stderrOf(child);
      const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
      const t0 = 1_790_000_000_000;
      const hosts = [
        new HostmetricsSource({ processes: 400, hostName: 'web-1', seed: 21, nowMs: t0 }),
        new HostmetricsSource({ processes: 900, hostName: 'db-1', seed: 22, nowMs: t0 }),
      ];
      try {
        const [, url] = (await waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+\/v1\/metrics)"/))!;
        for (let round = 0; round < 3; round++) {
          const t = t0 + round * 10_000;
          for (const h of hosts) {
            const req = h.request(t);
            if (round === 1) req.resourceMetrics.push(otherTypesResource());
            expect(await post(url!, req)).toBe(200);
          }
        }
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(0);
      const lines = readRequests(out).map((req, k) => canonLines(req).map((l) => `${k} ${l}`));
      check(`received.${profile}`, lines.flat());
    },
  );
});
