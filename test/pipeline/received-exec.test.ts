/**
 * A received process that execs (same pid and start time, a new executable
 * and command line) is classified again: the identity table names a row
 * again whenever its strings change. Before, the receiving side dropped the
 * strings of every identity it had seen, so a shell that exec'd postgres
 * kept the shell's tier.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import type { ResourceMetrics } from '../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../src/otlp/proto.js';
import { receivingInto } from '../helpers/capture-sink.js';

const attr = (rm: ResourceMetrics, key: string) => rm.resource.attributes.find((a) => a.key === key)?.value;

function setString(rm: ResourceMetrics, key: string, v: string): void {
  const a = rm.resource.attributes.find((x) => x.key === key);
  if (a) a.value = { stringValue: v };
  else rm.resource.attributes.push({ key, value: { stringValue: v } });
}

describe('received data: a process that execs', () => {
  it('is classified by its new executable on the next batch', async () => {
    const { config } = loadConfig();
    const t0 = 1_790_000_000_000;
    let now = t0;
    const { p, sink } = receivingInto({ config, now: () => now });
    const src = new HostmetricsSource({ processes: 30, hostName: 'exec-host', seed: 5, nowMs: t0 });
    const pidOf = (rm: ResourceMetrics) => Number(attr(rm, 'process.pid')?.intValue);
    const batch = (exe: string, pid?: number) => {
      const req = decodeRequest(encodeRequest(src.request(now)));
      const target = pid === undefined ? req.resourceMetrics[3]! : req.resourceMetrics.find((rm) => pidOf(rm) === pid)!;
      setString(target, 'process.executable.name', exe);
      setString(target, 'process.command_line', exe === 'sh' ? 'sh -c exec postgres' : 'postgres -D /var/lib/pg');
      setString(target, 'process.command', exe);
      return { req, pid: pidOf(target) };
    };
    try {
      const first = batch('sh');
      await p.accept(first.req);
      const tierOf = () =>
        sink.out.filter((rm) => pidOf(rm) === first.pid).map((rm) => attr(rm, 'nrdot.tier')?.stringValue);
      expect(tierOf()).toHaveLength(1);
      expect(tierOf()).not.toContain('critical');
      for (let k = 1; k <= 2; k++) {
        sink.out = [];
        now = t0 + k * 10_000;
        await p.accept(batch('postgres', first.pid).req);
      }
      expect(tierOf()).toEqual(['critical']);
    } finally {
      await p.close();
    }
  });
});
