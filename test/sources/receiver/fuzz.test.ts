/**
 * Fuzz: mutated protobuf and JSON bodies (bit flips, truncations, splices,
 * random bytes, structural JSON edits; some gzip'd, some with the gzip
 * corrupted) POSTed to a real receiver. Every answer must be 200 or 4xx:
 * never a 5xx, never a dropped connection, and the heap stays steady.
 */

import * as v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostmetricsSource } from '../../../src/harness/hostmetrics.js';
import { Rng } from '../../../src/harness/synth/prng.js';
import { encodeRequest } from '../../../src/otlp/proto.js';
import { type OtlpReceiver, startOtlpReceiver } from '../../../src/sources/receiver/server.js';
import { RECEIVER } from '../../helpers/defaults.js';
import { fullRequest } from './fixtures.js';
import { RecordingSink } from './helpers.js';

const N = 10_000;
const SEED = 20241122;

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

type Body = { bytes: Uint8Array; json: boolean; gzip: boolean };

function bytesMutation(rng: Rng, base: Uint8Array, other: Uint8Array): Uint8Array {
  const b = Uint8Array.from(base);
  switch (rng.int(0, 5)) {
    case 0: {
      // bit flips
      const k = rng.int(1, 8);
      for (let i = 0; i < k; i++) b[rng.int(0, b.length - 1)]! ^= 1 << rng.int(0, 7);
      return b;
    }
    case 1:
      return b.subarray(0, rng.int(0, b.length - 1));
    case 2: {
      // splice a slice of another body in
      const from = rng.int(0, other.length - 1);
      const piece = other.subarray(from, from + rng.int(1, 64));
      const at = rng.int(0, b.length);
      return Buffer.concat([b.subarray(0, at), piece, b.subarray(at + rng.int(0, 32))]);
    }
    case 3: {
      // random bytes over a region
      const at = rng.int(0, b.length - 1);
      const n = rng.int(1, 16);
      for (let i = at; i < Math.min(b.length, at + n); i++) b[i] = rng.int(0, 255);
      return b;
    }
    case 4: {
      // varint-ish garbage: a run of 0xff / 0x80 bytes
      const at = rng.int(0, b.length);
      const run = new Uint8Array(rng.int(1, 12)).fill(rng.chance(0.5) ? 0xff : 0x80);
      return Buffer.concat([b.subarray(0, at), run, b.subarray(at)]);
    }
    default: {
      // duplicated segment
      const at = rng.int(0, b.length - 1);
      return Buffer.concat([b, b.subarray(at, at + rng.int(1, 200))]);
    }
  }
}

const ODD_VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  'x',
  '-1',
  '18446744073709551616',
  '1e400',
  [],
  {},
  true,
  'NaN',
  [[[[[]]]]],
  { stringValue: 1 },
  '9'.repeat(40),
];

/** Mutates one node of a parsed JSON tree in place. */
function jsonEdit(rng: Rng, root: unknown): void {
  // walk down a random path
  let parent: Record<string, unknown> | unknown[] = root as Record<string, unknown>;
  for (let depth = 0; depth < 12; depth++) {
    const keys = Array.isArray(parent) ? parent.map((_, i) => i) : Object.keys(parent);
    if (keys.length === 0) break;
    const k = rng.pick(keys as (string | number)[]);
    const child = (parent as Record<string | number, unknown>)[k];
    const stop = typeof child !== 'object' || child === null || rng.chance(0.25);
    if (stop) {
      const p = parent as Record<string | number, unknown>;
      switch (rng.int(0, 3)) {
        case 0:
          p[k] = rng.pick(ODD_VALUES);
          break;
        case 1:
          if (Array.isArray(parent)) parent.splice(Number(k), 1);
          else delete p[k];
          break;
        case 2:
          if (!Array.isArray(parent)) {
            p[`${String(k).replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`] = p[k];
            delete p[k];
          } else parent.push(structuredClone(child));
          break;
        default:
          p[k] = { nested: child, deep: rng.pick(ODD_VALUES) };
      }
      return;
    }
    parent = child as Record<string, unknown> | unknown[];
  }
}

