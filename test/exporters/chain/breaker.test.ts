import { describe, expect, it } from 'vitest';
import {
  type BreakerStateChange,
  CircuitBreaker,
  ManualClock,
  type SendResult,
} from '../../../src/exporters/chain/index.js';
import { BREAKER } from '../../helpers/defaults.js';
import { capturingLogger, controlled, httpFailure, INFO, NETWORK, OK, REQ, scripted, WARN } from './helpers.js';

function make(o: { failureThreshold?: number; openMs?: number; maxOpenMs?: number; multiplier?: number } = {}) {
  const clock = new ManualClock({ autoAdvance: false });
  const log = capturingLogger();
  const changes: BreakerStateChange[] = [];
  const breaker = new CircuitBreaker({
    name: 'otlp:http://collector:4318/v1/metrics',
    failureThreshold: 3,
    openMs: 1000,
    maxOpenMs: 5000,
    ...o,
    clock,
    logger: log.logger,
    onStateChange: (e) => changes.push(e),
  });
  return { clock, breaker, changes, lines: log.lines };
}

async function sendN(send: (r: typeof REQ) => Promise<SendResult>, n: number): Promise<SendResult[]> {
  const out: SendResult[] = [];
  for (let i = 0; i < n; i++) out.push(await send(REQ));
  return out;
}

