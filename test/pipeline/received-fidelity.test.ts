/**
 * Received data is passed on exactly: properties over random requests (fast-check).
 *
 * Random rounds of hostmetrics-shaped process data (random hosts, pids,
 * subsets of the scraper's metrics, values up to the int64 range and any
 * double including NaN and infinities, nanosecond time stamps, extra
 * attributes, metrics nrdot does not model, other resources) go through the
 * ReceivedDataProcessor, over the wire encoding both ways. Whatever profile
 * decides, what comes out must be what came in:
 *
 * - an exported process resource is one that was received in that round,
 *   with its own attributes unchanged and in order (nrdot's follow them) and
 *   its scopes, metrics, points and time stamps exactly as sent;
 * - no process is exported twice in a round and no process gains a point;
 * - other resources pass unchanged;
 * - roll-ups are valid and exact: start <= time, the time is the latest
 *   point time received for the host (to the nanosecond), no negative sums
 *   from non-negative input, and kept + rolled-up memory = what was received.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReceivedDataProcessor } from '../../src/agent/receiving.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/core/log.js';
import { LAYOUT, PROCESS_SCRAPER_SCOPE } from '../../src/harness/hostmetrics.js';
import {
  type AnyValue,
  type ExportMetricsServiceRequest,
  type KeyValue,
  type Metric,
  type NumberDataPoint,
  type ResourceMetrics,
  TEMPORALITY_CUMULATIVE,
} from '../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../src/otlp/proto.js';
import { isProcessMetric } from '../../src/sources/receiver/mapping.js';
import { CaptureSink } from '../helpers/capture-sink.js';

const { config: DEFAULTS } = loadConfig();
const BASE_NS = 1_790_000_000_000_000_000n;
const ROUND_NS = 10_000_000_000n;

interface ProcSpec {
  pid: number;
  name: string;
  cmd: string;
  extraAttrs: [string, string][];
  startOffsetNs: bigint;
  /** which LAYOUT metrics it carries */
  metrics: boolean[];
  histogram: boolean;
  seed: number;
}

interface Bounds {
  /** values of integer points */
  int: fc.Arbitrary<bigint>;
  dbl: fc.Arbitrary<number>;
}

const WIDE: Bounds = {
  int: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  dbl: fc.double(),
};
// sums of these stay exact in doubles, as a roll-up's must
const SANE: Bounds = {
  int: fc.bigInt({ min: 0n, max: 2n ** 40n }),
  dbl: fc.double({ min: 0, max: 1e6, noNaN: true }),
};

const procArb = fc.record<ProcSpec>({
  pid: fc.integer({ min: 1, max: 400 }),
  name: fc.constantFrom('postgres', 'nginx', 'bash', 'java', 'sshd', 'python3', 'kworker/0:1', 'x'),
  cmd: fc.string({ maxLength: 40 }),
  extraAttrs: fc.array(fc.tuple(fc.constantFrom('k8s.pod.name', 'container.id', 'custom.key'), fc.string()), {
    maxLength: 2,
  }),
  startOffsetNs: fc.bigInt({ min: 0n, max: 10n ** 15n }),
  metrics: fc.array(fc.boolean(), { minLength: LAYOUT.length, maxLength: LAYOUT.length }),
  histogram: fc.boolean(),
  seed: fc.nat(),
});

const hostArb = fc.record({
  name: fc.constantFrom('h1', 'h2', 'db-7', ''),
  procs: fc.uniqueArray(procArb, { selector: (p) => p.pid, maxLength: 40 }),
});

function roundArb(b: Bounds) {
  return fc.record({
    hosts: fc.uniqueArray(hostArb, { selector: (h) => h.name, minLength: 1, maxLength: 3 }),
    jitterNs: fc.array(fc.bigInt({ min: 0n, max: 999_999_999n }), { minLength: 40, maxLength: 40 }),
    ints: fc.array(b.int, { minLength: 64, maxLength: 64 }),
    dbls: fc.array(b.dbl, { minLength: 64, maxLength: 64 }),
    other: fc.boolean(),
  });
}
type Round = fc.RecordValue<ReturnType<typeof roundArb>> extends infer R ? R : never;

function s(key: string, v: string): KeyValue {
  return { key, value: { stringValue: v } };
}

