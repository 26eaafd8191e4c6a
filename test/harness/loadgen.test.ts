import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../../src/harness/load.js';
import { countDataPoints, type ResourceMetrics } from '../../src/otlp/model.js';
import { splitRequest, toProcessBatch } from '../../src/sources/receiver/mapping.js';
import { type OtlpReceiver, startOtlpReceiver } from '../../src/sources/receiver/server.js';
import { nrdot } from '../helpers/cli.js';
import { RECEIVER } from '../helpers/defaults.js';
import { RecordingSink } from '../sources/receiver/helpers.js';

let rx: OtlpReceiver | undefined;
afterEach(async () => {
  await rx?.close();
  rx = undefined;
});

const pids = (rms: ResourceMetrics[]) =>
  rms.map((r) => r.resource.attributes.find((a) => a.key === 'process.pid')!.value);

describe('runLoad', () => {
  for (const [encoding, gzip] of [
    ['protobuf', true],
    ['json', false],
  ] as const) {
    it(`posts ${encoding}${gzip ? '+gzip' : ''} requests with stable identities and advancing values`, async () => {
      const sink = new RecordingSink();
      rx = await startOtlpReceiver({ ...RECEIVER, listen: '127.0.0.1:0', sink });
      const progress: number[] = [];
      const s = await runLoad({
        target: rx.url,
        rate: 8,
        processes: 30,
        durationSec: 1.2,
        encoding,
        gzip,
        concurrency: 2,
        hostName: 'lg-test',
        onProgress: (r) => progress.push(r.sent),
      });
      expect(s.completed).toBeGreaterThanOrEqual(2);
      expect(s.statuses).toEqual({ 200: s.completed });
      expect(s.pointsPerRequest).toBe(450);
      expect(s.p99Ms).toBeGreaterThanOrEqual(s.p50Ms);
      expect(s.p50Ms).toBeGreaterThan(0);
      expect(progress.length).toBeGreaterThanOrEqual(1);
      expect(sink.accepted).toHaveLength(s.completed);
      for (const a of sink.accepted) {
        expect(a.meta.encoding).toBe(encoding);
        expect(countDataPoints(a.req)).toBe(450);
      }
      const first = sink.accepted[0].req.resourceMetrics;
      const last = sink.accepted.at(-1)!.req.resourceMetrics;
      expect(pids(last)).toEqual(pids(first));
      const b1 = toProcessBatch(splitRequest({ resourceMetrics: first }).processes, 'lg-test', 0);
      const b2 = toProcessBatch(splitRequest({ resourceMetrics: last }).processes, 'lg-test', 0);
      expect(Array.from(b2.startTicks)).toEqual(Array.from(b1.startTicks));
      expect(b2.host.uptimeSec).toBeGreaterThan(b1.host.uptimeSec);
      for (let i = 0; i < b1.count; i++) expect(b2.utimeSec[i]).toBeGreaterThan(b1.utimeSec[i]);
    });
  }

  it('counts answers other than 2xx and unreachable targets by status', async () => {
    const sink = new RecordingSink();
    sink.refuse = { retryAfterSec: 1, reason: 'busy' };
    rx = await startOtlpReceiver({ ...RECEIVER, listen: '127.0.0.1:0', sink });
    const s = await runLoad({
      target: rx.url,
      rate: 5,
      processes: 2,
      durationSec: 0.5,
      encoding: 'protobuf',
      gzip: false,
      concurrency: 1,
    });
    expect(Object.keys(s.statuses)).toEqual(['503']);
    expect(s.pointsPerSec).toBe(0);
    const url = rx.url;
    await rx.close();
    rx = undefined;
    const gone = await runLoad({
      target: url,
      rate: 5,
      processes: 2,
      durationSec: 0.3,
      encoding: 'json',
      gzip: false,
      concurrency: 1,
    });
    expect(Object.keys(gone.statuses)).toEqual(['error:ECONNREFUSED']);
  });
});

describe('nrdot loadgen', () => {
  it('prints a JSON summary, and exits 2 naming a bad flag', async () => {
    const sink = new RecordingSink();
    rx = await startOtlpReceiver({ ...RECEIVER, listen: '127.0.0.1:0', sink });
    const origin = new URL(rx.url).origin; // a bare origin gets /v1/metrics
    const r = await nrdot([
      'loadgen',
      '--target',
      origin,
      '--rate',
      '4',
      '--processes',
      '10',
      '--duration',
      '1',
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.statuses['200']).toBeGreaterThanOrEqual(1);
    expect(s.pointsPerRequest).toBe(150);
    expect(sink.points).toBe(s.statuses['200'] * 150);

    const text = await nrdot([
      'loadgen',
      '--target',
      rx.url,
      '--rate',
      '3',
      '--processes',
      '5',
      '--duration',
      '1.5',
      '--gzip',
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^t=1s sent=\d+ .*points\/s=.* p99=.*\[200:\d+\]$/m);
    expect(text.stdout).toMatch(/data points: [\d,]+ \/s accepted/);

    const bad = await nrdot(['loadgen', '--target', rx.url, '--rate', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--rate expects a number above 0, got '0'/);
    const badUrl = await nrdot(['loadgen', '--target', 'not a url']);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toMatch(/--target expects an http\(s\) URL/);
  });
});
