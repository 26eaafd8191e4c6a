/**
 * The fast protobuf writer against the generic (protobufjs) encoder: the same
 * bytes for every request it takes (random ones from a seeded generator, and
 * the requests a real engine builds on a synthetic host), and a fallback to
 * the generic encoder for every shape it does not take.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { EncodedRequest } from '../../src/exporters/exporter.js';
import { advanceHost, generateHost } from '../../src/harness/synth/index.js';
import {
  encodeRequestFast,
  FastEncodeUnsupportedError,
  tryEncodeRequestFast,
} from '../../src/otlp/encode/pb-writer.js';
import type {
  AnyValue,
  ExportMetricsServiceRequest,
  KeyValue,
  Metric,
  NumberDataPoint,
  ResourceMetrics,
} from '../../src/otlp/model.js';
import { decodeRequest, encodeRequest, encodeRequestGeneric } from '../../src/otlp/proto.js';
import { Engine, type ExportSink } from '../../src/pipeline/engine.js';
import { ProcfsReader } from '../../src/sources/procfs/reader.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { richRequest, T } from '../exporters/fixture.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Fast bytes, asserting they exist and equal the generic encoder's. */
function expectSame(req: ExportMetricsServiceRequest, label = ''): Uint8Array {
  const fast = tryEncodeRequestFast(req);
  expect(fast, `fast path refused ${label}`).toBeDefined();
  const generic = encodeRequestGeneric(req);
  if (Buffer.compare(fast!, generic) !== 0) {
    // the hex diff names the first differing byte
    expect(hex(fast!), label).toBe(hex(generic));
  }
  return fast!;
}

