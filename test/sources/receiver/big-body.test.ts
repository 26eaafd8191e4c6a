/**
 * Big bodies do not hold the event loop: a 15 MB request (1,500 resources
 * with 100 attributes each) is decoded while an event-loop delay histogram
 * (perf_hooks.monitorEventLoopDelay) samples the loop. It used to be one
 * synchronous decode of about 0.6 s (1.3 s with the worker, whose answer was
 * structured-cloned back on the main thread). This measures a property of
 * the decoder, not a time: the event loop keeps turning while it decodes
 * (at least 10 setImmediate turns), where the one-shot synchronous decode
 * of the same body gives it none. The loop delay is printed for reference;
 * its figures belong to the benchmarks. The decoder's own slices are ~8 ms; what is
 * left is garbage collection of the ~50 MB of decoded objects (20-60 ms per
 * pause on an idle machine, up to ~200 ms when other processes hold both
 * cores). The one-shot decode holds the loop for its whole duration (~600 ms
 * on an idle machine, 1-2 s on a loaded one), so an unsliced decoder cannot
 * pass.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeJsonRequest } from '../../../src/otlp/decode/json-decode.js';
import { decodeProtobufRequest } from '../../../src/otlp/decode/pb-decode.js';
import type { ExportMetricsServiceRequest } from '../../../src/otlp/model.js';
import { encodeRequest } from '../../../src/otlp/proto.js';
import { BodyDecoder, type BodyEncoding } from '../../../src/sources/receiver/decode.js';

function bigRequest(resources: number, attrs: number, valueLen: number): ExportMetricsServiceRequest {
  const resourceMetrics = [];
  for (let i = 0; i < resources; i++) {
    const attributes = [
      { key: 'host.name', value: { stringValue: 'h' } },
      { key: 'process.pid', value: { intValue: String(i + 1) } },
    ];
    for (let a = 0; a < attrs; a++) {
      attributes.push({ key: `attr.${a}`, value: { stringValue: `v${i}-${a}-`.padEnd(valueLen, 'x') } });
    }
    resourceMetrics.push({
      resource: { attributes },
      scopeMetrics: [
        {
          scope: { name: 'big' },
          metrics: [
            { name: 'process.threads', unit: '{threads}', gauge: { dataPoints: [{ timeUnixNano: '1', asInt: '3' }] } },
          ],
        },
      ],
    });
  }
  return { resourceMetrics };
}

const decoders: BodyDecoder[] = [];
afterAll(async () => {
  for (const d of decoders) await d.close();
});

/**
 * Run `work` while counting the event loop's turns (a setImmediate chain)
 * and sampling its delay; returns its result, the turns taken while it ran,
 * and the p99/max delay in ms (printed, not asserted: times belong in bench/).
 */
async function lag<T>(work: () => Promise<T> | T) {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  await new Promise((r) => setTimeout(r, 30)); // the sampling timer runs from the next loop turn
  let turns = 0;
  let counting = true;
  const tick = () => {
    if (!counting) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  const out = await work();
  counting = false;
  const during = turns;
  await new Promise((r) => setTimeout(r, 30));
  h.disable();
  return { out, turns: during, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 };
}

function measured(body: Uint8Array, encoding: BodyEncoding, gzip: boolean) {
  const d = new BodyDecoder({ workers: 0, thresholdBytes: 256 * 1024 });
  decoders.push(d);
  return lag(() => d.decode({ body, encoding, gzip, maxBytes: 64 << 20 }));
}

describe('a 15 MB body', () => {
  const pb = encodeRequest(bigRequest(1500, 100, 90));

  it.each([
    ['protobuf', false],
    ['protobuf', true],
    ['json', false],
  ] as const)(
    '%s (gzip %s): the loop keeps turning while it decodes (a one-shot decode does not)',
    async (encoding, gzip) => {
      expect(pb.length).toBeGreaterThan(15_000_000);
      let body: Uint8Array = pb;
      const text = encoding === 'json' ? JSON.stringify(decodeProtobufRequest(pb)) : '';
      if (encoding === 'json') body = Buffer.from(text);
      if (gzip) body = gzipSync(body);
      const bytes = body.length; // a big JSON body moves to the worker
      // the baseline: the same body decoded in one synchronous call, in this run
      const base = await lag(() => (encoding === 'json' ? decodeJsonRequest(text) : decodeProtobufRequest(pb)));
      const { out, turns, p99Ms, maxMs } = await measured(body, encoding, gzip);
      expect(out.ok, out.ok ? '' : out.message).toBe(true);
      if (out.ok) expect(out.points).toBe(1500);
      console.log(
        `${encoding}${gzip ? '+gzip' : ''} ${bytes} bytes: ${turns} loop turns while decoding, delay p99 ${p99Ms.toFixed(1)} ms, max ${maxMs.toFixed(1)} ms; one-shot decode ${base.maxMs.toFixed(1)} ms, ${base.turns} turns`,
      );
      // the one-shot decode holds the loop from start to end; the decoder yields between slices
      expect(base.turns).toBe(0);
      expect(turns).toBeGreaterThanOrEqual(10);
    },
  );
});

describe('sliced decoding', () => {
  it('gives exactly what the one-shot decoder gives, JSON through the worker included', async () => {
    const req = bigRequest(60, 20, 300);
    const pb = encodeRequest(req);
    const d = new BodyDecoder({ workers: 0, thresholdBytes: 1024, sliceMs: 0 });
    decoders.push(d);
    const want = decodeProtobufRequest(pb);
    const a = await d.decode({ body: pb, encoding: 'protobuf', gzip: false, maxBytes: 1 << 24 });
    const b = await d.decode({
      body: Buffer.from(JSON.stringify(want)),
      encoding: 'json',
      gzip: false,
      maxBytes: 1 << 24,
    });
    expect(a.ok && a.request).toEqual(want);
    expect(b.ok && b.request).toEqual(want);
    const bad = await d.decode({
      body: pb.subarray(0, pb.length - 7),
      encoding: 'protobuf',
      gzip: false,
      maxBytes: 1 << 24,
    });
    expect(bad).toMatchObject({
      ok: false,
      status: 400,
      message: expect.stringMatching(/^malformed protobuf .*resourceMetrics\[59\]/),
    });
    const badJson = await d.decode({
      body: Buffer.from('{"resourceMetrics":[{"resource":3}]}'.padEnd(2000)),
      encoding: 'json',
      gzip: false,
      maxBytes: 1 << 24,
    });
    expect(badJson).toMatchObject({ ok: false, status: 400, message: expect.stringMatching(/^malformed JSON/) });
  });
});