/** The request of one round, as a Collector would send it. */
function requestOf(r: Round, k: number): { req: ExportMetricsServiceRequest; latest: Map<string, bigint> } {
  const resourceMetrics: ResourceMetrics[] = [];
  const latest = new Map<string, bigint>();
  let vi = 0;
  for (const h of r.hosts) {
    for (const [j, p] of h.procs.entries()) {
      const time = BASE_NS + BigInt(k) * ROUND_NS + r.jitterNs[j % r.jitterNs.length]!;
      const start = (BASE_NS - p.startOffsetNs).toString();
      const metrics: Metric[] = [];
      for (const [mi, spec] of LAYOUT.entries()) {
        if (!p.metrics[mi]) continue;
        const dataPoints: NumberDataPoint[] = spec.points.map((pt) => {
          const q: NumberDataPoint = { startTimeUnixNano: start, timeUnixNano: time.toString() };
          if (pt.attr) q.attributes = [s(pt.attr[0], pt.attr[1])];
          const at = (p.seed + vi++) % 64;
          if (pt.int) q.asInt = r.ints[at]!.toString();
          else q.asDouble = r.dbls[at]!;
          return q;
        });
        const m: Metric =
          spec.kind === 'gauge'
            ? { name: spec.name, unit: spec.unit, description: '', gauge: { dataPoints } }
            : {
                name: spec.name,
                unit: spec.unit,
                description: '',
                sum: {
                  dataPoints,
                  aggregationTemporality: TEMPORALITY_CUMULATIVE,
                  isMonotonic: spec.kind === 'monotonic',
                },
              };
        metrics.push(m);
      }
      if (p.histogram) {
        metrics.push({
          name: 'process.custom.latency',
          unit: 'ms',
          description: '',
          histogram: {
            aggregationTemporality: TEMPORALITY_CUMULATIVE,
            dataPoints: [
              { timeUnixNano: time.toString(), count: '3', bucketCounts: ['1', '2'], explicitBounds: [5], sum: 7.5 },
            ],
          },
        });
      }
      if (metrics.length === 0) continue;
      const attributes: KeyValue[] = [
        { key: 'process.pid', value: { intValue: String(p.pid) } },
        s('process.executable.name', p.name),
        s('process.command_line', p.cmd),
        ...p.extraAttrs.map(([a, b]) => s(a, b)),
      ];
      if (h.name) attributes.push(s('host.name', h.name));
      // process data (a process resource with a metric nrdot models; the rest passes through)
      const prev = latest.get(h.name);
      if (metrics.some(isProcessMetric) && (prev === undefined || time > prev)) latest.set(h.name, time);
      resourceMetrics.push({
        resource: { attributes },
        scopeMetrics: [{ scope: { name: PROCESS_SCRAPER_SCOPE, version: '0.120.0' }, metrics }],
      });
    }
  }
  if (r.other) {
    resourceMetrics.push({
      resource: { attributes: [s('service.name', 'sdk')] },
      scopeMetrics: [
        {
          scope: { name: 'sdk' },
          metrics: [{ name: 'x', gauge: { dataPoints: [{ timeUnixNano: '5', asDouble: Number.NaN }] } }],
        },
      ],
    });
  }
  return { req: { resourceMetrics }, latest };
}

const attr = (rm: ResourceMetrics, key: string): AnyValue | undefined =>
  rm.resource.attributes.find((a) => a.key === key)?.value;
const own = (a: KeyValue) => a.key.startsWith('nrdot.');
const idOf = (rm: ResourceMetrics) =>
  `${attr(rm, 'host.name')?.stringValue ?? ''}/${attr(rm, 'process.pid')?.intValue}`;
const points = (rm: ResourceMetrics) =>
  rm.scopeMetrics.flatMap((sm) =>
    sm.metrics.flatMap(
      (m) =>
        (m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary)?.dataPoints as (NumberDataPoint & {
          startTimeUnixNano?: string;
        })[],
    ),
  );
const memoryOf = (rm: ResourceMetrics): number | undefined => {
  for (const sm of rm.scopeMetrics)
    for (const m of sm.metrics)
      if (m.name === 'process.memory.usage') {
        const p = (m.sum ?? m.gauge)!.dataPoints[0]!;
        return p.asInt !== undefined ? Number(p.asInt) : p.asDouble;
      }
  return undefined;
};

function configFor(profile: string): Config {
  const c = structuredClone(DEFAULTS);
  c.profile = profile;
  // every kept process in every round's output, so totals can be checked per round
  c.paths.standard.heartbeat_cycles = 1;
  return c;
}

