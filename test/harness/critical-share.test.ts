/** The load generator's critical share and its reading of partial success answers. */
import { describe, expect, it } from 'vitest';
import { criticalTest } from '../../src/control/index.js';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import { rejectedPointsOf } from '../../src/harness/load.js';
import { encodeResponse } from '../../src/otlp/proto.js';
import { DEFAULTS } from '../helpers/defaults.js';

describe('criticalShare', () => {
  it('names exactly floor(n x share) processes as the default rules make critical, and none of the rest', () => {
    const isCritical = criticalTest(DEFAULTS.classification);
    for (const [n, share, want] of [
      [40, 0.25, 10],
      [1000, 0.05, 50],
      [7, 0.5, 3],
      [5, 0, 0],
      [5, 1, 5],
    ] as const) {
      const src = new HostmetricsSource({ processes: n, criticalShare: share });
      expect(src.processes.filter((p) => isCritical(p.name, p.exe, p.cmdline))).toHaveLength(want);
    }
    expect(() => new HostmetricsSource({ processes: 1, criticalShare: 1.5 })).toThrow(/criticalShare/);
  });
});

describe('rejectedPointsOf', () => {
  it('reads rejected_data_points from protobuf and JSON answers; 0 for empty or unreadable ones', () => {
    const pb = encodeResponse({ partialSuccess: { rejectedDataPoints: 450, errorMessage: 'x' } });
    expect(rejectedPointsOf(pb, 'application/x-protobuf')).toBe(450);
    const js = Buffer.from(JSON.stringify({ partialSuccess: { rejectedDataPoints: '12' } }));
    expect(rejectedPointsOf(js, 'application/json')).toBe(12);
    expect(rejectedPointsOf(new Uint8Array(0), 'application/x-protobuf')).toBe(0);
    expect(rejectedPointsOf(Buffer.from('{'), 'application/json')).toBe(0);
  });
});
