/**
 * The column writer (a process row straight into protobuf) against the model
 * path: `processResource()` encoded by the generic protobufjs encoder over
 * the official OTLP definitions. Byte for byte, on seeded random rows:
 * unknown values, huge counters, negative and zero values, Unicode and long
 * strings (the two string encoders), random metric sets, every combination
 * of nrdot's attributes; the points each row has, and its size as the
 * baselines measure it (size.ts).
 */
import { describe, expect, it } from 'vitest';
import * as w from '../../../src/otlp/encode/pb-buf.js';
import { countDataPoints, nanosFromMs, nanosFromSec } from '../../../src/otlp/model.js';
import { encodeRequestGeneric } from '../../../src/otlp/proto.js';
import { allocBatch, countOrUnknown, type ProcessBatch, UNKNOWN } from '../../../src/sources/batch.js';
import { HOSTMETRICS_DEFAULT, M, maskPoints, PROCESS_METRICS } from '../../../src/stages/build/metrics.js';
import { processResource } from '../../../src/stages/build/model.js';
import { entrySize, metricsSize, resourceSize } from '../../../src/stages/build/size.js';
import {
  K_UTIL,
  knownValues,
  processPoints,
  type RowStrings,
  type RowTags,
  startWords,
  writeProcess,
} from '../../../src/stages/build/writer.js';

let seed = 12345;
const rnd = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
const STRINGS = [
  '',
  'nginx',
  'postgres: checkpointer',
  'é',
  'Ünïcødé ✓ 日本語',
  '\ud83d\ude00 emoji',
  'lone \ud800 surrogate',
  'x'.repeat(39),
  'y'.repeat(40),
  `/usr/bin/java -Xmx8g -jar /opt/app.jar ${'--flag=value '.repeat(20)}`,
  'ß'.repeat(45),
];
/** what a source may read; a count column holds it as the sources fill it (past 2^53 or fractional: UNKNOWN) */
const NUMBERS = [0, 1, 4096, 2 ** 31, 2 ** 32 + 7, 2 ** 53 - 1, 2 ** 53 + 2, 2 ** 62, 1e18, 123456789.75];
const count = () => countOrUnknown(pick(NUMBERS));

