import { describe, expect, it } from 'vitest';
import { ManualClock, type RetryEvent, retryLayer, type SendResult } from '../../../src/exporters/chain/index.js';
import { RETRY } from '../../helpers/defaults.js';
import { httpFailure, NETWORK, OK, REQ, scripted } from './helpers.js';

/** random() = 0.5 makes the jitter factor exactly 1 */
const NO_JITTER = () => 0.5;

describe('retryLayer', () => {
  it('waits at least the server Retry-After (429, Retry-After 2 s) before the next attempt', async () => {
    const clock = new ManualClock();
    const next = scripted(httpFailure(429, 2000), OK);
    const res = await retryLayer({ ...RETRY, clock, random: NO_JITTER, initialMs: 100 })(next)(REQ);
    expect(res.ok).toBe(true);
    expect(next.calls).toBe(2);
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(2000);
  });

  it('503 three times then 200: one success after 3 retries with growing delays', async () => {
    const clock = new ManualClock();
    const events: RetryEvent[] = [];
    const next = scripted(httpFailure(503), httpFailure(503), httpFailure(503), OK);
    const retry = retryLayer({ ...RETRY, clock, random: NO_JITTER, onRetry: (e) => events.push(e) });
    const res = await retry(next)(REQ);
    expect(res).toEqual(OK);
    expect(next.calls).toBe(4);
    expect(clock.sleeps).toEqual([500, 1000, 2000]);
    expect(events.map((e) => [e.attempt, e.reason])).toEqual([
      [1, '503'],
      [2, '503'],
      [3, '503'],
    ]);
    expect(retry.stats()).toEqual({ attempts: 4, retries: 3, retriesByReason: { '503': 3 }, exhausted: 0 });
  });

  it('never retries a non-retryable failure (400) and returns it unchanged', async () => {
    const clock = new ManualClock();
    const bad = httpFailure(400);
    const next = scripted(bad, OK);
    const retry = retryLayer({ ...RETRY, clock });
    const res = await retry(next)(REQ);
    expect(res).toEqual(bad);
    expect(next.calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
    expect(retry.stats().retries).toBe(0);
  });

  it('returns a partial success as it is, without retrying', async () => {
    const partial: SendResult = { ok: true, bytes: 3, status: 200, rejectedDataPoints: 2, partialSuccessMessage: 'x' };
    const next = scripted(partial, OK);
    const res = await retryLayer({ ...RETRY, clock: new ManualClock() })(next)(REQ);
    expect(res).toEqual(partial);
    expect(next.calls).toBe(1);
  });

  it('503 forever: bounded attempts, then the last failure, retryable, with the next wait as retryAfterMs', async () => {
    const clock = new ManualClock();
    const next = scripted(httpFailure(503));
    const retry = retryLayer({ ...RETRY, clock, random: NO_JITTER, maxAttempts: 4 });
    const res = await retry(next)(REQ);
    expect(next.calls).toBe(4);
    expect(res).toMatchObject({ ok: false, status: 503, retryable: true, retryAfterMs: 4000 });
    expect(clock.sleeps).toEqual([500, 1000, 2000]);
    expect(retry.stats()).toMatchObject({ attempts: 4, retries: 3, exhausted: 1 });
  });

  it('stops before a wait that would end past maxElapsedMs', async () => {
    const clock = new ManualClock();
    const next = scripted(NETWORK);
    const retry = retryLayer({ ...RETRY, clock, random: NO_JITTER, maxAttempts: 100, maxElapsedMs: 5000 });
    const res = await retry(next)(REQ);
    // waits 500 + 1000 + 2000 = 3500; the next (4000) would end at 7500 > 5000
    expect(clock.sleeps).toEqual([500, 1000, 2000]);
    expect(clock.now()).toBeLessThanOrEqual(5000);
    expect(res).toMatchObject({ ok: false, retryable: true, retryAfterMs: 4000 });
    expect(retry.stats().retriesByReason).toEqual({ network: 3 });
  });

  it('keeps a server Retry-After longer than the computed wait when giving up', async () => {
    const clock = new ManualClock();
    const next = scripted(httpFailure(429, 120_000));
    const res = await retryLayer({ ...RETRY, clock, maxElapsedMs: 60_000 })(next)(REQ);
    expect(next.calls).toBe(1);
    expect(clock.sleeps).toEqual([]);
    expect(res).toMatchObject({ status: 429, retryable: true, retryAfterMs: 120_000 });
  });

  it('caps the backoff at maxMs and spreads it by ±jitter', async () => {
    const delays = async (random: () => number) => {
      const clock = new ManualClock();
      const opts = {
        ...RETRY,
        clock,
        random,
        initialMs: 1000,
        maxMs: 3000,
        jitter: 0.2,
        maxAttempts: 5,
        maxElapsedMs: 1e9,
      };
      await retryLayer(opts)(scripted(httpFailure(502)))(REQ);
      return clock.sleeps;
    };
    expect(await delays(NO_JITTER)).toEqual([1000, 2000, 3000, 3000]);
    expect(await delays(() => 0)).toEqual([800, 1600, 2400, 2400]);
    expect(await delays(() => 0.999999)).toEqual([1200, 2400, 3600, 3600]);
  });

  it('an abort ends the wait at once and returns the last failure', async () => {
    const clock = new ManualClock({ autoAdvance: false });
    const next = scripted(httpFailure(503), OK);
    const ac = new AbortController();
    const retry = retryLayer({ ...RETRY, clock, random: NO_JITTER });
    const p = retry(next)(REQ, ac.signal);
    await new Promise((r) => setImmediate(r));
    expect(clock.pending).toBe(1);
    clock.advance(200);
    ac.abort();
    const res = await p;
    expect(next.calls).toBe(1);
    expect(res).toMatchObject({ ok: false, status: 503, retryable: true, retryAfterMs: 300 });
    expect(retry.stats()).toMatchObject({ attempts: 1, retries: 0, exhausted: 1 });
  });

  it('rejects bad options with a RangeError naming the option', () => {
    expect(() => retryLayer({ ...RETRY, initialMs: 0 })).toThrow(/'initialMs'/);
    expect(() => retryLayer({ ...RETRY, initialMs: 100, maxMs: 50 })).toThrow(/'maxMs'/);
    expect(() => retryLayer({ ...RETRY, jitter: 1 })).toThrow(/'jitter'/);
    expect(() => retryLayer({ ...RETRY, maxAttempts: 1.5 })).toThrow(RangeError);
    expect(() => retryLayer({ ...RETRY, multiplier: 0.5 })).toThrow(/'multiplier'/);
    expect(() => retryLayer({ ...RETRY, maxElapsedMs: Number.NaN })).toThrow(/'maxElapsedMs'/);
    // options are complete: the defaults live in configs/default.yaml, not here
    expect(() => retryLayer({ ...RETRY, maxAttempts: undefined as unknown as number })).toThrow(/'maxAttempts'/);
  });
});