// ---------------------------------------------------------------------------
// seeded random requests

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  list<T>(max: number, f: () => T): T[] {
    return Array.from({ length: this.int(max + 1) }, f);
  }

  static readonly PIECES = [
    'a',
    'Z',
    '9',
    ' ',
    '.',
    '/',
    '-',
    'é',
    'ß',
    '€',
    '日本',
    '😀',
    '\ud800',
    '\udc00',
    '\u07ff',
    '\u0800',
    '\uffff',
    '\u0000',
  ];

  string(): string {
    // lengths around 40 (protobufjs's own UTF-8 loop below, Buffer above) and 127/128 (length prefix size)
    const len = this.pick([0, 1, 5, 38, 39, 40, 41, 80, 126, 127, 128, 129, 300, this.int(60)]);
    const ascii = this.chance(0.6);
    let s = '';
    while (s.length < len) s += ascii ? String.fromCharCode(32 + this.int(95)) : this.pick(Gen.PIECES);
    return s.slice(0, len);
  }

  u64(): string | number | bigint {
    const pick = this.int(12);
    if (pick === 0) return '0';
    if (pick === 1) return '18446744073709551615';
    if (pick === 2) return '9223372036854775808';
    if (pick === 3) return '9223372036854775807';
    if (pick === 4) return String(BigInt.asUintN(64, BigInt(this.int(2 ** 31)) * BigInt(this.int(2 ** 31)) * 7n));
    if (pick === 5) return this.int(2 ** 32);
    if (pick === 6) return BigInt(this.int(2 ** 40)) << 20n;
    if (pick === 7) return `000${this.int(1000)}`;
    if (pick === 8) return '-0';
    if (pick === 9) return String(Number.MAX_SAFE_INTEGER + 2);
    if (pick === 10) return '4294967296';
    return String(BigInt(Date.now()) * 1_000_000n + BigInt(this.int(1e6)));
  }

  i64(): string | number | bigint {
    const pick = this.int(10);
    if (pick === 0) return '-9223372036854775808';
    if (pick === 1) return '9223372036854775807';
    if (pick === 2) return String(-this.int(2 ** 40));
    if (pick === 3) return -this.int(2 ** 52);
    if (pick === 4) return '-4294967296';
    if (pick === 5) return -(BigInt(this.int(2 ** 31)) << 31n);
    if (pick === 6) return '0';
    if (pick === 7) return '-1';
    if (pick === 8) return String(-BigInt(this.int(2 ** 31)) * 4294967296n - 1n);
    return String(this.int(2 ** 53));
  }

  double(): number {
    return this.pick([
      0,
      -0,
      1,
      -1.5,
      Number.NaN,
      Infinity,
      -Infinity,
      Number.MIN_VALUE,
      1e308,
      this.r(),
      this.r() * 1e12,
    ]);
  }

  anyValue(): AnyValue {
    switch (this.int(6)) {
      case 0:
        return { stringValue: this.string() };
      case 1:
        return { boolValue: this.chance(0.5) };
      case 2:
        return { intValue: this.i64() } as AnyValue;
      case 3:
        return { doubleValue: this.double() };
      case 4:
        return {};
      default:
        return { stringValue: '' };
    }
  }

  attrs(max = 4): KeyValue[] {
    return this.list(max, () => ({ key: this.chance(0.1) ? '' : this.string(), value: this.anyValue() }));
  }

  point(): NumberDataPoint {
    const p: Record<string, unknown> = {};
    if (this.chance(0.6)) p.attributes = this.chance(0.2) ? [] : this.attrs(3);
    else if (this.chance(0.3)) p.attributes = undefined;
    if (this.chance(0.7)) p.startTimeUnixNano = this.u64();
    p.timeUnixNano = this.u64();
    const v = this.int(4);
    if (v === 0 || v === 2) p.asDouble = this.double();
    if (v === 1 || v === 2) p.asInt = this.i64();
    if (this.chance(0.2)) p.flags = this.pick([0, 1, 127, 128, 0xffffffff]);
    if (this.chance(0.15)) p.exemplars = this.list(2, () => this.exemplar());
    return p as unknown as NumberDataPoint;
  }

  exemplar(): Record<string, unknown> {
    const e: Record<string, unknown> = { timeUnixNano: this.u64() };
    if (this.chance(0.5)) e.filteredAttributes = this.attrs(2);
    const value = this.int(4);
    if (value === 0) e.asDouble = this.double();
    else if (value === 1) e.asInt = this.i64();
    if (this.chance(0.5)) e.spanId = this.chance(0.1) ? '' : '00f067aa0ba902b7';
    if (this.chance(0.5)) e.traceId = '4BF92F3577B34DA6A3CE929D0E0E4736';
    return e;
  }

  metric(): Metric {
    const m: Record<string, unknown> = { name: this.string() };
    if (this.chance(0.5)) m.description = this.string();
    if (this.chance(0.7)) m.unit = this.pick(['', 's', 'By', '{count}', '1']);
    const big = this.chance(0.05) ? 400 : 5; // some metrics past 16 KiB
    const kind = this.int(5);
    if (kind === 0 || kind === 2) m.gauge = { dataPoints: this.list(big, () => this.point()) };
    if (kind === 1 || kind === 2) {
      const s: Record<string, unknown> = { dataPoints: this.list(big, () => this.point()) };
      if (this.chance(0.8)) s.aggregationTemporality = this.pick([0, 1, 2]);
      if (this.chance(0.8)) s.isMonotonic = this.chance(0.5);
      m.sum = s;
    }
    if (kind === 3) m.metadata = [];
    return m as unknown as Metric;
  }

  resource(): ResourceMetrics {
    const resource: Record<string, unknown> = { attributes: this.attrs(6) };
    if (this.chance(0.2)) resource.droppedAttributesCount = this.pick([0, 3, 200, 0xffffffff]);
    if (this.chance(0.1)) resource.entityRefs = [];
    const rm: Record<string, unknown> = {
      resource,
      scopeMetrics: this.list(3, () => {
        const scope: Record<string, unknown> = { name: this.chance(0.2) ? '' : this.string() };
        if (this.chance(0.5)) scope.version = this.string();
        if (this.chance(0.3)) scope.attributes = this.attrs(2);
        if (this.chance(0.2)) scope.droppedAttributesCount = this.int(300);
        const sm: Record<string, unknown> = { scope, metrics: this.list(5, () => this.metric()) };
        if (this.chance(0.2)) sm.schemaUrl = this.string();
        return sm;
      }),
    };
    if (this.chance(0.2)) rm.schemaUrl = this.chance(0.3) ? '' : 'https://opentelemetry.io/schemas/1.24.0';
    return rm as unknown as ResourceMetrics;
  }

  request(): ExportMetricsServiceRequest {
    return { resourceMetrics: this.list(3, () => this.resource()) };
  }
}

describe('encodeRequestFast', () => {
  it('writes the same bytes as the generic encoder for 3000 random supported requests', () => {
    let bytes = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const req = new Gen(seed).request();
      bytes += expectSame(req, `seed ${seed}`).length;
    }
    expect(bytes).toBeGreaterThan(1_000_000); // the generator is not degenerate
  });

  it('matches on the shared fixture (extreme 64-bit values, every scalar AnyValue kind), which round-trips', () => {
    const req = richRequest();
    const fast = expectSame(req);
    expect(decodeRequest(fast)).toStrictEqual(req);
    expect(
      decodeRequest(fast).resourceMetrics[0]!.scopeMetrics[0]!.metrics[1]!.gauge!.dataPoints[0]!.timeUnixNano,
    ).toBe('18446744073709551615');
  });

  it('encodes an empty request to zero bytes, and empty messages as empty fields', () => {
    expect(tryEncodeRequestFast({ resourceMetrics: [] })!.length).toBe(0);
    const req = {
      resourceMetrics: [
        {
          resource: { attributes: [{ key: '', value: {} }] },
          scopeMetrics: [{ scope: { name: '' }, metrics: [{ name: '', gauge: { dataPoints: [] } }] }],
        },
      ],
    };
    // proto3 as protobufjs writes plain objects: set fields are written even when empty
    expect(hex(expectSame(req))).toBe('0a14' + '0a06' + '0a040a001200' + '120a' + '0a020a00' + '12040a002a00');
  });

  it('throws FastEncodeUnsupportedError where only the generic encoder applies', () => {
    expect(() => encodeRequestFast(withMetric({ name: 'h', summary: { dataPoints: [] } }))).toThrow(
      FastEncodeUnsupportedError,
    );
    expect(encodeRequestFast(richRequest()).length).toBeGreaterThan(100);
  });
});

