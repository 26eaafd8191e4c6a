import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostmetricsSource } from '../../../src/harness/hostmetrics.js';
import { countDataPoints, type Metric } from '../../../src/otlp/model.js';
import { encodeRequest } from '../../../src/otlp/proto.js';
import { type OtlpReceiver, startOtlpReceiver } from '../../../src/sources/receiver/server.js';
import { RECEIVER } from '../../helpers/defaults.js';
import { fullRequest } from './fixtures.js';
import { partialSuccess, post, RecordingSink, rawExchange, statusMessage } from './helpers.js';
import { collectSdkMetrics, EXP_VALUES, HISTOGRAM_VALUES } from './sdk.js';

const PB = { 'content-type': 'application/x-protobuf' };
const JSON_CT = { 'content-type': 'application/json' };

let sink: RecordingSink;
let rx: OtlpReceiver;

async function start(extra: Partial<Parameters<typeof startOtlpReceiver>[0]> = {}) {
  rx = await startOtlpReceiver({ ...RECEIVER, listen: '127.0.0.1:0', sink, ...extra });
  return rx;
}

beforeEach(() => {
  sink = new RecordingSink();
});
afterEach(async () => {
  await rx?.close();
});

function exportWith(exporter: PushMetricExporter, rm: ResourceMetrics): Promise<{ code: number; error?: Error }> {
  return new Promise((resolve) => exporter.export(rm, resolve));
}

function metricsOf(i: number): Map<string, Metric> {
  const out = new Map<string, Metric>();
  for (const r of sink.accepted[i].req.resourceMetrics) {
    for (const sm of r.scopeMetrics) for (const m of sm.metrics) out.set(m.name, m);
  }
  return out;
}

describe('OTLP receiver with the OpenTelemetry JS SDK as client', () => {
  for (const [name, make, encoding] of [
    ['protobuf', (url: string) => new ProtoExporter({ url }), 'protobuf'],
    ['JSON', (url: string) => new JsonExporter({ url }), 'json'],
  ] as const) {
    it(`receives counter, gauge, histogram and exponential histogram over ${name}`, async () => {
      await start();
      const exporter = make(rx.url);
      const result = await exportWith(exporter, await collectSdkMetrics());
      await exporter.shutdown();
      expect(result.code).toBe(ExportResultCode.SUCCESS);
      expect(sink.accepted).toHaveLength(1);
      expect(sink.accepted[0].meta.encoding).toBe(encoding);
      const m = metricsOf(0);
      const res = sink.accepted[0].req.resourceMetrics[0];
      expect(res.resource.attributes).toContainEqual({ key: 'service.name', value: { stringValue: 'sdk-test' } });
      expect(res.scopeMetrics[0].scope).toMatchObject({ name: 'receiver-test', version: '1.2.3' });
      const counter = m.get('sdk.counter')!;
      expect(counter.unit).toBe('{req}');
      expect(counter.sum!.dataPoints.map((p) => p.asDouble ?? Number(p.asInt))).toEqual([12, 1]);
      expect(m.get('sdk.gauge')!.gauge!.dataPoints[0].asDouble).toBe(42.5);
      const h = m.get('sdk.histogram')!.histogram!.dataPoints[0];
      expect(h.count).toBe('4');
      expect(h.bucketCounts!.slice(0, 9)).toEqual(['0', '1', '2', '0', '0', '0', '0', '0', '1']);
      expect(h.min).toBe(Math.min(...HISTOGRAM_VALUES));
      expect(h.max).toBe(Math.max(...HISTOGRAM_VALUES));
      const e = m.get('sdk.exp')!.exponentialHistogram!.dataPoints[0];
      expect(Number(e.count)).toBe(EXP_VALUES.length);
      expect(e.positive!.bucketCounts.reduce((a, b) => a + Number(b), 0)).toBe(EXP_VALUES.length);
      expect(sink.accepted[0].meta.points).toBe(countDataPoints(sink.accepted[0].req));
      expect(rx.stats().requests).toEqual({ 200: 1 });
      expect(rx.stats().dataPoints).toBe(5);
    });
  }

  it('answers partial success in the request encoding, and the SDK still counts the export as sent', async () => {
    sink.reject = { rejectedDataPoints: 2, errorMessage: 'two points too old' };
    await start();
    const proto = new ProtoExporter({ url: rx.url });
    expect((await exportWith(proto, await collectSdkMetrics())).code).toBe(ExportResultCode.SUCCESS);
    await proto.shutdown();

    const body = encodeRequest(fullRequest());
    const pb = await post(rx.url, body, PB);
    expect(pb.status).toBe(200);
    expect(pb.headers['content-type']).toBe('application/x-protobuf');
    expect(partialSuccess(pb)).toEqual({
      partialSuccess: { rejectedDataPoints: '2', errorMessage: 'two points too old' },
    });
    const js = await post(rx.url, JSON.stringify(fullRequest()), { 'content-type': 'application/json; charset=utf-8' });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toBe('application/json');
    expect(partialSuccess(js)).toEqual({
      partialSuccess: { rejectedDataPoints: '2', errorMessage: 'two points too old' },
    });
    expect(rx.stats().rejectedDataPoints).toBe(6);
  });

  it('answers a full success with an empty response message', async () => {
    await start();
    const pb = await post(rx.url, gzipSync(encodeRequest(fullRequest())), { ...PB, 'content-encoding': 'gzip' });
    expect(pb.status).toBe(200);
    expect(pb.body.length).toBe(0);
    const js = await post(rx.url, JSON.stringify(fullRequest()), JSON_CT);
    expect(js.body.toString()).toBe('{}');
    expect(sink.accepted.map((a) => a.req)).toEqual([fullRequest(), fullRequest()]);
  });
});

