import { describe, expect, it } from 'vitest';
import { HostmetricsSource } from '../../../src/harness/hostmetrics.js';
import { type ExportMetricsServiceRequest, int, type ResourceMetrics, str } from '../../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../../src/otlp/proto.js';
import { FLAG_DETAIL, FLAG_NEW_IDENTITY, startEpochSec, UNKNOWN } from '../../../src/sources/batch.js';
import { groupByHost, nanosToSec, splitRequest, toProcessBatch } from '../../../src/sources/receiver/mapping.js';
import { otherTypesResource, processWithOddMetric } from './fixtures.js';

const NOW = 1_732_300_000_000;

function names(rm: ResourceMetrics): string[] {
  return rm.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => m.name));
}

describe('splitRequest', () => {
  it('passes non-process resources and histogram/exponential/summary metrics through intact', () => {
    const src = new HostmetricsSource({ processes: 3, nowMs: NOW, hostName: 'h1' });
    const other = otherTypesResource();
    const odd = processWithOddMetric(77);
    const req: ExportMetricsServiceRequest = {
      resourceMetrics: [other, ...src.request(NOW + 10_000).resourceMetrics, odd],
    };
    // through the wire first: what the receiver would hand over
    const decoded = decodeRequest(encodeRequest(req));
    const { processes, passthrough } = splitRequest(decoded);

    expect(processes).toHaveLength(4);
    // a process resource stays whole: the metric nrdot does not model travels with it
    expect(processes.slice(0, 3).map((r) => names(r).length)).toEqual([10, 10, 10]);
    for (const rm of processes.slice(0, 3)) expect(names(rm)).toContain('process.signals_pending');
    expect(processes[3]).toStrictEqual(odd);

    expect(passthrough.resourceMetrics).toHaveLength(1);
    expect(passthrough.resourceMetrics[0]).toStrictEqual(other);
  });

  it('passes a process resource without any modelled metric through', () => {
    const only = processWithOddMetric(78);
    only.scopeMetrics[0]!.metrics = only.scopeMetrics[0]!.metrics.slice(1);
    const { processes, passthrough } = splitRequest({ resourceMetrics: [only] });
    expect(processes).toEqual([]);
    expect(passthrough.resourceMetrics).toEqual([only]);
  });

  it('passes a request without process resources through as it is', () => {
    const req = { resourceMetrics: [otherTypesResource()] };
    const { processes, passthrough } = splitRequest(req);
    expect(processes).toEqual([]);
    expect(passthrough.resourceMetrics[0]).toBe(req.resourceMetrics[0]);
  });
});

describe('groupByHost', () => {
  it('groups by host.name, with "" for resources without one', () => {
    const a = new HostmetricsSource({ processes: 2, hostName: 'a', nowMs: NOW }).request(NOW).resourceMetrics;
    const b = new HostmetricsSource({ processes: 1, hostName: 'b', nowMs: NOW }).request(NOW).resourceMetrics;
    const none: ResourceMetrics = { resource: { attributes: [int('process.pid', 9)] }, scopeMetrics: [] };
    const groups = groupByHost([a[0], b[0], none, a[1]]);
    expect([...groups.keys()]).toEqual(['a', 'b', '']);
    expect(groups.get('a')).toEqual([a[0], a[1]]);
    expect(groups.get('')).toEqual([none]);
  });
});

