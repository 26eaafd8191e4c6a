/**
 * A received process whose disk I/O counter is past 2^53 (a valid int64 a
 * double cannot hold exactly), posted over real HTTP to `run --no-scan
 * --otlp-listen`: the value is unknown to nrdot, so its group's roll-up
 * has no disk I/O sum from it (and no sum rounded), while the same
 * process's memory and CPU are still summed and exported.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import type { ExportMetricsServiceRequest, KeyValue } from '../../src/otlp/model.js';
import { encodeRequest } from '../../src/otlp/proto.js';
import { ProcessMetric } from '../../src/telemetry/names.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { startAgent } from '../helpers/cli.js';
import { attr, isRollup, metric, pointValue, readRequests } from '../helpers/otlp-file.js';

const tmp = fastTmpDir('nrdot-huge-received-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const HUGE = '9223372036854775000';
const T = [1_790_000_000_000, 1_790_000_010_000];

const setStr = (attrs: KeyValue[], key: string, value: string) => {
  const kv = attrs.find((a) => a.key === key);
  if (kv) kv.value = { stringValue: value };
  else attrs.push({ key, value: { stringValue: value } });
};

const MIB = 1024 * 1024;

/**
 * The round's request with two processes renamed `sleep` (a noise name: rolled
 * up, in a group of their own) and made large enough (150 MiB, under every
 * keep threshold) for that group to get its own roll-up; the first one's
 * read_bytes is past 2^53.
 */
function withHuge(req: ExportMetricsServiceRequest, pids: number[]): ExportMetricsServiceRequest {
  for (const [k, pid] of pids.entries()) {
    const rm = req.resourceMetrics.find((r) => attr(r, 'process.pid') === pid)!;
    const attrs = rm.resource.attributes;
    setStr(attrs, 'process.executable.name', 'sleep');
    setStr(attrs, 'process.executable.path', '/usr/bin/sleep');
    setStr(attrs, 'process.command_line', 'sleep 100000');
    const args = attrs.findIndex((a) => a.key === 'process.command_args');
    if (args >= 0) attrs.splice(args, 1);
    const mem = metric(rm, ProcessMetric.memoryUsage)!;
    for (const p of mem.sum?.dataPoints ?? mem.gauge!.dataPoints) {
      p.asInt = String(150 * MIB);
      delete p.asDouble;
    }
    if (k > 0) continue;
    const io = metric(rm, ProcessMetric.diskIo)!;
    const read = io.sum!.dataPoints.find((p) =>
      p.attributes?.some((a) => a.key === 'direction' && (a.value as { stringValue?: string }).stringValue === 'read'),
    )!;
    read.asInt = HUGE;
  }
  return req;
}

describe('a received counter past 2^53', () => {
  it('adds nothing to its group sum; the process is still summed for its other values', async () => {
    const out = path.join(tmp, 'out.jsonl');
    const agent = startAgent([
      'run',
      '--no-scan',
      ...['--cycles', '2', '--profile', 'aggressive'],
      ...['--otlp-listen', '127.0.0.1:0', '--listen', 'off', '--export', `file:${out}`],
    ]);
    const source = new HostmetricsSource({ processes: 200, hostName: 'h9', seed: 5, nowMs: T[0]! });
    const withIo = source
      .request(T[0]!)
      .resourceMetrics.filter((rm) => metric(rm, ProcessMetric.diskIo) !== undefined && attr(rm, 'process.pid') !== 1);
    const pids = withIo.slice(-2).map((rm) => Number(attr(rm, 'process.pid')));
    expect(pids).toHaveLength(2);
    try {
      const url = await agent.receiverUrl();
      for (const t of T) {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf', 'content-encoding': 'gzip' },
          body: gzipSync(encodeRequest(withHuge(source.request(t), pids))),
        });
        await res.body.arrayBuffer();
        expect(res.statusCode).toBe(200);
      }
    } catch (e) {
      agent.kill();
      throw e;
    }
    expect((await agent.exited).code, agent.stderr()).toBe(0);

    const all = readRequests(out).flatMap((r) => r.resourceMetrics);
    // rolled up (not kept): neither goes out as its own resource
    expect(all.filter((rm) => pids.includes(Number(attr(rm, 'process.pid'))))).toEqual([]);
    const mine = all.filter((rm) => isRollup(rm) && attr(rm, 'process.executable.name') === 'sleep');
    expect(mine).toHaveLength(2);
    for (const rm of mine) {
      const members = Number(pointValue(rm, 'nrdot.rollup.count'));
      expect(members).toBeGreaterThanOrEqual(2);
      // memory counts every member, the one with the huge counter too
      expect(pointValue(rm, ProcessMetric.memoryUsage)).toBeGreaterThanOrEqual(2 * 150 * MIB);
      // disk I/O: summed over the members that could give it, not the huge one (a sum past 2^53 would be left out)
      const io = metric(rm, ProcessMetric.diskIo);
      expect(io, JSON.stringify(rm)).toBeDefined();
      for (const p of io!.sum!.dataPoints) expect(Number.isSafeInteger(Number(p.asInt))).toBe(true);
      const contributors = pointValue(rm, 'nrdot.rollup.contributors', 'metric', ProcessMetric.diskIo);
      expect(contributors).toBeLessThan(members);
    }
  }, 60_000);
});
