/**
 * Hot reload of a real agent (in this process, cycles driven by the test):
 * PUT /api/config on loopback with the token, the file exporters' output
 * counted point by point against the engine's reports, the history, the
 * audit log, signed configs, and the health-checked automatic rollback
 * against an OTLP endpoint that refuses connections.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigHistory } from '../../src/control/config/history/store.js';
import { opensslKeyPair, opensslSign } from '../helpers/keys.js';
import { auditLines, b64, baseYaml, filePoints, type Harness, perTest } from './reload-harness.js';

const t = perTest('nrdot-reload-');

const exported = (h: Harness) => h.reports.reduce((n, r) => n + r.datapoints.exported, 0);

/** A loopback port nothing listens on (bound, then closed). */
async function refusingPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('hot reload of a running agent', () => {
  it('applies a valid config between two cycles: new profile and export path, every point exported once', async () => {
    const h = await t.start(baseYaml(t.dir));
    for (let i = 0; i < 3; i++) await h.cycle();
    expect(h.reports.at(-1)!.profile).toBe('balanced');
    const engineBefore = h.agent.engine;

    const next = baseYaml(t.dir, 'profile: aggressive', 'out-b.jsonl');
    const r = await h.put('/api/config', { config_base64: b64(next), reason: 'cheaper' });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body).toMatchObject({ ok: true, outcome: 'applied', version: 2 });
    expect(h.agent.engine).not.toBe(engineBefore);
    for (let i = 0; i < 4; i++) await h.cycle();

    // the next cycle ran the new config; identities and cycle numbers continued
    expect(h.reports.slice(3).map((r) => r.profile)).toEqual(['aggressive', 'aggressive', 'aggressive', 'aggressive']);
    expect(h.reports.map((r) => r.cycle)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(h.agent.engine.identities).toBeGreaterThan(100);

    const a = filePoints(path.join(t.dir, 'out-a.jsonl'));
    const b = filePoints(path.join(t.dir, 'out-b.jsonl'));
    const before = h.reports.slice(0, 3).reduce((n, r) => n + r.datapoints.exported, 0);
    expect(a).toBe(before);
    expect(a + b).toBe(exported(h));
    expect(b).toBeGreaterThan(0);

    // the aggressive profile keeps fewer processes at full resolution
    expect(h.reports.at(-1)!.exported).toBeLessThan(h.reports[2]!.exported);
    // rates carried over: the first cycle on the new engine already has CPU rates (no warm-up cycle)
    expect(h.reports[3]!.datapoints.exported).toBeLessThan(h.reports[0]!.datapoints.exported);

    const hist = ConfigHistory.inStateDir(path.join(t.dir, 'state'));
    expect(hist.list().map((v) => [v.version, v.source, v.result])).toEqual([
      [1, 'start', 'applied'],
      [2, 'api', 'applied'],
    ]);
    const audit = auditLines(t.dir).filter((l) => l.action === 'config.apply');
    expect(audit.at(-1)).toMatchObject({ source: 'api', outcome: 'ok', version: 2, reason: 'cheaper' });
  });

  it('a profile a reload adds can be set by hand afterwards (the control loop asks the running engine)', async () => {
    const h = await t.start(baseYaml(t.dir));
    await h.cycle();
    expect(() => h!.agent.setProfile('thrifty', { who: 'test' })).toThrow(/unknown profile 'thrifty'/);
    const { config } = loadConfig();
    const thrifty = JSON.stringify({ thrifty: config.profiles.aggressive });
    const r = await h.put('/api/config', { config_base64: b64(baseYaml(t.dir, `profiles: ${thrifty}`)) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    await h.cycle();
    expect(h.agent.setProfile('thrifty', { who: 'test' })).toMatchObject({ after: 'thrifty' });
    await h.cycle();
    expect(h.reports.at(-1)!.profile).toBe('thrifty');
  });

  it('refuses an invalid config with the reason; the running one keeps exporting', async () => {
    const h = await t.start(baseYaml(t.dir));
    await h.cycle();
    const bad = await h.put('/api/config', { config_base64: b64(`${baseYaml(t.dir)}\nturbo: true\n`) });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ ok: false, outcome: 'refused' });
    expect(String(bad.body.error)).toMatch(/unknown key 'turbo'/);

    const unknownProfile = await h.put('/api/config', { config_base64: b64(baseYaml(t.dir, 'profile: nosuch')) });
    expect(unknownProfile.status).toBe(400);
    expect(String(unknownProfile.body.error)).toMatch(/nosuch/);

    const restartOnly = await h.put('/api/config', {
      config_base64: b64(baseYaml(t.dir, 'receiver:\n  listen: 127.0.0.1:4999')),
    });
    expect(restartOnly.status).toBe(409);
    expect(restartOnly.body).toMatchObject({ ok: false, outcome: 'failed' });
    expect(String(restartOnly.body.error)).toMatch(/`receiver` changed: that needs a restart/);

    await h.cycle();
    await h.cycle();
    expect(h.reports.map((r) => r.profile)).toEqual(['balanced', 'balanced', 'balanced']);
    expect(filePoints(path.join(t.dir, 'out-a.jsonl'))).toBe(exported(h));
    expect(h.live.life.current.hash).toBe(ConfigHistory.inStateDir(path.join(t.dir, 'state')).get(1).hash);
    const outcomes = auditLines(t.dir)
      .filter((l) => l.source === 'api')
      .map((l) => l.outcome);
    expect(outcomes).toEqual(['refused', 'refused', 'failed']);
  });

  it('rolls back a config whose exports fail within N+1 cycles, and the history says why', async () => {
    const h = await t.start(baseYaml(t.dir)); // reload.health_check_cycles: 3
    await h.cycle();
    const port = await refusingPort();
    const bad = baseYaml(t.dir, '', 'out-b.jsonl').replace(
      /^export: .*$/m,
      `export: ["file:${path.join(t.dir, 'out-b.jsonl')}", "otlp:http://127.0.0.1:${port}"]`,
    );
    const r = await h.put('/api/config', { config_base64: b64(bad) });
    expect(r.body).toMatchObject({ ok: true, outcome: 'applied', version: 2 });
    const applied = h.reports.length;
    let n = 0;
    while (h.live.life.current.hash !== ConfigHistory.inStateDir(path.join(t.dir, 'state')).get(1).hash && n < 4) {
      await h.cycle();
      n++;
    }
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(4); // health_check_cycles (3) + 1
    expect(h.reports.length - applied).toBe(n);
    const hist = ConfigHistory.inStateDir(path.join(t.dir, 'state')).list();
    expect(hist.map((v) => [v.version, v.source, v.result])).toEqual([
      [1, 'start', 'applied'],
      [2, 'api', 'rolled_back'],
      [3, 'rollback', 'applied'],
    ]);
    expect(hist[1]!.error).toMatch(/export failures: .*otlp:http:\/\/127\.0\.0\.1/);
    expect(hist[2]!.restoredFrom).toBe(1);
    expect(auditLines(t.dir).at(-1)).toMatchObject({ action: 'config.rollback', who: 'nrdot', outcome: 'rolled_back' });
    // back on the first config: its file export goes on, and nothing was lost across the two swaps
    await h.cycle();
    expect(filePoints(path.join(t.dir, 'out-a.jsonl')) + filePoints(path.join(t.dir, 'out-b.jsonl'))).toBe(exported(h));
    // the retired endpoint still fails while it drains; that does not count against the next config
    const next = await h.put('/api/config', { config_base64: b64(baseYaml(t.dir, 'profile: aggressive')) });
    expect(next.body).toMatchObject({ ok: true, outcome: 'applied', version: 4 });
    for (let i = 0; i < 4; i++) await h.cycle();
    expect(h.live.life.watching).toBe(false);
    expect(ConfigHistory.inStateDir(path.join(t.dir, 'state')).get(4).result).toBe('applied');
    expect(h.reports.at(-1)!.profile).toBe('aggressive');
  });

  it('refuses a tampered signed config at reload with an audit line, and takes a properly signed one', async () => {
    const keys = opensslKeyPair(t.dir, 'ops');
    const policy = `security:\n  signed_configs:\n    required: true\n    trusted_keys: ["${keys.pub}"]`;
    fs.writeFileSync(path.join(t.dir, 'agent.yaml'), baseYaml(t.dir, policy));
    opensslSign(path.join(t.dir, 'agent.yaml'), keys.key);
    const h = await t.start(baseYaml(t.dir, policy)); // the same bytes: the start is signed
    await h.cycle();

    const next = path.join(t.dir, 'next.yaml');
    fs.writeFileSync(next, baseYaml(t.dir, `${policy}\nprofile: aggressive`));
    opensslSign(next, keys.key);
    const sig = fs.readFileSync(`${next}.sig`, 'utf8');
    const tampered = Buffer.from(fs.readFileSync(next, 'utf8').replace('aggressive', 'emergency'));
    const r = await h.put('/api/config', { config_base64: b64(tampered), signature: sig });
    expect(r.status).toBe(400);
    expect(String(r.body.error)).toMatch(/signature/i);
    const refusal = auditLines(t.dir).at(-1)!;
    expect(refusal).toMatchObject({ action: 'config.apply', source: 'api', outcome: 'refused' });
    expect(String(refusal.reason)).toMatch(/signature/i);
    await h.cycle();
    expect(h.reports.at(-1)!.profile).toBe('balanced');
    const refused = ConfigHistory.inStateDir(path.join(t.dir, 'state')).list().at(-1)!;
    expect(refused).toMatchObject({ version: 2, source: 'api', result: 'failed' });
    expect(refused.error).toMatch(/signature/);

    const ok = await h.put('/api/config', { config_base64: b64(fs.readFileSync(next)), signature: sig });
    expect(ok.body).toMatchObject({ ok: true, outcome: 'applied' });
    await h.cycle();
    expect(h.reports.at(-1)!.profile).toBe('aggressive');
  });
});