/** A request with one metric (and resource attributes) around the given parts. */
function withMetric(metric: Record<string, unknown>, attributes: unknown[] = []): ExportMetricsServiceRequest {
  return {
    resourceMetrics: [
      {
        resource: { attributes: attributes as KeyValue[] },
        scopeMetrics: [{ scope: { name: 'nrdot', version: '0.1.0' }, metrics: [metric as unknown as Metric] }],
      },
    ],
  };
}

const gaugeOf = (point: Record<string, unknown>) => ({
  name: 'm.x',
  gauge: { dataPoints: [{ timeUnixNano: T, ...point }] },
});

describe('encodeRequest falls back to the generic encoder', () => {
  const START = '1732299000987654321';
  const unsupported: Record<string, ExportMetricsServiceRequest> = {
    histogram: withMetric({
      name: 'h',
      unit: 's',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: [
          {
            startTimeUnixNano: START,
            timeUnixNano: T,
            count: '3',
            sum: 1.5,
            bucketCounts: ['1', '2'],
            explicitBounds: [1],
            min: 0.1,
            max: 1,
          },
        ],
      },
    }),
    exponentialHistogram: withMetric({
      name: 'e',
      exponentialHistogram: {
        aggregationTemporality: 1,
        dataPoints: [
          {
            timeUnixNano: T,
            count: '2',
            scale: 3,
            zeroCount: '0',
            positive: { offset: -2, bucketCounts: ['1', '1'] },
          },
        ],
      },
    }),
    summary: withMetric({
      name: 's',
      summary: { dataPoints: [{ timeUnixNano: T, count: '1', sum: 2, quantileValues: [{ quantile: 0.5, value: 2 }] }] },
    }),
    metadata: withMetric({ ...gaugeOf({ asDouble: 1 }), metadata: [{ key: 'k', value: { stringValue: 'v' } }] }),
    arrayValue: withMetric(gaugeOf({ asDouble: 1 }), [
      { key: 'a', value: { arrayValue: { values: [{ stringValue: 'x' }, { intValue: '-3' }] } } },
    ]),
    kvlistValue: withMetric(gaugeOf({ asDouble: 1 }), [
      { key: 'kv', value: { kvlistValue: { values: [{ key: 'n', value: { boolValue: true } }] } } },
    ]),
    bytesValue: withMetric(gaugeOf({ asDouble: 1 }), [{ key: 'b', value: { bytesValue: 'AAEC/w==' } }]),
    entityRefs: {
      resourceMetrics: [
        {
          resource: { attributes: [], entityRefs: [{ type: 'process', idKeys: ['process.pid'] }] },
          scopeMetrics: [],
        },
      ],
    },
  };

  for (const [name, req] of Object.entries(unsupported)) {
    it(`${name}: generic bytes, which decode back to the request`, () => {
      expect(tryEncodeRequestFast(req)).toBeUndefined();
      const bytes = encodeRequest(req);
      expect(hex(bytes)).toBe(hex(encodeRequestGeneric(req)));
      expect(decodeRequest(bytes)).toStrictEqual(req);
    });
  }

  // Values the model's types do not allow but the generic encoder writes anyway:
  // the fast path leaves them to it, so the bytes stay what they were.
  const lenient: Record<string, ExportMetricsServiceRequest> = {
    'negative flags': withMetric(gaugeOf({ asDouble: 1, flags: -1 })),
    'fractional flags': withMetric(gaugeOf({ asDouble: 1, flags: 1.5 })),
    'negative temporality': withMetric({
      name: 's',
      sum: { aggregationTemporality: -1, isMonotonic: 1, dataPoints: [{ timeUnixNano: T, asInt: '5' }] },
    }),
    'dropped count past uint32': {
      resourceMetrics: [{ resource: { attributes: [], droppedAttributesCount: 2 ** 32 + 5 }, scopeMetrics: [] }],
    },
    'asDouble as a string': withMetric(gaugeOf({ asDouble: '1.5' })),
    'attribute value not an object': withMetric(gaugeOf({ asDouble: 1 }), [{ key: 'k', value: 'text' }]),
  };
  for (const [name, req] of Object.entries(lenient)) {
    it(`${name}: the generic encoder's bytes`, () => {
      expect(tryEncodeRequestFast(req)).toBeUndefined();
      expect(hex(encodeRequest(req))).toBe(hex(encodeRequestGeneric(req)));
    });
  }

  const malformed: Record<string, ExportMetricsServiceRequest> = {
    'time not decimal': withMetric(gaugeOf({ timeUnixNano: '12.5' })),
    'time empty': withMetric(gaugeOf({ timeUnixNano: '' })),
    'time minus only': withMetric(gaugeOf({ timeUnixNano: '-' })),
    'time negative': withMetric(gaugeOf({ timeUnixNano: '-1' })),
    'time 2^64': withMetric(gaugeOf({ timeUnixNano: '18446744073709551616' })),
    'time 2^64 with leading zeros': withMetric(gaugeOf({ timeUnixNano: '0018446744073709551616' })),
    'time far past 2^64': withMetric(gaugeOf({ timeUnixNano: '99999999999999999999999' })),
    'time unsafe number': withMetric(gaugeOf({ timeUnixNano: 2 ** 53 })),
    'time missing': withMetric({ name: 'm', gauge: { dataPoints: [{ asDouble: 1 }] } }),
    'start null': withMetric(gaugeOf({ startTimeUnixNano: null })),
    'asInt 2^63': withMetric(gaugeOf({ asInt: '9223372036854775808' })),
    'asInt below -2^63': withMetric(gaugeOf({ asInt: '-9223372036854775809' })),
    'asInt bigint 2^63': withMetric(gaugeOf({ asInt: 2n ** 63n })),
    'int attribute not decimal': withMetric(gaugeOf({ asDouble: 1 }), [
      { key: 'process.pid', value: { intValue: 'abc' } },
    ]),
    'attribute without value': withMetric(gaugeOf({ asDouble: 1 }), [{ key: 'k' }]),
    'attributes null': withMetric(gaugeOf({ asDouble: 1, attributes: null })),
    'span id not hex': withMetric(gaugeOf({ asDouble: 1, exemplars: [{ timeUnixNano: T, spanId: 'xyz' }] })),
    'data points missing': withMetric({ name: 'm', sum: { aggregationTemporality: 2, isMonotonic: true } }),
  };
  for (const [name, req] of Object.entries(malformed)) {
    it(`${name}: the generic encoder's error`, () => {
      expect(tryEncodeRequestFast(req)).toBeUndefined();
      let expected: unknown;
      try {
        encodeRequestGeneric(req);
      } catch (e) {
        expected = e;
      }
      expect(expected).toBeInstanceOf(Error);
      expect(() => encodeRequest(req)).toThrow(expected as Error);
    });
  }
});

