import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.js';
import { EncodedRequest, type Exporter, type ExportPayload, type ExportResult } from '../../src/exporters/exporter.js';
import { Fanout } from '../../src/exporters/fanout.js';
import { FileExporter } from '../../src/exporters/file.js';
import { NoneExporter } from '../../src/exporters/none.js';
import { OtlpHttpExporter } from '../../src/exporters/otlp/send.js';
import { createSink } from '../../src/exporters/sink.js';
import { decodeRequest, encodeRequest } from '../../src/otlp/proto.js';
import { FILE, OTLP, plainExporterOptions } from '../helpers/defaults.js';
import { closedPort, type LoopbackServer, startLoopbackServer } from '../helpers/loopback-http.js';
import { richRequest } from './fixture.js';

/** Records the `encoded` it receives and answers as told. */
class Probe implements Exporter {
  seen: Array<EncodedRequest | undefined> = [];
  constructor(
    readonly name: string,
    private readonly answer: (enc: EncodedRequest) => ExportResult | Promise<ExportResult>,
  ) {}
  async start() {}
  async export(payload: ExportPayload) {
    const enc = payload instanceof EncodedRequest ? payload : undefined;
    this.seen.push(enc);
    return this.answer(enc!);
  }
  async shutdown() {}
}

let dir: string;
let server: LoopbackServer;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nrdot-fanout-'));
  server = await startLoopbackServer();
});
afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('Fanout', () => {
  it('shares one set of encodings among all exporters and reuses given protobuf bytes', async () => {
    const req = richRequest();
    const pre = encodeRequest(req);
    const a = new Probe('a', (enc) => ({ ok: true, bytes: enc.protobuf().length }));
    const b = new Probe('b', async (enc) => ({ ok: true, bytes: (await enc.gzippedProtobuf()).length }));
    const c = new Probe('c', (enc) => ({ ok: true, bytes: enc.json().length }));
    const fan = new Fanout([a, b, c]);
    await fan.start();
    const out = await fan.export(req, pre);
    expect(a.seen[0]).toBeDefined();
    expect(b.seen[0]).toBe(a.seen[0]);
    expect(c.seen[0]).toBe(a.seen[0]);
    expect(a.seen[0]!.protobuf()).toBe(pre);
    expect(out.map((o) => o.exporter)).toEqual(['a', 'b', 'c']);
    expect(out[0].bytes).toBe(pre.length);
  });

  it('sends to real file and OTLP exporters together; failures are counted per exporter', async () => {
    const file1 = join(dir, 'one.jsonl');
    const file2 = join(dir, 'two.jsonl');
    const down = await closedPort();
    const fan = new Fanout(
      [
        new FileExporter({ ...FILE, path: file1 }),
        new FileExporter({ ...FILE, path: file2 }),
        new OtlpHttpExporter({ ...OTLP, url: server.origin }),
        new OtlpHttpExporter({ ...OTLP, url: `http://127.0.0.1:${down}`, timeoutMs: 2000 }),
        new Probe('thrower', () => {
          throw new Error('kaput');
        }),
        new NoneExporter(),
      ],
      silentLogger,
    );
    await fan.start();
    const req = richRequest();
    for (let i = 0; i < 2; i++) {
      const out = await fan.export(req);
      expect(out.map((o) => o.ok)).toEqual([true, true, true, false, false, true]);
      expect(out[4]).toMatchObject({ exporter: 'thrower', ok: false, bytes: 0, error: 'kaput' });
    }
    await fan.shutdown();
    await fan.shutdown();

    for (const f of [file1, file2]) {
      const lines = (await readFile(f, 'utf8')).trim().split('\n');
      expect(lines.map((l) => JSON.parse(l))).toStrictEqual([req, req]);
    }
    expect(server.requests).toHaveLength(2);
    expect(decodeRequest(gunzipSync(server.requests[1].body))).toStrictEqual(req);

    const stats = fan.exporterStats();
    expect(stats.map((s) => [s.exports, s.errors, s.consecutiveErrors])).toEqual([
      [2, 0, 0],
      [2, 0, 0],
      [2, 0, 0],
      [2, 2, 2],
      [2, 2, 2],
      [2, 0, 0],
    ]);
    expect(stats[3].lastError).toMatch(/ECONNREFUSED/);
    expect(fan.errorCounts()).toMatchObject({ [`otlp:http://127.0.0.1:${down}/v1/metrics`]: 2, thrower: 2, none: 0 });
    await expect(fan.export(req)).rejects.toThrow(/after shutdown/);
  });

  it('start() failure shuts the others down and rethrows the first error', async () => {
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'plain'), 'x');
    const file = new FileExporter({ ...FILE, path: join(dir, 'plain', 'm.jsonl') });
    const none = new NoneExporter();
    const sink = new Fanout([none, file]);
    await expect(sink.start()).rejects.toMatchObject({ code: 'NRDOT_ERR_OUTPUT_UNWRITABLE' });
    await expect(none.export(richRequest())).rejects.toThrow(/after shutdown/);
  });

  it('createSink builds a working fan-out from specs', async () => {
    const path = join(dir, 's.jsonl');
    const sink = createSink([`file:${path}`, `otlp:${server.origin}`, 'none'], {
      ...plainExporterOptions(),
      otlp: { ...OTLP, headers: { 'api-key': 'k' } },
    });
    await sink.start();
    const req = richRequest();
    const out = await sink.export(req, encodeRequest(req));
    expect(out.every((o) => o.ok)).toBe(true);
    await sink.shutdown();
    expect(server.requests[0].headers['api-key']).toBe('k');
    expect(JSON.parse((await readFile(path, 'utf8')).trim())).toStrictEqual(req);
  });
});
