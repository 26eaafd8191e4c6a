/**
 * Received data (OTLP from a Collector, one engine per host) across a hot
 * reload of a real agent: the batches, posted over loopback HTTP, run on the
 * reloaded config, the profile in force (one the reload added) and the
 * control loop's knob, as the scan engine does.
 */
import * as path from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/model.js';
import { encodeRequest } from '../../src/otlp/proto.js';
import type { CycleReport } from '../../src/pipeline/types.js';
import { readRequests } from '../helpers/otlp-file.js';
import { b64, baseYaml, type Harness, perTest } from './reload-harness.js';

const t = perTest('nrdot-reload-received-');

const T0 = 1_790_000_000_000;

async function start(yaml: string): Promise<{ h: Harness; received: Map<string, CycleReport[]> }> {
  const harness = await t.start(yaml, 150, { otlpListen: '127.0.0.1:0' });
  const received = new Map<string, CycleReport[]>();
  harness.agent.onReceivedCycle((host, r) => {
    const l = received.get(host) ?? [];
    l.push(r.report);
    received.set(host, l);
  });
  return { h: harness, received };
}

async function post(h: Harness, req: ExportMetricsServiceRequest): Promise<number> {
  const r = await request(h.agent.receiverUrl!, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf' },
    body: encodeRequest(req),
  });
  await r.body.dump();
  return r.statusCode;
}

async function apply(h: Harness, yaml: string): Promise<void> {
  const r = await h.put('/api/config', { config_base64: b64(yaml) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
}

/** Process resources of `host` in the file export, and the profile they carry. */
function exportedOf(file: string, host: string): { processes: number; profiles: string[] } {
  const n = { processes: 0, profiles: [] as string[] };
  for (const req of readRequests(file)) {
    for (const rm of req.resourceMetrics) {
      const attrs = rm.resource.attributes;
      const isHost = attrs.some((a) => a.key === 'host.name' && a.value.stringValue === host);
      if (!isHost || !attrs.some((a) => a.key === 'process.pid')) continue;
      n.processes++;
      const p = attrs.find((a) => a.key === 'nrdot.profile')?.value.stringValue ?? '';
      if (!n.profiles.includes(p)) n.profiles.push(p);
    }
  }
  return n;
}

describe('received data follows a hot reload', () => {
  it('a profile the reload added, set by hand: batches of known and new hosts are accepted and run it', async () => {
    const s = await start(baseYaml(t.dir));
    const h = s.h;
    const known = new HostmetricsSource({ processes: 200, hostName: 'known', seed: 4, nowMs: T0 });
    const fresh = new HostmetricsSource({ processes: 200, hostName: 'fresh', seed: 5, nowMs: T0 });
    await h.cycle();
    expect(await post(h, known.request(T0))).toBe(200);
    const { config } = loadConfig();
    const thrifty = JSON.stringify({ thrifty: config.profiles.aggressive });
    await apply(h, baseYaml(t.dir, `profiles: ${thrifty}`, 'out-b.jsonl'));
    h.agent.setProfile('thrifty', { who: 'test' });
    await h.cycle();
    expect(await post(h, known.request(T0 + 10_000))).toBe(200);
    expect(await post(h, fresh.request(T0 + 10_000))).toBe(200);
    expect(s.received.get('known')!.map((r) => r.profile)).toEqual(['balanced', 'thrifty']);
    expect(s.received.get('fresh')!.map((r) => r.profile)).toEqual(['thrifty']);
    // the known host's engine was rebuilt on the new config with its state: cycles and identities continue
    expect(s.received.get('known')!.map((r) => r.cycle)).toEqual([1, 2]);
    // exported through the reloaded config's exporter, tagged with the new profile
    expect(exportedOf(path.join(t.dir, 'out-a.jsonl'), 'known').profiles).toEqual(['balanced']);
    const out = path.join(t.dir, 'out-b.jsonl');
    expect(exportedOf(out, 'known')).toEqual({
      processes: s.received.get('known')![1]!.exported,
      profiles: ['thrifty'],
    });
    expect(exportedOf(out, 'fresh')).toEqual({
      processes: s.received.get('fresh')![0]!.exported,
      profiles: ['thrifty'],
    });
    expect(exportedOf(out, 'fresh').processes).toBeGreaterThan(0);
  });

  it("received data follows the control loop's knob", async () => {
    const s = await start(baseYaml(t.dir));
    const h = s.h;
    await h.cycle();
    const r = await h.cycle();
    // a budget at half the scan's points per minute: the loop turns the knob down (no emergency jump)
    const control = `control:\n  budget: { points_per_minute: ${Math.round(r.datapoints.exported / 2)} }\n  loop: { breach_ratio: 10, smoothing: 1 }`;
    await apply(h, baseYaml(t.dir, control));
    const same = (host: string) => new HostmetricsSource({ processes: 1500, hostName: host, seed: 7, nowMs: T0 });
    expect(await post(h, same('before').request(T0))).toBe(200);
    await h.cycle();
    const scale = (h.agent.status() as { control: { knobs: { scale: number } } }).control.knobs.scale;
    expect(scale).toBeLessThan(0.9);
    expect(await post(h, same('after').request(T0))).toBe(200);
    const [before, after] = [s.received.get('before')![0]!, s.received.get('after')![0]!];
    expect(after.processes).toBe(before.processes);
    expect(after.profile).toBe(before.profile);
    // the same data, fewer processes at full resolution under the knob
    expect(after.exported).toBeLessThan(before.exported);
    expect(after.critical.exported).toBe(after.critical.present);
  });
});