// ---------------------------------------------------------------------------
// what the engine builds

describe('requests built by the engine', () => {
  const tmp = fastTmpDir('nrdot-pbw-');
  const host = path.join(tmp, 'host');
  beforeAll(async () => {
    await generateHost({ out: host, processes: 600, seed: 23 });
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A sink that checks each request's bytes against the generic encoder, whole and per resource. */
  class CheckingSink implements ExportSink {
    requests = 0;
    resources = 0;
    async start() {}
    async shutdown() {}
    async export(payload: ExportMetricsServiceRequest | EncodedRequest, encoded?: Uint8Array) {
      const enc = payload instanceof EncodedRequest ? payload : new EncodedRequest(payload, encoded);
      const req = enc.request;
      this.requests++;
      expect(hex(enc.protobuf())).toBe(hex(encodeRequestGeneric(req)));
      expectSame(req, 'engine request');
      for (const rm of req.resourceMetrics) {
        expectSame({ resourceMetrics: [rm] }, 'engine resource');
        this.resources++;
      }
      return [];
    }
  }

  for (const profile of ['conservative', 'balanced', 'emergency']) {
    it(`${profile}: the engine's encoded bytes equal the generic encoder's over cycles with anomalies`, async () => {
      const sink = new CheckingSink();
      const { config } = loadConfig();
      const engine = new Engine({
        config,
        profile,
        scanner: new ProcfsReader({ procRoot: host }),
        sink,
        intervalMs: 10_000,
        logger: silentLogger,
      });
      await engine.start();
      try {
        await engine.cycle();
        await advanceHost({ dir: host, seconds: 10, anomalies: 5, churn: 0.05 });
        await engine.cycle();
      } finally {
        await engine.shutdown();
      }
      expect(sink.requests).toBe(2);
      expect(sink.resources).toBeGreaterThan(20);
    });
  }
});
