import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { encodeRequest } from '../../../src/otlp/proto.js';
import { decodeTaskInline, decodeTaskSync, gunzipChunkSize } from '../../../src/sources/receiver/decode.js';
import { fullRequest } from './fixtures.js';

describe('body decoding', () => {
  it('sizes the inflate chunk from the gzip trailer, within bounds', () => {
    const raw = Buffer.alloc(300_000, 1);
    const gz = gzipSync(raw);
    expect(gunzipChunkSize(gz, 16 << 20)).toBe(300_001);
    expect(gunzipChunkSize(gz, 100_000)).toBe(100_001); // never beyond the limit
    expect(gunzipChunkSize(gzipSync(Buffer.alloc(10)), 16 << 20)).toBe(64 * 1024);
    // a trailer claiming 4 GiB on a 40-byte body
    const liar = Buffer.concat([gzipSync(Buffer.alloc(10)).subarray(0, -4), Buffer.from([0xff, 0xff, 0xff, 0xff])]);
    expect(gunzipChunkSize(liar, 16 << 20)).toBe(64 * 1024);
  });

  it('gives the same outcome inline and synchronously (worker path)', async () => {
    const pb = encodeRequest(fullRequest());
    const cases = [
      { body: gzipSync(pb), encoding: 'protobuf' as const, gzip: true, maxBytes: 1 << 20 },
      { body: Buffer.from(JSON.stringify(fullRequest())), encoding: 'json' as const, gzip: false, maxBytes: 1 << 20 },
      { body: gzipSync(Buffer.alloc(4 << 20)), encoding: 'protobuf' as const, gzip: true, maxBytes: 1 << 20 },
      { body: pb.subarray(0, 50), encoding: 'protobuf' as const, gzip: false, maxBytes: 1 << 20 },
    ];
    const outcomes = [];
    for (const c of cases) {
      const a = await decodeTaskInline(c);
      expect(decodeTaskSync(c)).toStrictEqual(a);
      outcomes.push(a.ok ? 200 : a.status);
    }
    expect(outcomes).toEqual([200, 200, 413, 400]);
  });
});
