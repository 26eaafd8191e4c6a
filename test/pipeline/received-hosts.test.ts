/**
 * A flood of host names against the receiving side: at most
 * `receiver.max_hosts` hosts are optimized at once, hosts that keep sending
 * are never pushed out, a newcomer takes the place of a host quiet for
 * `receiver.host_idle`, and a newcomer with no room passes through exactly as
 * received: nothing accepted is lost.
 */
import { describe, expect, it } from 'vitest';
import { ReceivedDataProcessor } from '../../src/agent/receiving.js';
import { loadConfig } from '../../src/config/load.js';
import { silentLogger } from '../../src/core/log.js';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import type { ResourceMetrics } from '../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../src/otlp/proto.js';
import { CaptureSink } from '../helpers/capture-sink.js';

const attr = (rm: ResourceMetrics, key: string) => rm.resource.attributes.find((a) => a.key === key)?.value;
const hostOf = (rm: ResourceMetrics) => attr(rm, 'host.name')?.stringValue;

describe('receiver.max_hosts under a flood of host names', () => {
  it('known hosts stay optimized, idle hosts make room, the rest passes through as received', async () => {
    const { config } = loadConfig();
    const cfg = structuredClone(config);
    cfg.receiver.max_hosts = 6;
    cfg.receiver.host_idle = '60s';
    cfg.receiver.host_ttl = '1h';
    const t0 = 1_790_000_000_000;
    let now = t0;
    const sink = new CaptureSink();
    const p = new ReceivedDataProcessor({
      config: cfg,
      profile: () => 'balanced',
      sink,
      logger: silentLogger,
      intervalMs: 10_000,
      now: () => now,
    });
    const known = Array.from(
      { length: 4 },
      (_, i) => new HostmetricsSource({ processes: 40, hostName: `known-${i}`, seed: i + 1, nowMs: t0 }),
    );
    const FLOOD = 300;
    let maxHosts = 0;
    let passedThroughExactly = 0;
    try {
      for (let round = 0; round < FLOOD; round++) {
        now = t0 + round * 10_000;
        // the known hosts, every round
        for (const h of known) {
          sink.out = [];
          await p.accept(decodeRequest(encodeRequest(h.request(now))));
          const mine = sink.out.filter((rm) => hostOf(rm) === h.hostName);
          // optimized: decided (nrdot.tier) or rolled up, never passed through untouched
          expect(mine.length).toBeGreaterThan(0);
          for (const rm of mine) expect(attr(rm, 'nrdot.tier') ?? attr(rm, 'nrdot.rollup')).toBeDefined();
        }
        // one new host name per round, each sending once
        const flood = new HostmetricsSource({
          processes: 3,
          hostName: `flood-${round}`,
          seed: 1000 + round,
          nowMs: t0,
        });
        const req = decodeRequest(encodeRequest(flood.request(now)));
        sink.out = [];
        await p.accept(structuredClone(req));
        const st = p.stats();
        maxHosts = Math.max(maxHosts, st.hosts);
        const out = sink.out.filter((rm) => hostOf(rm) === flood.hostName);
        if (out.every((rm) => attr(rm, 'nrdot.tier') === undefined && attr(rm, 'nrdot.rollup') === undefined)) {
          // no room: every resource as it came
          expect(out).toStrictEqual(req.resourceMetrics);
          passedThroughExactly++;
        } else {
          expect(out.length).toBeGreaterThan(0);
        }
      }
      const st = p.stats();
      expect(maxHosts).toBe(6);
      // two places for newcomers, each freed after 60 s quiet (six rounds): one in three gets one
      expect(st.hostsEvicted).toBeGreaterThan(FLOOD / 4);
      expect(passedThroughExactly).toBeGreaterThan(FLOOD / 2);
      expect(st.hostsPassedThrough).toBe(passedThroughExactly * 3);
    } finally {
      await p.close();
    }
  }, 120_000);
});
