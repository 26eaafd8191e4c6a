/**
 * Admission of received requests by size against the memory governor, with
 * injected memory readings: whole while there is room below critical_only,
 * the critical part only above that, 503 at refuse_input or when even the
 * critical part does not fit; reservations never take the agent past the
 * hardest tier's threshold.
 */
import { describe, expect, it } from 'vitest';
import {
  COST_FACTORS,
  CRITICAL_ONLY_TIER,
  InputAdmission,
  MAX_TIER,
  MemoryGovernor,
  TIER_THRESHOLDS,
} from '../../src/control/index.js';
import { GOVERNOR } from '../helpers/defaults.js';

const MIB = 1024 * 1024;
const LIMIT = 100 * MIB;

function setup(fraction: number) {
  let rss = fraction * LIMIT;
  const gov = new MemoryGovernor({ ...GOVERNOR, limitMib: LIMIT / MIB, readMemoryBytes: () => rss });
  const adm = new InputAdmission({ governor: gov, retryAfterSec: 7 });
  return {
    gov,
    adm,
    set(f: number) {
      rss = f * LIMIT;
    },
    /** readings until the tier settles (one step per reading) */
    settle() {
      for (let i = 0; i <= MAX_TIER; i++) gov.check();
    },
  };
}

const pb = (mib: number) => ({ bytes: mib * MIB, encoding: 'protobuf' as const, gzip: false });