describe('OTLP receiver refusals', () => {
  it('404 for other paths, 405 for other methods, 415 for other content types and encodings', async () => {
    await start();
    const base = rx.url.replace('/v1/metrics', '');
    const nf = await post(`${base}/v1/traces`, 'x', PB);
    expect(nf.status).toBe(404);
    expect(statusMessage(nf)).toMatch(/no handler for \/v1\/traces/);
    const get = await post(rx.url, '', PB, 'GET');
    expect(get.status).toBe(405);
    expect(get.headers.allow).toBe('POST');
    const ct = await post(rx.url, 'hello', { 'content-type': 'text/plain' });
    expect(ct.status).toBe(415);
    expect(statusMessage(ct)).toMatch(/unsupported content type text\/plain/);
    const none = await post(rx.url, 'hello', {});
    expect(none.status).toBe(415);
    const br = await post(rx.url, 'x', { ...PB, 'content-encoding': 'br' });
    expect(br.status).toBe(415);
    expect(statusMessage(br)).toMatch(/content encoding br/);
    expect(sink.admitCalls).toBe(0);
    expect(rx.stats().requests).toEqual({ 404: 1, 405: 1, 415: 3 });
  });

  it('400 for malformed protobuf, malformed JSON and truncated gzip, naming what is wrong', async () => {
    await start();
    const good = encodeRequest(fullRequest());
    const bad = await post(rx.url, good.subarray(0, good.length - 7), PB);
    expect(bad.status).toBe(400);
    expect(statusMessage(bad)).toMatch(/^malformed protobuf ExportMetricsServiceRequest: resourceMetrics\[2\]/);

    const json = await post(
      rx.url,
      '{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{"asInt":"x"}]}}]}]}]}',
      JSON_CT,
    );
    expect(json.status).toBe(400);
    expect(statusMessage(json)).toBe(
      'malformed JSON ExportMetricsServiceRequest: resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asInt: expected a signed 64-bit integer, got "x"',
    );
    const notJson = await post(rx.url, '{"resourceMetrics": [', JSON_CT);
    expect(notJson.status).toBe(400);
    expect(statusMessage(notJson)).toMatch(/invalid JSON/);

    const gz = gzipSync(good);
    const trunc = await post(rx.url, gz.subarray(0, gz.length - 20), { ...PB, 'content-encoding': 'gzip' });
    expect(trunc.status).toBe(400);
    expect(statusMessage(trunc)).toMatch(/gzip body cannot be decompressed: unexpected end of file/);
    const notGz = await post(rx.url, good, { ...PB, 'content-encoding': 'gzip' });
    expect(notGz.status).toBe(400);
    expect(sink.accepted).toHaveLength(0);
  });

  it('413 for an announced oversized body, before reading it', async () => {
    await start({ maxBodyBytes: 1024 });
    const r = await rawExchange(rx.url, { ...PB, 'Content-Length': '100000' }, [new Uint8Array(10)]);
    expect(r.status).toBe(413);
    expect(r.text).toMatch(/exceeds the 1024-byte limit/);
    expect(sink.admitCalls).toBe(0);
    expect(rx.stats().bytes).toBe(0);
  });

  it('413 for a chunked body that grows past the limit, and the rest is not read', async () => {
    await start({ maxBodyBytes: 1024 * 1024 });
    const chunk = Buffer.alloc(64 * 1024, 7);
    const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
    const total = 1024; // 64 MiB offered
    const r = await rawExchange(
      rx.url,
      { ...PB, 'Transfer-Encoding': 'chunked' },
      (function* () {
        for (let i = 0; i < total; i++) yield framed;
      })(),
    );
    expect(r.status).toBe(413);
    expect(r.written).toBeLessThan(total * framed.length);
    expect(sink.accepted).toHaveLength(0);
  });

  it('413 for a gzip bomb: inflation stops at the limit', async () => {
    const limit = 1024 * 1024;
    await start({ maxBodyBytes: limit });
    // 48 concatenated gzip members of 16 MiB of zeros each: 768 MiB inflated from under 1 MiB
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024), { level: 9 });
    const bomb = Buffer.concat(Array.from({ length: 48 }, () => member));
    expect(bomb.length).toBeLessThan(limit);
    const small = Buffer.concat(Array.from({ length: 32 }, () => gzipSync(Buffer.alloc(1024)))); // under both limits
    const before = process.memoryUsage().rss;
    const r = await post(rx.url, bomb, { ...PB, 'content-encoding': 'gzip' });
    expect(r.status).toBe(413);
    expect(statusMessage(r)).toMatch(/decompressed body exceeds the 1048576-byte limit/);
    // a fully inflated GiB would show here
    expect(process.memoryUsage().rss - before).toBeLessThan(512 * 1024 * 1024);
    const ok = await post(rx.url, small, { ...PB, 'content-encoding': 'gzip' });
    expect(ok.status).toBe(400); // zeros are not a request, but they were inflated and decoded
    expect(statusMessage(ok)).toMatch(/malformed protobuf/);
  });

  it('503 with Retry-After when admit() refuses, without reading the body', async () => {
    sink.refuse = { retryAfterSec: 7.2, reason: 'memory limit' };
    await start();
    // headers promise 10 KB, only 10 bytes follow: the answer must not wait for the rest
    const r = await rawExchange(rx.url, { ...PB, 'Content-Length': '10000' }, [new Uint8Array(10)]);
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/\r\nRetry-After: 8\r\n/i);
    expect(r.text).toMatch(/not accepting data: memory limit/);
    expect(sink.admitCalls).toBe(1);
    expect(sink.accepted).toHaveLength(0);
    const viaClient = await post(rx.url, encodeRequest(fullRequest()), PB);
    expect(viaClient.status).toBe(503);
    expect(viaClient.headers['retry-after']).toBe('8');
    expect(rx.stats().requests).toEqual({ 503: 2 });
  });

  it('500 when the sink throws, logged once per error kind', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(c, _e, cb) {
        lines.push(String(c));
        cb();
      },
    });
    let now = 0;
    sink.throwWith = Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    await start({ logger: pino({ level: 'info' }, stream), now: () => now });
    const body = encodeRequest(fullRequest());
    for (let i = 0; i < 3; i++) expect((await post(rx.url, body, PB)).status).toBe(500);
    now = 61_000;
    expect((await post(rx.url, body, PB)).status).toBe(500);
    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.msg === 'otlp receiver: sink failed');
    expect(errors).toHaveLength(2);
    expect(errors[0].err.message).toBe('disk full');
    expect(errors[1].suppressedSinceLast).toBe(2);
  });
});