function makeBodies(): Body[] {
  const rng = new Rng(SEED);
  const src = new HostmetricsSource({ processes: 5, nowMs: 1_732_300_000_000, seed: 2 });
  const reqs = [fullRequest(), src.request(1_732_300_010_000)];
  const pbs = reqs.map((r) => encodeRequest(r));
  const texts = reqs.map((r) => JSON.stringify(r));
  const bodies: Body[] = [];
  for (let i = 0; i < N; i++) {
    const json = i % 2 === 1;
    const which = rng.int(0, 1);
    let bytes: Uint8Array;
    if (!json) bytes = bytesMutation(rng, pbs[which]!, pbs[1 - which]!);
    else if (rng.chance(0.5)) {
      const tree = JSON.parse(texts[which]!);
      const edits = rng.int(1, 3);
      for (let e = 0; e < edits; e++) jsonEdit(rng, tree);
      bytes = Buffer.from(JSON.stringify(tree));
    } else bytes = bytesMutation(rng, Buffer.from(texts[which]!), Buffer.from(texts[1 - which]!));
    const gzip = rng.chance(0.1);
    if (gzip) {
      bytes = gzipSync(bytes, { level: 1 });
      if (rng.chance(0.3)) bytes = bytesMutation(rng, bytes, bytes);
    }
    bodies.push({ bytes, json, gzip });
  }
  return bodies;
}

describe('receiver fuzz', () => {
  let rx: OtlpReceiver;
  const sink = new RecordingSink();
  sink.countOnly = true;

  beforeAll(async () => {
    rx = await startOtlpReceiver({ ...RECEIVER, listen: '127.0.0.1:0', sink });
  });
  afterAll(async () => {
    await rx.close();
  });

  it(`answers ${N} mutated bodies with 200 or 4xx, never 5xx or a dropped connection`, async () => {
    const bodies = makeBodies();
    const origin = new URL(rx.url).origin;
    const pool = new Pool(origin, { connections: 4, keepAliveTimeout: 30_000 });
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    const send = async (b: Body) => {
      try {
        const res = await pool.request({
          path: '/v1/metrics',
          method: 'POST',
          body: b.bytes,
          headers: {
            'content-type': b.json ? 'application/json' : 'application/x-protobuf',
            ...(b.gzip ? { 'content-encoding': 'gzip' } : {}),
          },
        });
        await res.body.arrayBuffer();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      } catch (e) {
        failures.push(String(e));
      }
    };

    // warm up, then measure the heap around the run
    for (let i = 0; i < 200; i++) await send(bodies[i]!);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < bodies.length) await send(bodies[next++]!);
      }),
    );
    gc();
    const heapAfter = process.memoryUsage().heapUsed;

    expect(failures).toEqual([]);
    const codes = [...statuses.keys()].sort();
    expect(codes.filter((c) => c !== 200 && !(c >= 400 && c < 500))).toEqual([]);
    // both outcomes occur: the mutations are neither all harmless nor all fatal
    expect(statuses.get(200) ?? 0).toBeGreaterThan(N / 50);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(N / 4);
    // the server still works
    const ok = await pool.request({
      path: '/v1/metrics',
      method: 'POST',
      body: encodeRequest(fullRequest()),
      headers: { 'content-type': 'application/x-protobuf' },
    });
    await ok.body.arrayBuffer();
    expect(ok.statusCode).toBe(200);
    await pool.close();
    // steady heap: the receiver keeps nothing per request (the string intern table is bounded)
    expect(heapAfter - heapBefore).toBeLessThan(24 * 1024 * 1024);
    const total = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(N + 200);
    expect(rx.stats().requests['500'] ?? 0).toBe(0);
  });
});