describe('toProcessBatch', () => {
  it('maps hostmetrics process resources to batch columns', () => {
    const src = new HostmetricsSource({ processes: 20, nowMs: NOW, seed: 9 });
    const t = NOW + 30_000;
    const { processes } = splitRequest(decodeRequest(encodeRequest(src.request(t))));
    const b = toProcessBatch(processes, src.hostName, t + 5);
    expect(b.count).toBe(20);
    expect(b.host).toMatchObject({ hostname: src.hostName, bootTimeSec: 0, clkTck: 100, cpuCount: 1 });
    expect(b.host.uptimeSec).toBe(t / 1000);
    expect(b.scannedAtMs).toBe(t + 5);
    for (let i = 0; i < b.count; i++) {
      const p = src.processes[i];
      const age = (t - p.startEpochMs) / 1000;
      expect(b.pid[i]).toBe(p.pid);
      expect(b.ppid[i]).toBe(p.ppid);
      expect(startEpochSec(b, i)).toBeCloseTo(p.startEpochMs / 1000, 6);
      expect(b.utimeSec[i]).toBeCloseTo(p.cpuRate[0] * age, 9);
      expect(b.stimeSec[i]).toBeCloseTo(p.cpuRate[1] * age, 9);
      expect(b.iowaitSec[i]).toBeCloseTo(p.cpuRate[2] * age, 9);
      expect(b.vsizeBytes[i]).toBe(p.vsizeBytes);
      expect(b.rssBytes[i]).toBeGreaterThan(0);
      expect(b.readBytes[i]).toBe(Math.floor(p.ioRate[0] * age));
      expect(b.writeBytes[i]).toBe(Math.floor(p.ioRate[1] * age));
      expect(b.threads[i]).toBe(p.threads);
      expect(b.fds[i]).toBe(p.fds);
      expect(b.majFaults[i]).toBe(Math.floor(p.faultRate[0] * age));
      expect(b.minFaults[i]).toBe(Math.floor(p.faultRate[1] * age));
      expect(b.volCtx[i]).toBe(Math.floor(p.ctxRate[0] * age));
      expect(b.involCtx[i]).toBe(Math.floor(p.ctxRate[1] * age));
      expect(b.flags[i]).toBe(FLAG_NEW_IDENTITY | FLAG_DETAIL);
      expect(b.freshRows[i]).toBe(i);
      expect(b.freshName[i]).toBe(p.name);
      expect(b.freshCmdline[i]).toBe(p.cmdline);
      expect(b.freshExe[i]).toBe(p.exe);
      expect(b.freshOwner[i]).toBe(p.owner);
      expect(b.freshCgroup[i]).toBe(''); // the scraper sends no cgroup
      expect(b.uid[i]).toBe(UNKNOWN); // owner names are not numeric
    }
  });

  it('keeps identities stable across requests while values advance', () => {
    const src = new HostmetricsSource({ processes: 5, nowMs: NOW });
    const one = toProcessBatch(splitRequest(src.request(NOW)).processes, 'h', NOW);
    const two = toProcessBatch(splitRequest(src.request(NOW + 10_000)).processes, 'h', NOW + 10_000);
    expect(Array.from(two.startTicks)).toEqual(Array.from(one.startTicks));
    expect(Array.from(two.pid)).toEqual(Array.from(one.pid));
    for (let i = 0; i < 5; i++) expect(two.utimeSec[i]).toBeGreaterThan(one.utimeSec[i]);
    expect(two.host.uptimeSec - one.host.uptimeSec).toBe(10);
  });

  it('leaves missing metrics UNKNOWN and reads command_args, numeric owners and cpu count', () => {
    const rm: ResourceMetrics = {
      resource: {
        attributes: [
          int('process.pid', 4242),
          str('process.command', '/bin/sh'),
          {
            key: 'process.command_args',
            value: {
              arrayValue: { values: [{ stringValue: '/bin/sh' }, { stringValue: '-c' }, { stringValue: 'x' }] },
            },
          },
          str('process.owner', '1000'),
          str('process.cgroup', '0::/system.slice/cron.service'),
          int('host.cpu.count', 8),
        ],
      },
      scopeMetrics: [
        {
          scope: { name: 's' },
          metrics: [
            {
              name: 'process.memory.usage',
              sum: {
                aggregationTemporality: 2,
                isMonotonic: false,
                dataPoints: [
                  { startTimeUnixNano: '1700000000500000000', timeUnixNano: '1700000100000000000', asInt: '8192' },
                ],
              },
            },
          ],
        },
      ],
    };
    const b = toProcessBatch([rm], '', 1_700_000_100_123);
    expect(b.host.cpuCount).toBe(8);
    expect(b.pid[0]).toBe(4242);
    expect(b.ppid[0]).toBe(UNKNOWN);
    expect(b.rssBytes[0]).toBe(8192);
    expect(startEpochSec(b, 0)).toBeCloseTo(1_700_000_000.5, 6);
    expect(b.freshCmdline[0]).toBe('/bin/sh -c x');
    expect(b.freshName[0]).toBe('');
    expect(b.freshCgroup).toEqual(['0::/system.slice/cron.service']);
    expect(b.uid[0]).toBe(1000);
    for (const col of [
      b.utimeSec,
      b.stimeSec,
      b.iowaitSec,
      b.vsizeBytes,
      b.readBytes,
      b.writeBytes,
      b.volCtx,
    ] as const) {
      expect(col[0]).toBe(UNKNOWN);
    }
    expect(b.threads[0]).toBe(UNKNOWN);
    expect(b.fds[0]).toBe(UNKNOWN);
    expect(b.host.uptimeSec).toBe(1_700_000_100);
  });

  it('maps a count a double cannot hold exactly to UNKNOWN, keeping the other values and the latest time', () => {
    const pt = (v: { asInt?: string; asDouble?: number }, attr?: [string, string], time = '1700000100000000000') => ({
      startTimeUnixNano: '1700000000000000000',
      timeUnixNano: time,
      ...v,
      ...(attr ? { attributes: [str(attr[0], attr[1])] } : {}),
    });
    const sum = (name: string, dataPoints: ReturnType<typeof pt>[]) => ({
      name,
      sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints },
    });
    const rm: ResourceMetrics = {
      resource: { attributes: [int('process.pid', 7)] },
      scopeMetrics: [
        {
          scope: { name: 's' },
          metrics: [
            // past 2^53 (Number() would round it to 2^53 + 8) / a valid int64 near 2^63
            sum('process.disk.io', [
              pt({ asInt: '9007199254740999' }, ['direction', 'read']),
              pt({ asInt: '4096' }, ['direction', 'write']),
            ]),
            sum('process.memory.usage', [pt({ asInt: '9223372036854775000' })]),
            sum('process.memory.virtual', [pt({ asInt: '8192' })]),
            // a fractional count is not one either
            sum('process.paging.faults', [
              pt({ asDouble: 12.5 }, ['type', 'minor']),
              pt({ asDouble: 3 }, ['type', 'major']),
            ]),
            // the latest time of a metric nrdot does not model still counts
            {
              name: 'process.signals_pending',
              gauge: { dataPoints: [pt({ asInt: '0' }, undefined, '1700000200000000000')] },
            },
          ],
        },
      ],
    };
    const b = toProcessBatch([rm], '', 1_700_000_300_000);
    expect([b.readBytes[0], b.rssBytes[0], b.minFaults[0]]).toEqual([UNKNOWN, UNKNOWN, UNKNOWN]);
    expect([b.writeBytes[0], b.vsizeBytes[0], b.majFaults[0]]).toEqual([4096, 8192, 3]);
    expect(b.timeUnixNano).toBe('1700000200000000000');
  });

  it('converts nanosecond strings to seconds', () => {
    expect(nanosToSec('1732300000123456789')).toBeCloseTo(1732300000.1234567, 6);
    expect(nanosToSec('5')).toBe(5e-9);
    expect(nanosToSec('0')).toBe(0);
  });
});