describe('OTLP receiver decode workers', () => {
  it('decodes large JSON bodies on piscina workers, large protobuf bodies in slices, with the same result and errors as inline', async () => {
    await start({ decodeWorkers: 1, workerThresholdBytes: 4096 });
    const src = new HostmetricsSource({ processes: 200, nowMs: 1_732_300_000_000 });
    const req = src.request(1_732_300_010_000);
    const big = gzipSync(encodeRequest(req));
    expect(big.length).toBeGreaterThan(4096);
    expect((await post(rx.url, big, { ...PB, 'content-encoding': 'gzip' })).status).toBe(200);
    expect((await post(rx.url, JSON.stringify(req), JSON_CT)).status).toBe(200);
    expect((await post(rx.url, encodeRequest(fullRequest()).subarray(0, 100), PB)).status).toBe(400);
    const bad = await post(rx.url, big.subarray(0, big.length - 8), { ...PB, 'content-encoding': 'gzip' });
    expect(bad.status).toBe(400);
    expect(sink.accepted.map((a) => a.req)).toEqual([req, req]);
    const s = rx.stats();
    expect(s.workerDecodes).toBe(1); // the JSON body; protobuf bodies decode in slices on the main thread
    expect(s.inlineDecodes).toBe(3);
    expect(s.dataPoints).toBe(2 * src.pointsPerRequest);
    expect(s.decode.count).toBe(2);
    expect(s.decode.p99Us).toBeGreaterThanOrEqual(s.decode.p50Us);
  });
});

describe('listen address', () => {
  it('a bad address names --otlp-listen; a taken port says so', async () => {
    await expect(startOtlpReceiver({ ...RECEIVER, listen: 'h:70000', sink })).rejects.toThrow(
      /--otlp-listen expects HOST:PORT/,
    );
    const r = await startOtlpReceiver({ ...RECEIVER, listen: '127.0.0.1:0', sink });
    try {
      const port = new URL(r.url).port;
      await expect(startOtlpReceiver({ ...RECEIVER, listen: `127.0.0.1:${port}`, sink })).rejects.toThrow(
        /cannot listen on 127\.0\.0\.1:\d+: the address is already in use.*--otlp-listen/,
      );
    } finally {
      await r.close();
    }
  });
});