async function run(
  rounds: Round[],
  profile: string,
  check: (k: number, input: ExportMetricsServiceRequest, out: ResourceMetrics[], latest: Map<string, bigint>) => void,
) {
  const sink = new CaptureSink();
  let now = 1_790_000_000_000;
  const p = new ReceivedDataProcessor({
    config: configFor(profile),
    profile: () => profile,
    sink,
    logger: silentLogger,
    intervalMs: 10_000,
    now: () => now,
  });
  try {
    for (const [k, r] of rounds.entries()) {
      const { req, latest } = requestOf(r, k);
      // through the wire, as the receiver hands it over
      const input = decodeRequest(encodeRequest(req));
      sink.out = [];
      now += 10_000;
      await p.accept(structuredClone(input));
      check(k, input, sink.out, latest);
    }
  } finally {
    await p.close();
  }
}

const PROFILES = fc.constantFrom('conservative', 'balanced', 'aggressive', 'emergency');

describe('received data passes on exactly (properties over random requests)', () => {
  it('exported process resources are the received ones, unchanged, at most once; other data passes as sent', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(roundArb(WIDE), { minLength: 1, maxLength: 4 }), PROFILES, async (rounds, profile) => {
        await run(rounds, profile, (_k, input, out) => {
          const sent = new Map<string, ResourceMetrics>();
          for (const rm of input.resourceMetrics) if (attr(rm, 'process.pid')) sent.set(idOf(rm), rm);
          const seen = new Set<string>();
          let inPoints = 0;
          let outPoints = 0;
          for (const rm of input.resourceMetrics) if (attr(rm, 'process.pid')) inPoints += points(rm).length;
          for (const rm of out) {
            if (attr(rm, 'nrdot.rollup')) continue;
            if (!attr(rm, 'process.pid')) {
              expect(input.resourceMetrics).toContainEqual(rm);
              continue;
            }
            const id = idOf(rm);
            const orig = sent.get(id);
            expect(orig, `exported ${id} was not received in this round`).toBeDefined();
            expect(seen.has(id), `${id} exported twice`).toBe(false);
            seen.add(id);
            // its own attributes, unchanged and in order; nrdot's after them
            const n = orig!.resource.attributes.length;
            expect(rm.resource.attributes.slice(0, n)).toStrictEqual(orig!.resource.attributes);
            expect(rm.resource.attributes.slice(n).every(own)).toBe(true);
            expect(rm.scopeMetrics).toStrictEqual(orig!.scopeMetrics);
            outPoints += points(rm).length;
          }
          expect(outPoints).toBeLessThanOrEqual(inPoints);
        });
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('roll-ups: start <= time, time = the latest received point time, no negative sums, memory totals exact', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(roundArb(SANE), { minLength: 1, maxLength: 4 }), PROFILES, async (rounds, profile) => {
        await run(rounds, profile, (_k, input, out, latest) => {
          const hostOf = (rm: ResourceMetrics) => attr(rm, 'host.name')?.stringValue ?? '';
          for (const rm of out.filter((x) => attr(x, 'nrdot.rollup'))) {
            const want = latest.get(hostOf(rm));
            for (const pt of points(rm)) {
              expect(pt.timeUnixNano).toBe(want!.toString());
              if (pt.startTimeUnixNano !== undefined)
                expect(BigInt(pt.startTimeUnixNano) <= BigInt(pt.timeUnixNano)).toBe(true);
              const v = pt.asInt !== undefined ? Number(pt.asInt) : pt.asDouble!;
              expect(v).toBeGreaterThanOrEqual(0);
            }
          }
          // host totals: kept (not sampled: those are inside the roll-ups too) + rolled up = received
          for (const host of latest.keys()) {
            const sent = input.resourceMetrics
              .filter((rm) => attr(rm, 'process.pid') && hostOf(rm) === host)
              .reduce((a, rm) => a + (memoryOf(rm) ?? 0), 0);
            const got = out
              .filter((rm) => hostOf(rm) === host && attr(rm, 'nrdot.tier') && !attr(rm, 'nrdot.sample.rate'))
              .reduce((a, rm) => a + (memoryOf(rm) ?? 0), 0);
            const rolled = out
              .filter((rm) => hostOf(rm) === host && attr(rm, 'nrdot.rollup'))
              .reduce((a, rm) => a + (memoryOf(rm) ?? 0), 0);
            expect(got + rolled, `host ${host || '(none)'}`).toBe(sent);
          }
        });
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