function randomBatch(n: number): ProcessBatch {
  const b = allocBatch(n, {
    hostname: pick(['h', 'db-host-7.example', 'Ω-host']),
    bootTimeSec: pick([0, 1_700_000_000, 1_699_999_999.5]),
    uptimeSec: pick([0, 100.25, 86400 * 400]),
    cpuCount: pick([1, 2, 64]),
    memTotalBytes: 1e10,
    clkTck: 100,
    pageSize: 4096,
  });
  b.count = n;
  b.scannedAtMs = pick([1_700_000_000_000, 1_790_000_000_123.5, 0]);
  for (let i = 0; i < n; i++) {
    b.pid[i] = pick([1, 42, 4194304, 2 ** 31 - 1]);
    b.ppid[i] = pick([0, 1, 42]);
    b.startTicks[i] = pick([0, 12345, 99_999_999, 2 ** 40]);
    b.utimeSec[i] = pick([0, 0.01, 1234.56, 1e9]);
    b.stimeSec[i] = pick([0, 0.5, 7]);
    b.iowaitSec[i] = pick([0, 0.25]);
    b.rssBytes[i] = count();
    b.vsizeBytes[i] = count();
    b.threads[i] = pick([0, 1, 512, -1]);
    b.fds[i] = pick([UNKNOWN, 0, 3, 100000]);
    const io = rnd() < 0.3;
    b.readBytes[i] = io ? UNKNOWN : count();
    b.writeBytes[i] = io ? UNKNOWN : count();
    b.minFaults[i] = count();
    b.majFaults[i] = pick([0, 3]);
    const ctx = rnd() < 0.3;
    b.volCtx[i] = ctx ? UNKNOWN : count();
    b.involCtx[i] = ctx ? UNKNOWN : pick([0, 9]);
  }
  return b;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('writeProcess', () => {
  it('writes exactly what the model path writes, on 3000 seeded random rows', () => {
    let rows = 0;
    for (let round = 0; round < 100; round++) {
      const b = randomBatch(30);
      const timeNs = nanosFromMs(b.scannedAtMs);
      for (let i = 0; i < b.count; i++) {
        const id: RowStrings = {
          name: pick(STRINGS),
          exe: pick(STRINGS),
          cmdline: pick(STRINGS),
          owner: pick(STRINGS),
        };
        const cpuState = Float64Array.from({ length: b.count * 3 }, () => pick([0, 0.5, 3.75, Number.NaN]));
        const mask = rnd() < 0.3 ? HOSTMETRICS_DEFAULT : Math.floor(rnd() * (1 << PROCESS_METRICS.length));
        const tags: RowTags | undefined =
          rnd() < 0.2
            ? undefined
            : {
                tier: Math.floor(rnd() * 4),
                importance: pick([0.95, 0.75, 0.45, 0.15]),
                profile: pick(['balanced', 'émergency']),
                anomaly: pick(['', '', 'cpu', 'memory', 'new']),
                sampleRate: rnd() < 0.3 ? pick([1, 0.5, 2 ** -20]) : undefined,
              };
        w.reset();
        writeProcess(b, i, id, cpuState, timeNs, mask, tags);
        const mine = w.finish();
        const model = processResource(b, i, id, cpuState, timeNs, mask, tags);
        expect(hex(mine), `row ${round}/${i}`).toBe(hex(encodeRequestGeneric({ resourceMetrics: [model] })));
        expect(processPoints(b, i, mask, cpuState)).toBe(countDataPoints({ resourceMetrics: [model] }));
        // the baselines' measure: what writeProcess writes without nrdot's attributes, metrics not written
        w.reset();
        writeProcess(b, i, id, cpuState, timeNs, mask);
        const plain = w.pos;
        expect(entrySize(resourceSize(b, i, id), metricsSize(b, i, cpuState, mask)), `size ${round}/${i}`).toBe(plain);
        rows++;
      }
    }
    expect(rows).toBe(3000);
  });

  it('no CPU state (null): utilization is unknown on every row, not only the first', () => {
    const b = randomBatch(3);
    const mask = M['process.cpu.utilization'] | M['process.memory.usage'];
    const known = Float64Array.from({ length: 9 }, () => 0.5);
    for (let i = 0; i < b.count; i++) {
      expect(knownValues(b, i, null) & K_UTIL, `row ${i}`).toBe(0);
      expect(knownValues(b, i, known) & K_UTIL, `row ${i}`).toBe(K_UTIL);
      const rss = b.rssBytes[i]! >= 0 ? 1 : 0;
      expect(processPoints(b, i, mask, null), `row ${i}`).toBe(rss);
      expect(processPoints(b, i, mask, known), `row ${i}`).toBe(3 + rss);
      const model = processResource(b, i, { name: 'x', exe: '', cmdline: '', owner: '' }, null, '1', mask);
      expect(model.scopeMetrics[0]!.metrics.map((m) => m.name)).not.toContain('process.cpu.utilization');
    }
  });

  it('the hostmetrics default set is 7 points per process', () => {
    expect(maskPoints(HOSTMETRICS_DEFAULT)).toBe(7);
  });
});

describe('startWords', () => {
  it('is exactly nanosFromSec as 64-bit words, without BigInt', () => {
    const cases = [
      0,
      1,
      0.5,
      1e-9,
      0.9999999999,
      1_699_999_999.5,
      1_700_000_000 + 0.123456789,
      1_732_299_000 + 0.987654321,
      2 ** 32,
      4_294_967_295 + 0.999999999,
      4_000_000_000.25,
      Math.floor(2 ** 53 / 1953125) - 1 + 0.75,
    ];
    for (let k = 0; k < 2000; k++) cases.push(rnd() * 4.6e9, Math.floor(rnd() * 2e9) + Math.floor(rnd() * 1e4) / 1e4);
    for (const sec of cases) {
      const want = BigInt(nanosFromSec(sec));
      const got = startWords(sec);
      expect(BigInt(got.hi) * 2n ** 32n + BigInt(got.lo), String(sec)).toBe(want);
      expect(got.lo >= 0 && got.lo < 2 ** 32 && got.hi >= 0 && got.hi < 2 ** 32).toBe(true);
    }
  });

  it('takes the decimal path beyond its range', () => {
    const sec = 1e10 + 0.5;
    const got = startWords(sec);
    expect(BigInt(got.hi) * 2n ** 32n + BigInt(got.lo)).toBe(BigInt(nanosFromSec(sec)));
  });
});