describe('CircuitBreaker', () => {
  it('opens after failureThreshold consecutive retryable failures and then refuses without calling next', async () => {
    const { breaker, changes, clock } = make();
    const next = scripted(httpFailure(503));
    const send = breaker.layer(next);
    await sendN(send, 2);
    expect(breaker.state).toBe('closed');
    await send(REQ);
    expect(breaker.state).toBe('open');
    expect(next.calls).toBe(3);

    clock.advance(400);
    const refused = await send(REQ);
    expect(next.calls).toBe(3);
    expect(refused).toMatchObject({ ok: false, retryable: true, breakerOpen: true, retryAfterMs: 600 });
    expect(refused.error).toMatch(/^circuit open \(/);
    expect(breaker.stats()).toMatchObject({ state: 'open', timesOpened: 1, consecutiveFailures: 3, rejected: 1 });
    expect(changes.map((c) => [c.from, c.to])).toEqual([['closed', 'open']]);
  });

  it('a success resets the count; non-retryable 4xx failures do not count', async () => {
    const { breaker } = make();
    const next = scripted(
      NETWORK,
      NETWORK,
      OK,
      NETWORK,
      NETWORK,
      httpFailure(400),
      httpFailure(413),
      httpFailure(400),
      httpFailure(400),
    );
    await sendN(breaker.layer(next), 9);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats().consecutiveFailures).toBe(2);
    expect(next.calls).toBe(9);
  });

  it('lets exactly one probe through in half-open, refusing concurrent calls; probe success closes', async () => {
    const { breaker, clock, changes } = make();
    const next = controlled();
    const send = breaker.layer(next);
    for (let i = 0; i < 3; i++) {
      const p = send(REQ);
      next.pending.shift()!(NETWORK);
      await p;
    }
    expect(breaker.state).toBe('open');
    clock.advance(1000);
    expect(breaker.state).toBe('half_open');

    const calls = [send(REQ), send(REQ), send(REQ), send(REQ), send(REQ)];
    await new Promise((r) => setImmediate(r));
    expect(next.calls).toBe(4); // 3 before + 1 probe
    const settled = await Promise.all(calls.slice(1));
    expect(settled.every((r) => r.breakerOpen === true && r.retryable === true && !r.ok)).toBe(true);

    next.pending.shift()!(OK);
    expect(await calls[0]).toEqual(OK);
    expect(breaker.state).toBe('closed');
    expect(breaker.stats()).toMatchObject({ consecutiveFailures: 0, openDurationMs: 1000, rejected: 4 });
    expect(changes.map((c) => c.to)).toEqual(['open', 'half_open', 'closed']);

    const after = send(REQ);
    next.pending.shift()!(OK);
    expect(await after).toEqual(OK);
  });

  it('a failed probe reopens for longer (× multiplier, up to maxOpenMs); a good probe resets the open time', async () => {
    const { breaker, clock, changes } = make({ openMs: 1000, maxOpenMs: 5000, multiplier: 2 });
    let answer: SendResult = NETWORK;
    const next = scripted(OK);
    const send = breaker.layer(async (r) => {
      await next(r);
      return answer;
    });
    await sendN(send, 3);
    const openFor: number[] = [];
    for (let i = 0; i < 4; i++) {
      openFor.push(breaker.stats().retryInMs);
      clock.advance(breaker.stats().retryInMs);
      await send(REQ); // the probe, failing
    }
    openFor.push(breaker.stats().retryInMs);
    expect(openFor).toEqual([1000, 2000, 4000, 5000, 5000]);
    expect(breaker.stats().timesOpened).toBe(5);

    answer = OK;
    clock.advance(5000);
    expect(await send(REQ)).toEqual(OK);
    expect(breaker.state).toBe('closed');

    answer = NETWORK;
    await sendN(send, 3);
    expect(breaker.stats()).toMatchObject({ state: 'open', retryInMs: 1000, openDurationMs: 1000 });
    expect(changes.filter((c) => c.to === 'open').map((c) => c.openForMs)).toEqual([
      1000, 2000, 4000, 5000, 5000, 1000,
    ]);
  });

  it('a server Retry-After longer than the open time keeps it open that long, once', async () => {
    const { breaker, clock } = make({ openMs: 1000 });
    const send = breaker.layer(scripted(NETWORK, NETWORK, httpFailure(429, 30_000), OK));
    await sendN(send, 3);
    expect(breaker.stats()).toMatchObject({ state: 'open', retryInMs: 30_000, openDurationMs: 1000 });
    clock.advance(29_999);
    expect((await send(REQ)).breakerOpen).toBe(true);
    clock.advance(1);
    expect(await send(REQ)).toEqual(OK);
    expect(breaker.state).toBe('closed');
  });

  it('a non-retryable probe result frees the probe slot without changing state', async () => {
    const { breaker, clock } = make();
    const send = breaker.layer(scripted(NETWORK, NETWORK, NETWORK, httpFailure(400), OK));
    await sendN(send, 3);
    clock.advance(1000);
    expect((await send(REQ)).status).toBe(400);
    expect(breaker.state).toBe('half_open');
    expect(await send(REQ)).toEqual(OK);
    expect(breaker.state).toBe('closed');
  });

  it('ignores late results of calls that started before the breaker opened', async () => {
    const { breaker } = make({ failureThreshold: 2 });
    const next = controlled();
    const send = breaker.layer(next);
    const calls = [send(REQ), send(REQ), send(REQ)];
    await new Promise((r) => setImmediate(r));
    next.pending[0]!(NETWORK);
    next.pending[1]!(NETWORK);
    await Promise.all(calls.slice(0, 2));
    expect(breaker.state).toBe('open');
    next.pending[2]!(OK);
    await calls[2];
    expect(breaker.state).toBe('open');
  });

  it('logs each state change once, never per refused call', async () => {
    const { breaker, clock, lines } = make();
    const send = breaker.layer(scripted(NETWORK, NETWORK, NETWORK, NETWORK, OK));
    await sendN(send, 3);
    await sendN(send, 50); // refused
    clock.advance(1000);
    await send(REQ); // probe fails
    clock.advance(2000);
    await send(REQ); // probe succeeds
    const changes = lines.filter((l) => l.breaker !== undefined);
    expect(changes.map((l) => [l.level, l.from, l.to])).toEqual([
      [WARN, 'closed', 'open'],
      [INFO, 'open', 'half_open'],
      [WARN, 'half_open', 'open'],
      [INFO, 'open', 'half_open'],
      [INFO, 'half_open', 'closed'],
    ]);
    expect(breaker.stats().rejected).toBe(50);
  });

  it('rejects bad options with a RangeError naming the option', () => {
    expect(() => new CircuitBreaker({ ...BREAKER, name: 'x', failureThreshold: 0 })).toThrow(/'failureThreshold'/);
    expect(() => new CircuitBreaker({ ...BREAKER, name: 'x', openMs: -1 })).toThrow(/'openMs'/);
    expect(() => new CircuitBreaker({ ...BREAKER, name: 'x', openMs: 10_000, maxOpenMs: 5000 })).toThrow(/'maxOpenMs'/);
    expect(() => new CircuitBreaker({ ...BREAKER, name: 'x', multiplier: 0.5 })).toThrow(/'multiplier'/);
    // options are complete: the defaults live in configs/default.yaml, not here
    expect(() => new CircuitBreaker({ ...BREAKER, name: 'x', openMs: undefined as unknown as number })).toThrow(
      /'openMs'/,
    );
  });
});
