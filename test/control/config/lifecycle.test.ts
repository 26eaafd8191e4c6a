/**
 * The checked apply with a stand-in for the engine (the part the lead is
 * rebuilding): `build` makes a candidate that, committed, becomes what the
 * stand-in "runs". Everything else is real: config loading and signatures,
 * the history on disk, the audit log.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigHistory } from '../../../src/control/config/history/store.js';
import { type ConfigEvent, ConfigLifecycle } from '../../../src/control/config/lifecycle.js';
import { loadPrivateKey, signatureText, signBytes } from '../../../src/control/config/signature.js';
import { silentLogger } from '../../../src/core/log.js';
import { AuditLog } from '../../../src/server/audit.js';
import { fastTmpDir } from '../../../src/util/tmp.js';
import { type KeyPair, opensslKeyPair, opensslSign } from '../../helpers/keys.js';
import { StandInEngine } from '../../helpers/stand-in-engine.js';

const tmp = fastTmpDir('nrdot-lifecycle-');
let key: KeyPair;
beforeAll(() => {
  key = opensslKeyPair(tmp, 'k');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function setup(startYaml = 'profile: balanced\n', healthCycles = 3, signWith?: string) {
  const dir = path.join(tmp, `case${n++}`);
  fs.mkdirSync(dir, { recursive: true });
  const startFile = path.join(dir, 'start.yaml');
  fs.writeFileSync(startFile, startYaml);
  if (signWith) opensslSign(startFile, signWith);
  const start = loadConfig(startFile);
  const clock = { t: 1_000 };
  const history = ConfigHistory.inStateDir(path.join(dir, 'state'), { now: () => clock.t });
  const v0 = history.record({ bytes: start.bytes, source: 'start', who: 'root@localhost', file: startFile });
  const engine = new StandInEngine(start);
  const auditFile = path.join(dir, 'audit.log');
  const events: ConfigEvent[] = [];
  const life = new ConfigLifecycle({
    running: start,
    runningVersion: v0.version,
    build: engine.build,
    healthCycles,
    history,
    audit: new AuditLog(auditFile, silentLogger),
    now: () => clock.t,
  });
  life.onEvent((e) => events.push(e));
  const audit = () =>
    fs.existsSync(auditFile)
      ? fs
          .readFileSync(auditFile, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
      : [];
  return { dir, life, engine, history, events, audit, clock };
}

const api = (yaml: string, extra = {}) => ({
  bytes: Buffer.from(yaml),
  source: 'api' as const,
  who: 'alice@127.0.0.1',
  ...extra,
});

describe('ConfigLifecycle', () => {
  it('applies a valid config: built beside, swapped in, recorded, audited, then confirmed after N good cycles', async () => {
    const s = setup();
    const r = await s.life.applyConfig(api('profile: aggressive\n', { why: 'cheaper' }));
    expect(r).toMatchObject({ ok: true, outcome: 'applied', version: 2 });
    expect(s.engine.running.config.profile).toBe('aggressive');
    expect(s.life.current.config.profile).toBe('aggressive');
    expect(s.history.get(2)).toMatchObject({
      source: 'api',
      who: 'alice@127.0.0.1',
      why: 'cheaper',
      result: 'applied',
    });
    expect(s.audit()).toEqual([
      expect.objectContaining({ action: 'config.apply', source: 'api', version: 2, outcome: 'ok', reason: 'cheaper' }),
    ]);
    expect(s.life.watching).toBe(true);
    for (let c = 0; c < 3; c++) await s.life.onCycle({ ok: true });
    expect(s.life.watching).toBe(false);
    expect(s.events.map((e) => e.outcome)).toEqual(['applied', 'healthy']);
  });

  it('refuses a config that does not parse or does not validate: running config unchanged, reason kept and audited', async () => {
    const s = setup();
    const bad = await s.life.applyConfig(api('profile: [unclosed\n'));
    expect(bad).toMatchObject({ ok: false, outcome: 'refused', version: 2 });
    expect(bad.ok === false && bad.error).toMatch(/^PUT \/api\/config:\d+:\d+: malformed YAML/);
    const unknown = await s.life.applyConfig(api('profile: balanced\nturbo: true\n'));
    expect(unknown.ok === false && unknown.error).toBe("PUT /api/config: unknown key 'turbo'");
    expect(s.engine.builds).toEqual([]);
    expect(s.engine.running.config.profile).toBe('balanced');
    expect(s.history.list().map((v) => [v.version, v.result])).toEqual([
      [1, 'applied'],
      [2, 'failed'],
      [3, 'failed'],
    ]);
    expect(s.audit().map((a) => a.outcome)).toEqual(['refused', 'refused']);
    expect(s.life.watching).toBe(false);
  });

  it('a config whose pipeline fails to build is failed; the running one stays', async () => {
    const s = setup();
    s.engine.failBuild = () => 'listen 127.0.0.1:4318: address in use';
    const r = await s.life.applyConfig(api('profile: emergency\n'));
    expect(r).toMatchObject({
      ok: false,
      outcome: 'failed',
      error: 'could not build the pipeline for it: listen 127.0.0.1:4318: address in use',
    });
    expect(s.engine.running.config.profile).toBe('balanced');
    expect(s.events.map((e) => e.outcome)).toEqual(['failed']);
  });

  it('the same bytes again are unchanged: nothing built, nothing recorded', async () => {
    const s = setup();
    const r = await s.life.applyConfig(api('profile: balanced\n'));
    expect(r).toMatchObject({ ok: true, outcome: 'unchanged', version: 1 });
    expect(s.engine.builds).toEqual([]);
    expect(s.history.list()).toHaveLength(1);
  });

  it('a failed health check inside the window rolls back by itself, within N+1 cycles, and says why everywhere', async () => {
    const s = setup('profile: balanced\n', 3);
    await s.life.applyConfig(api('profile: aggressive\n'));
    await s.life.onCycle({ ok: true });
    await s.life.onCycle({ ok: false, reason: 'export failures: 3 of 3 requests failed' });
    expect(s.engine.running.config.profile).toBe('balanced');
    expect(s.life.current.config.profile).toBe('balanced');
    expect(s.history.get(2)).toMatchObject({ result: 'rolled_back', error: 'export failures: 3 of 3 requests failed' });
    const back = s.history.get(3);
    expect(back).toMatchObject({ source: 'rollback', restoredFrom: 1, who: 'nrdot', result: 'applied' });
    expect(back.bytes.equals(s.history.get(1).bytes)).toBe(true);
    expect(s.events.map((e) => [e.outcome, e.version, e.error])).toEqual([
      ['applied', 2, undefined],
      ['rolled_back', 2, 'export failures: 3 of 3 requests failed'],
    ]);
    expect(s.audit().map((a) => [a.action, a.outcome, a.version])).toEqual([
      ['config.apply', 'ok', 2],
      ['config.rollback', 'rolled_back', 3],
    ]);
    // later cycles are outside any window
    await s.life.onCycle({ ok: false, reason: 'x' });
    expect(s.history.list()).toHaveLength(3);
  });

  it('rollback by version or by time restores the exact bytes through the same checked apply', async () => {
    const s = setup('profile: balanced # first\n');
    s.clock.t = 2_000;
    await s.life.applyConfig(api('profile: aggressive\n'));
    s.clock.t = 3_000;
    await s.life.applyConfig(api('profile: emergency\n'));
    const byTime = await s.life.rollbackConfig({ to: { timeMs: 2_500 }, who: 'bob@127.0.0.1' });
    expect(byTime).toMatchObject({ ok: true, outcome: 'applied', version: 4, restoredFrom: 2 });
    expect(s.engine.running.bytes.toString()).toBe('profile: aggressive\n');
    const byVersion = await s.life.rollbackConfig({
      to: { version: 1 },
      who: 'bob@127.0.0.1',
      why: 'back to the start',
    });
    expect(byVersion).toMatchObject({ ok: true, restoredFrom: 1, version: 5 });
    expect(s.engine.running.bytes.toString()).toBe('profile: balanced # first\n');
    expect(s.history.get(5)).toMatchObject({ source: 'rollback', why: 'back to the start', restoredFrom: 1 });
    const none = await s.life.rollbackConfig({ to: { version: 99 }, who: 'bob@127.0.0.1' });
    expect(none).toMatchObject({ ok: false, outcome: 'refused' });
    expect(none.ok === false && none.error).toContain('no config version 99');
  });

  it("under the running config's signature policy: unsigned refused, signed applied, a signed version's rollback verified again", async () => {
    const policy = `security:\n  signed_configs:\n    required: true\n    trusted_keys: ["${key.pub}"]\n`;
    const s = setup(`profile: balanced\n${policy}`, 3, key.key);
    const priv = loadPrivateKey(key.key).key;
    const signed = (yaml: string) => {
      const bytes = Buffer.from(yaml);
      return { bytes, signature: { text: signatureText(signBytes(bytes, priv)), where: 'the "signature" field' } };
    };
    const unsigned = await s.life.applyConfig(api(`profile: aggressive\n${policy}`));
    expect(unsigned.ok === false && unsigned.error).toContain('refused: it is not signed');
    const good = signed(`profile: aggressive\n${policy}`);
    const ok = await s.life.applyConfig({ ...api(''), ...good });
    expect(ok).toMatchObject({ ok: true, outcome: 'applied', version: 3 });
    expect(s.history.get(3).keyId).toMatch(/^[0-9a-f]{16}$/);
    const next = signed(`profile: emergency\n${policy}`);
    await s.life.applyConfig({ ...api(''), ...next });
    const back = await s.life.rollbackConfig({ to: { version: 3 }, who: 'bob' });
    expect(back).toMatchObject({ ok: true, restoredFrom: 3 });
    expect(s.engine.running.config.profile).toBe('aggressive');
    // v2, refused for want of a signature, stays refused when rolled back to
    const v2 = await s.life.rollbackConfig({ to: { version: 2 }, who: 'bob' });
    expect(v2.ok === false && v2.error).toContain('v2 from the history refused: it is not signed');
  });

  it('applies run one at a time, in the order they arrive', async () => {
    const s = setup();
    const rs = await Promise.all([
      s.life.applyConfig(api('profile: aggressive\n')),
      s.life.applyConfig(api('profile: emergency\n')),
      s.life.applyConfig(api('profile: conservative\n')),
    ]);
    expect(rs.map((r) => r.ok && r.version)).toEqual([2, 3, 4]);
    expect(s.engine.builds).toEqual(['aggressive', 'emergency', 'conservative']);
    expect(s.engine.running.config.profile).toBe('conservative');
  });
});