describe('InputAdmission', () => {
  it('admits whole while the cost fits below 90%, then the critical part up to 95%, then refuses with Retry-After', () => {
    const s = setup(0.5);
    s.settle();
    // 1 MiB protobuf costs 6 MiB whole, 2 MiB to shed
    const modes: string[] = [];
    const tickets = [];
    for (let i = 0; i < 12; i++) {
      const t = s.adm.open(pb(1));
      tickets.push(t);
      modes.push(t.decision.mode);
    }
    // 50% + 6 x 6 MiB = 86%; a 7th would be 92% > 90%: shed (2 MiB each up to 95%: 88, 90, 92, 94), then refuse
    expect(modes).toEqual([
      'full',
      'full',
      'full',
      'full',
      'full',
      'full',
      'critical',
      'critical',
      'critical',
      'critical',
      'refuse',
      'refuse',
    ]);
    expect(s.gov.reservedBytes).toBe(6 * 6 * MIB + 4 * 2 * MIB);
    const refused = tickets[10]!.decision;
    expect(refused).toMatchObject({ mode: 'refuse', retryAfterSec: 7 });
    expect(refused.mode === 'refuse' && refused.reason).toMatch(/no room for even the critical part/);
    expect(s.adm.counts).toEqual({ full: 6, critical: 4, refused: 2, downgraded: 0 });
    for (const t of tickets) {
      t.release();
      t.release();
    }
    expect(s.gov.reservedBytes).toBe(0);
    // room again: whole
    expect(s.adm.open(pb(1)).decision.mode).toBe('full');
  });

  it('critical_only admits only the critical part even of a tiny request; refuse_input refuses before the body', () => {
    const s = setup(0.91);
    s.settle();
    expect(s.gov.tier).toBe(CRITICAL_ONLY_TIER);
    const small = s.adm.open({ bytes: 100, encoding: 'json', gzip: false });
    expect(small.decision.mode).toBe('critical');
    small.release();
    s.set(0.96);
    s.settle();
    expect(s.gov.tier).toBe(MAX_TIER);
    const d = s.adm.open({ bytes: 100, encoding: 'json', gzip: false }).decision;
    expect(d).toMatchObject({ mode: 'refuse', retryAfterSec: 7 });
    expect(d.mode === 'refuse' && d.reason).toMatch(/refuse_input/);
    expect(s.gov.reservedBytes).toBe(0);
  });

  it('decides again on the real size: a gzip body admitted whole on its guess is shed once it inflates, and counted as downgraded', () => {
    const s = setup(0.5);
    s.settle();
    // 1 MiB gzip guessed at 8 MiB decompressed = 48 MiB whole: too much; shed guess 16 MiB fits
    const big = s.adm.open({ bytes: 1 * MIB, encoding: 'protobuf', gzip: true });
    expect(big.decision.mode).toBe('critical');
    big.release();
    const t = s.adm.open({ bytes: 256 * 1024, encoding: 'protobuf', gzip: true }); // guess 2 MiB: 12 MiB whole
    expect(t.decision.mode).toBe('full');
    expect(s.gov.reservedBytes).toBe(12 * MIB);
    expect(t.sized(7 * MIB).mode).toBe('critical'); // 42 MiB whole would pass 90%; 14 MiB shed fits
    expect(s.gov.reservedBytes).toBe(14 * MIB);
    expect(s.adm.counts).toMatchObject({ full: 0, critical: 2, downgraded: 1 });
    // once shed, only what was kept is reserved, at the full cost per byte
    expect(t.kept(1 * MIB).mode).toBe('critical');
    expect(s.gov.reservedBytes).toBe(COST_FACTORS.protobuf * MIB);
    t.release();
    expect(s.gov.reservedBytes).toBe(0);
  });

  it("a request's own reservation is not counted against it when it is decided again", () => {
    const s = setup(0.5);
    s.settle();
    const t = s.adm.open(pb(6)); // 36 MiB: 86%
    expect(t.decision.mode).toBe('full');
    expect(t.sized(6 * MIB).mode).toBe('full');
    expect(s.gov.reservedBytes).toBe(36 * MIB);
    t.release();
  });

  it('reservations never take the last reading past 95% of the limit, whatever the order of requests (seeded)', () => {
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let run = 0; run < 20; run++) {
      const base = 0.3 + rnd() * 0.6;
      const s = setup(base);
      s.settle();
      const open: ReturnType<InputAdmission['open']>[] = [];
      for (let step = 0; step < 300; step++) {
        const r = rnd();
        if (r < 0.5) {
          const enc = rnd() < 0.5 ? 'protobuf' : 'json';
          const t = s.adm.open({ bytes: Math.floor(rnd() * 4 * MIB), encoding: enc, gzip: rnd() < 0.3 });
          if (t.decision.mode !== 'refuse') open.push(t);
          if (t.decision.mode === 'full') {
            expect(base * LIMIT + s.gov.reservedBytes).toBeLessThanOrEqual(
              TIER_THRESHOLDS[CRITICAL_ONLY_TIER]! * LIMIT + 1,
            );
          }
        } else if (r < 0.7 && open.length) {
          open[Math.floor(rnd() * open.length)]!.sized(Math.floor(rnd() * 8 * MIB));
        } else if (r < 0.8 && open.length) {
          open[Math.floor(rnd() * open.length)]!.kept(Math.floor(rnd() * MIB));
        } else if (open.length) {
          open.splice(Math.floor(rnd() * open.length), 1)[0]!.release();
        }
        if (base < TIER_THRESHOLDS[MAX_TIER]!) {
          expect(base * LIMIT + s.gov.reservedBytes).toBeLessThanOrEqual(TIER_THRESHOLDS[MAX_TIER]! * LIMIT + 1);
        } else {
          expect(s.gov.reservedBytes).toBe(0);
        }
      }
      for (const t of open) t.release();
      expect(s.gov.reservedBytes).toBe(0);
      const c = s.adm.counts;
      expect(c.full + c.critical + c.refused).toBeGreaterThan(0);
    }
  });

  it('with the governor off (limit 0) every request is admitted whole and nothing is reserved', () => {
    const gov = new MemoryGovernor({ ...GOVERNOR, limitMib: 0 });
    const adm = new InputAdmission({ governor: gov });
    const t = adm.open(pb(500));
    expect(t.decision.mode).toBe('full');
    expect(t.sized(900 * MIB).mode).toBe('full');
    expect(gov.reservedBytes).toBe(0);
  });
});
