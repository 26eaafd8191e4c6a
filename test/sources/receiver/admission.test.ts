/**
 * The receiver under memory admission, over real HTTP on loopback, with the
 * governor's memory readings injected: whole below the tiers, the critical
 * processes only (200 with an exact partial success) at critical_only, 503
 * with Retry-After at refuse_input; the reservation is held while the sink
 * processes the batch and given back once the request is answered.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CRITICAL_ONLY_TIER,
  criticalTest,
  InputAdmission,
  MAX_TIER,
  MemoryGovernor,
} from '../../../src/control/index.js';
import { CRITICAL_NAMES, HostmetricsSource, POINTS_PER_PROCESS } from '../../../src/harness/hostmetrics.js';
import { HostmetricsEncoder } from '../../../src/harness/hostmetrics-pb.js';
import { attrString, type ExportMetricsServiceRequest } from '../../../src/otlp/model.js';
import { type OtlpReceiver, startOtlpReceiver } from '../../../src/sources/receiver/server.js';
import { DEFAULTS, GOVERNOR, RECEIVER } from '../../helpers/defaults.js';
import { partialSuccess, post, RecordingSink, rawExchange } from './helpers.js';

const MIB = 1024 * 1024;
const NOW = 1_700_000_000_000;
const PB = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

let rx: OtlpReceiver | undefined;
afterEach(async () => {
  await rx?.close();
  rx = undefined;
});

/** A sink that records, and checks that the request's reservation is held while it works. */
class HoldingSink extends RecordingSink {
  heldDuringAccept: number[] = [];
  constructor(private readonly gov: MemoryGovernor) {
    super();
  }
  override async accept(req: ExportMetricsServiceRequest, meta: Parameters<RecordingSink['accept']>[1]) {
    this.heldDuringAccept.push(this.gov.reservedBytes);
    await new Promise((r) => setTimeout(r, 5));
    return super.accept(req, meta);
  }
}

async function setup(fraction: number) {
  let rss = fraction * 100 * MIB;
  const gov = new MemoryGovernor({ ...GOVERNOR, limitMib: 100, readMemoryBytes: () => rss });
  const settle = () => {
    for (let i = 0; i <= MAX_TIER; i++) gov.check();
  };
  settle();
  const sink = new HoldingSink(gov);
  rx = await startOtlpReceiver({
    ...RECEIVER,
    listen: '127.0.0.1:0',
    sink,
    admission: new InputAdmission({ governor: gov, retryAfterSec: 3 }),
    critical: criticalTest(DEFAULTS.classification),
  });
  return {
    gov,
    sink,
    url: rx.url,
    set(f: number) {
      rss = f * 100 * MIB;
      settle();
    },
  };
}

const source = new HostmetricsSource({ processes: 40, criticalShare: 0.25, nowMs: NOW, seed: 9 });
const protobuf = () => new HostmetricsEncoder(source).encode(NOW);
const json = () => JSON.stringify(source.request(NOW));

function names(req: ExportMetricsServiceRequest): string[] {
  return req.resourceMetrics.map((rm) => attrString(rm.resource.attributes, 'process.executable.name') ?? '');
}

describe('OTLP receiver with memory admission', () => {
  it('below the tiers: every process is accepted, with a full success, and the reservation is back to 0', async () => {
    const s = await setup(0.3);
    const a = await post(s.url, protobuf(), PB);
    expect(a.status).toBe(200);
    expect(partialSuccess(a)).toEqual({});
    expect(s.sink.accepted).toHaveLength(1);
    expect(s.sink.accepted[0]!.req.resourceMetrics).toHaveLength(40);
    expect(s.sink.accepted[0]!.meta.points).toBe(40 * POINTS_PER_PROCESS);
    expect(s.sink.heldDuringAccept[0]).toBeGreaterThan(0);
    expect(s.gov.reservedBytes).toBe(0);
    expect(rx!.stats().memory).toEqual({ shedRequests: 0, shedDataPoints: 0, refusedRequests: 0 });
  });

  for (const [name, body, headers] of [
    ['protobuf', () => protobuf(), PB],
    ['protobuf+gzip', () => gzipSync(protobuf()), { ...PB, 'content-encoding': 'gzip' }],
    ['JSON', () => json(), JSON_CT],
    ['JSON+gzip', () => gzipSync(json()), { ...JSON_CT, 'content-encoding': 'gzip' }],
  ] as const) {
    it(`critical_only, ${name}: 200 with rejected_data_points = exactly the non-critical points; only critical processes reach the sink`, async () => {
      const s = await setup(0.92);
      expect(s.gov.tier).toBe(CRITICAL_ONLY_TIER);
      const a = await post(s.url, body(), headers);
      expect(a.status).toBe(200);
      const ps = partialSuccess(a).partialSuccess;
      expect(Number(ps.rejectedDataPoints)).toBe(30 * POINTS_PER_PROCESS);
      expect(ps.errorMessage).toMatch(
        /memory limit: 450 data points of 30 non-critical resources refused, 10 critical/,
      );
      expect(s.sink.accepted).toHaveLength(1);
      const got = s.sink.accepted[0]!;
      expect(got.meta.points).toBe(10 * POINTS_PER_PROCESS);
      expect(got.req.resourceMetrics).toHaveLength(10);
      expect(names(got.req).every((n) => (CRITICAL_NAMES as readonly string[]).includes(n))).toBe(true);
      expect(s.sink.heldDuringAccept[0]).toBeGreaterThan(0);
      expect(s.gov.reservedBytes).toBe(0);
      expect(rx!.stats().memory).toEqual({ shedRequests: 1, shedDataPoints: 450, refusedRequests: 0 });
      expect(rx!.stats().rejectedDataPoints).toBe(450);
    });
  }

  it('critical_only with no critical process in the request: 200, all rejected, the sink is not called', async () => {
    const s = await setup(0.92);
    const none = new HostmetricsSource({ processes: 5, criticalShare: 0, nowMs: NOW });
    const a = await post(s.url, new HostmetricsEncoder(none).encode(NOW), PB);
    expect(a.status).toBe(200);
    expect(Number(partialSuccess(a).partialSuccess.rejectedDataPoints)).toBe(5 * POINTS_PER_PROCESS);
    expect(s.sink.accepted).toHaveLength(0);
  });

  it('refuse_input: 503 with Retry-After before the body is read; the sink is not asked; back to whole once memory falls', async () => {
    const s = await setup(0.97);
    expect(s.gov.tier).toBe(MAX_TIER);
    const r = await rawExchange(s.url, { ...PB, 'Content-Length': '10000' }, [new Uint8Array(10)]);
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/\r\nRetry-After: 3\r\n/i);
    expect(r.text).toMatch(/not accepting data: memory tier refuse_input/);
    expect(s.sink.admitCalls).toBe(0);
    expect(rx!.stats().memory.refusedRequests).toBe(1);
    s.set(0.3);
    const a = await post(s.url, protobuf(), PB);
    expect(a.status).toBe(200);
    expect(partialSuccess(a)).toEqual({});
    expect(s.gov.reservedBytes).toBe(0);
  });

  it('a malformed protobuf body under critical_only is still a 400 naming the problem, and nothing stays reserved', async () => {
    const s = await setup(0.92);
    const a = await post(s.url, Uint8Array.from([0x0a, 0x50, 0x01]), PB);
    expect(a.status).toBe(400);
    expect(s.gov.reservedBytes).toBe(0);
  });
});
