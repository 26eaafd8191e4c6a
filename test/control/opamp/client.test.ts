// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config references (${env:X}) are literal text here
/**
 * The OpAMP agent against a test server that speaks the protocol from the
 * official definitions (test/helpers/opamp-server.ts). The agent's apply is
 * the real checked apply (ConfigLifecycle) over a stand-in engine.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { ConfigHistory } from '../../../src/control/config/history/store.js';
import { ConfigLifecycle } from '../../../src/control/config/lifecycle.js';
import { loadPrivateKey, signatureText, signBytes } from '../../../src/control/config/signature.js';
import { CAPABILITIES, OpampClient } from '../../../src/control/opamp/client.js';
import {
  describeAgent,
  formatUuid,
  INSTANCE_UID_FILE,
  loadInstanceUid,
  resolveRing,
  saveInstanceUid,
} from '../../../src/control/opamp/identity.js';
import { RemoteConfigStatuses } from '../../../src/control/opamp/proto.js';
import { fastTmpDir } from '../../../src/util/tmp.js';
import { type KeyPair, opensslKeyPair, opensslSign } from '../../helpers/keys.js';
import { closedPort } from '../../helpers/loopback-http.js';
import { attrs, type Decoded, type OpampTestServer, startOpampServer } from '../../helpers/opamp-server.js';
import { StandInEngine } from '../../helpers/stand-in-engine.js';

const tmp = fastTmpDir('nrdot-opamp-');
let key: KeyPair;
beforeAll(() => {
  key = opensslKeyPair(tmp, 'k');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function server(port = 0): Promise<OpampTestServer> {
  const s = await startOpampServer(port);
  cleanup.push(() => s.close());
  return s;
}

let n = 0;
function agent(endpoint: string, o: { startYaml?: string; sign?: boolean; stateDir?: string } = {}) {
  const dir = path.join(tmp, `a${n++}`);
  fs.mkdirSync(dir, { recursive: true });
  const stateDir = o.stateDir ?? path.join(dir, 'state');
  const file = path.join(dir, 'nrdot.yaml');
  fs.writeFileSync(
    file,
    o.startYaml ?? 'profile: balanced\nexport_options:\n  otlp:\n    headers: { api-key: "${env:NRDOT_T_KEY}" }\n',
  );
  if (o.sign) opensslSign(file, key.key);
  const running = loadConfig(file, { env: { NRDOT_T_KEY: 'k-123456789' } });
  const engine = new StandInEngine(running);
  const history = ConfigHistory.inStateDir(stateDir);
  const life = new ConfigLifecycle({ running, build: engine.build, healthCycles: 2, history, env: {} });
  const uid = loadInstanceUid(stateDir);
  const applied: string[] = [];
  const refused: string[] = [];
  const client = new OpampClient({
    endpoint,
    headers: { authorization: 'Bearer opamp-test' },
    instanceUid: uid,
    onInstanceUid: (u) => saveInstanceUid(stateDir, u),
    description: describeAgent(
      uid,
      resolveRing(
        {
          ring: '',
          rings: [
            { name: 'canary', weight: 1 },
            { name: 'broad', weight: 9 },
          ],
        },
        'host-a',
      ),
    ),
    pollIntervalMs: 150,
    health: () => ({ healthy: true, status: 'running' }),
    effectiveConfig: () => [{ name: 'nrdot.yaml', bytes: life.current.bytes }],
    apply: async (bytes, meta) => {
      applied.push(bytes.toString());
      const r = await life.applyConfig({ bytes, signature: meta.signature, source: 'opamp', who: 'opamp:test' });
      return r.ok ? { ok: true } : { ok: false, error: r.error };
    },
    signaturePolicy: () => life.current.policy,
    onRefused: (e) => refused.push(e.reason),
    initialBackoffMs: 20,
    maxBackoffMs: 80,
    random: () => 0.5, // no jitter
  });
  life.onEvent((e) => {
    if (e.outcome === 'rolled_back' && e.error) client.reportRolledBack(e.hash, e.error);
    if (e.outcome === 'applied' || e.outcome === 'rolled_back') client.wake();
  });
  cleanup.push(() => client.shutdown());
  return { client, life, engine, history, file, stateDir, applied, refused, uid };
}

const remote = (files: Record<string, string>, hash = 'h1') => ({
  remote_config: {
    config: {
      config_map: Object.fromEntries(
        Object.entries(files).map(([k, v]) => [k, { body: Buffer.from(v), content_type: 'text/yaml' }]),
      ),
    },
    config_hash: Buffer.from(hash),
  },
});

const status = (m: Decoded) =>
  m.remote_config_status as { status?: number; error_message?: string; last_remote_config_hash?: Buffer } | undefined;

describe('OpAMP agent', () => {
  it('says who it is: a UUIDv7 kept in the state dir, its description and ring, health and the config as written', async () => {
    const s = await server();
    const a = agent(s.url);
    a.client.start();
    const first = await s.waitFor(() => true, 'a first message');
    const uid: Buffer = first.instance_uid;
    expect(uid).toHaveLength(16);
    expect(uid[6]! >> 4).toBe(7);
    expect(uid[8]! >> 6).toBe(2);
    expect(fs.readFileSync(path.join(a.stateDir, INSTANCE_UID_FILE), 'utf8')).toBe(`${formatUuid(uid)}\n`);
    expect(first.sequence_num).toBe('1');
    expect(Number(first.capabilities)).toBe(CAPABILITIES);
    expect(attrs(first.agent_description.identifying_attributes)).toMatchObject({
      'service.name': 'nrdot',
      'service.version': '0.1.0',
      'service.instance.id': formatUuid(uid),
    });
    expect(attrs(first.agent_description.identifying_attributes)['host.name']).toBeTruthy();
    expect(attrs(first.agent_description.non_identifying_attributes)).toMatchObject({
      'os.type': 'linux',
      'nrdot.ring': expect.any(String),
    });
    expect(first.health).toMatchObject({ healthy: true, status: 'running' });
    expect(BigInt(first.health.start_time_unix_nano)).toBeGreaterThan(0n);
    const body = first.effective_config.config_map.config_map['nrdot.yaml'].body as Buffer;
    expect(body.equals(fs.readFileSync(a.file))).toBe(true);
    expect(body.toString()).toContain('${env:NRDOT_T_KEY}');
    expect(s.headers[0]!.authorization).toBe('Bearer opamp-test');
    // later polls carry only what changed
    const later = await s.waitFor((m) => Number(m.sequence_num) >= 2, 'a second message');
    expect(later.agent_description).toBeUndefined();
    expect(later.effective_config).toBeUndefined();
    await a.client.shutdown();
    // the same state dir, the same instance
    expect(loadInstanceUid(a.stateDir)).toEqual(new Uint8Array(uid));
  });

  it('applies a remote config through the checked apply and reports APPLIED, then the new effective config', async () => {
    const s = await server();
    const a = agent(s.url);
    s.answer((_m, i) => (i === 0 ? remote({ 'nrdot.yaml': 'profile: aggressive\n' }) : {}));
    a.client.start();
    const applied = await s.waitFor((m) => status(m)?.status === RemoteConfigStatuses.APPLIED, 'APPLIED');
    expect(status(applied)!.last_remote_config_hash!.toString()).toBe('h1');
    expect(a.engine.running.config.profile).toBe('aggressive');
    expect(a.history.latest()).toMatchObject({ source: 'opamp', who: 'opamp:test' });
    await s.waitFor(
      (m) => m.effective_config?.config_map.config_map['nrdot.yaml'].body.toString() === 'profile: aggressive\n',
      'the new effective config',
    );
  });

  it('a remote config that does not parse is refused: FAILED with the reason, the running config unchanged', async () => {
    const s = await server();
    const a = agent(s.url);
    s.answer((_m, i) => (i === 0 ? remote({ 'nrdot.yaml': 'profile: [unclosed\n' }) : {}));
    a.client.start();
    const failed = await s.waitFor((m) => status(m)?.status === RemoteConfigStatuses.FAILED, 'FAILED');
    expect(status(failed)!.error_message).toMatch(/^OpAMP remote config:\d+:\d+: malformed YAML: /);
    expect(a.engine.builds).toEqual([]);
    expect(a.engine.running.config.profile).toBe('balanced');
    // it said APPLYING first, and never APPLIED
    expect(s.messages.some((m) => status(m)?.status === RemoteConfigStatuses.APPLYING)).toBe(true);
    expect(s.messages.some((m) => status(m)?.status === RemoteConfigStatuses.APPLIED)).toBe(false);
  });

  it('handles a config hash once, however often the server repeats it', async () => {
    const s = await server();
    const a = agent(s.url);
    s.answer(() => remote({ 'nrdot.yaml': 'profile: emergency\n' }, 'same'));
    a.client.start();
    await s.waitFor((m) => status(m)?.status === RemoteConfigStatuses.APPLIED, 'APPLIED');
    await s.waitFor((m) => Number(m.sequence_num) >= 6, 'more polls');
    expect(a.applied).toEqual(['profile: emergency\n']);
  });

  it('refuses a config map without exactly one config file', async () => {
    const s = await server();
    const a = agent(s.url);
    s.answer((_m, i) => (i === 0 ? remote({ 'a.yaml': 'profile: x\n', 'b.yaml': 'profile: y\n' }) : {}));
    a.client.start();
    const failed = await s.waitFor((m) => status(m)?.status === RemoteConfigStatuses.FAILED, 'FAILED');
    expect(status(failed)!.error_message).toBe(
      "the remote config must hold one config file (and optionally its NAME.sig), not 2: 'a.yaml', 'b.yaml'",
    );
    expect(a.applied).toEqual([]);
  });

  it('with signatures required: unsigned and tampered configs FAILED before apply, a signed one APPLIED', async () => {
    const policy = `security:\n  signed_configs:\n    required: true\n    trusted_keys: ["${key.pub}"]\n`;
    const s = await server();
    const a = agent(s.url, { startYaml: `profile: balanced\n${policy}`, sign: true });
    const priv = loadPrivateKey(key.key).key;
    const good = `profile: aggressive\n${policy}`;
    const sig = signatureText(signBytes(Buffer.from(good), priv));
    const answers = [
      remote({ 'nrdot.yaml': good }, 'unsigned'),
      remote({ 'nrdot.yaml': good.replace('aggressive', 'emergency'), 'nrdot.yaml.sig': sig }, 'tampered'),
      remote({ 'nrdot.yaml': good, 'nrdot.yaml.sig': sig }, 'signed'),
    ];
    let step = 0;
    s.answer((m) => {
      const st = status(m);
      if (step < answers.length && (step === 0 || st?.status === RemoteConfigStatuses.FAILED)) return answers[step++]!;
      return {};
    });
    a.client.start();
    const applied = await s.waitFor((m) => status(m)?.status === RemoteConfigStatuses.APPLIED, 'APPLIED');
    expect(status(applied)!.last_remote_config_hash!.toString()).toBe('signed');
    const failures = s.messages.filter((m) => status(m)?.status === RemoteConfigStatuses.FAILED).map((m) => status(m)!);
    const byHash = Object.fromEntries(failures.map((f) => [f.last_remote_config_hash!.toString(), f.error_message]));
    expect(byHash.unsigned).toBe(
      "OpAMP remote config 'nrdot.yaml' refused: it is not signed and security.signed_configs.required is true (nrdot config sign FILE --key KEY.pem writes FILE.sig)",
    );
    expect(byHash.tampered).toContain("the 'nrdot.yaml.sig' entry: the signature does not match these bytes");
    // only the signed one ever reached the agent's apply; the others were handed to the audit hook
    expect(a.applied).toEqual([good]);
    expect(a.refused).toEqual([byHash.unsigned, byHash.tampered]);
    expect(a.history.latest()?.keyId).toMatch(/^[0-9a-f]{16}$/);
  });

  it('reports FAILED after the agent rolls back a remote config that failed its health check', async () => {
    const s = await server();
    const a = agent(s.url);
    s.answer((_m, i) => (i === 0 ? remote({ 'nrdot.yaml': 'profile: emergency\n' }, 'risky') : {}));
    a.client.start();
    await s.waitFor((m) => status(m)?.status === RemoteConfigStatuses.APPLIED, 'APPLIED');
    await a.life.onCycle({ ok: false, reason: 'critical coverage 0.62 < 1' });
    const failed = await s.waitFor((m) => status(m)?.status === RemoteConfigStatuses.FAILED, 'FAILED');
    expect(status(failed)!.error_message).toBe('rolled back after it was applied: critical coverage 0.62 < 1');
    expect(status(failed)!.last_remote_config_hash!.toString()).toBe('risky');
    expect(a.engine.running.config.profile).toBe('balanced');
    await s.waitFor(
      (m) => m.effective_config?.config_map.config_map['nrdot.yaml'].body.toString().startsWith('profile: balanced'),
      'the restored effective config',
    );
  });

  it('retries with backoff while the server is away, keeps its config, and reports full state when it comes back', async () => {
    const port = await closedPort();
    const a = agent(`http://127.0.0.1:${port}/v1/opamp`);
    a.client.start();
    for (let i = 0; i < 250 && a.client.stats.retryDelaysMs.length < 4; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(a.client.stats.retryDelaysMs.slice(0, 4)).toEqual([20, 40, 80, 80]);
    expect(a.client.stats.lastError).toBe('ECONNREFUSED');
    expect(a.engine.builds).toEqual([]);
    const s = await server(port);
    const back = await s.waitFor(() => true, 'the agent');
    expect(back.agent_description).toBeDefined();
    expect(back.effective_config).toBeDefined();
    expect(a.engine.running.config.profile).toBe('balanced');
  });

  it('honours Retry-After on 503', async () => {
    const s = await server();
    const a = agent(s.url);
    s.answer((_m, i) => (i === 0 ? { httpStatus: 503, headers: { 'retry-after': '1' } } : {}));
    a.client.start();
    await s.waitFor((_m) => s.messages.length >= 2, 'the retry');
    expect(a.client.stats.retryDelaysMs).toEqual([1000]);
  });

  it('adopts and keeps an instance_uid the server assigns; sends full state when asked', async () => {
    const s = await server();
    const a = agent(s.url);
    const assigned = Buffer.from('0190a1b2c3d47e8f9a0b1c2d3e4f5061', 'hex');
    s.answer((_m, i) =>
      i === 0 ? { agent_identification: { new_instance_uid: assigned } } : i === 3 ? { flags: 1 } : {},
    );
    a.client.start();
    const next = await s.waitFor((m) => Buffer.from(m.instance_uid).equals(assigned), 'the new uid');
    expect(attrs(next.agent_description.identifying_attributes)['service.instance.id']).toBe(formatUuid(assigned));
    expect(fs.readFileSync(path.join(a.stateDir, INSTANCE_UID_FILE), 'utf8')).toBe(`${formatUuid(assigned)}\n`);
    const full = await s.waitFor((m) => Number(m.sequence_num) === 5, 'the message after ReportFullState');
    expect(full.agent_description).toBeDefined();
    expect(full.effective_config).toBeDefined();
    expect(full.health).toBeDefined();
  });

  it('says goodbye on shutdown, which is safe twice', async () => {
    const s = await server();
    const a = agent(s.url);
    a.client.start();
    await s.waitFor(() => true, 'a message');
    for (let i = 0; i < 250 && a.client.stats.exchanges === 0; i++) await new Promise((r) => setTimeout(r, 20));
    await a.client.shutdown();
    await a.client.shutdown();
    const last = s.messages[s.messages.length - 1]!;
    expect(last.agent_disconnect).toEqual({});
    const from = (c: OpampClient) => (m: Decoded) => Buffer.from(m.instance_uid).equals(c.instanceUid);
    const count = s.messages.filter(from(a.client)).length;
    // A witness polling the same server at the same interval: by its fourth message
    // (three intervals on), a client still polling would have sent two more.
    const w = agent(s.url);
    w.client.start();
    await s.waitFor((m) => from(w.client)(m) && Number(m.sequence_num) >= 4, "the witness's fourth poll");
    expect(s.messages.filter(from(a.client)).length).toBe(count);
  });
});

describe('rings', () => {
  it('a stable hash of the host id into the weights; an explicit ring wins; no rings, no ring; a new ring only takes hosts', () => {
    const rings = [
      { name: 'canary', weight: 1 },
      { name: 'early', weight: 9 },
      { name: 'broad', weight: 90 },
    ];
    expect(resolveRing({ ring: '', rings }, 'host-1')).toBe(resolveRing({ ring: '', rings }, 'host-1'));
    const counts: Record<string, number> = { canary: 0, early: 0, broad: 0 };
    for (let i = 0; i < 20000; i++) counts[resolveRing({ ring: '', rings }, `host-${i}`)!]!++;
    expect(counts.canary! / 20000).toBeGreaterThan(0.007);
    expect(counts.canary! / 20000).toBeLessThan(0.013);
    expect(counts.early! / 20000).toBeGreaterThan(0.08);
    expect(counts.early! / 20000).toBeLessThan(0.1);
    expect(resolveRing({ ring: 'early', rings }, 'host-1')).toBe('early');
    expect(resolveRing({ ring: '', rings: [] }, 'host-1')).toBeUndefined();
    // adding a ring only moves hosts into it
    const withLate = [...rings, { name: 'late', weight: 10 }];
    let moved = 0;
    for (let i = 0; i < 5000; i++) {
      const a = resolveRing({ ring: '', rings }, `host-${i}`);
      const b = resolveRing({ ring: '', rings: withLate }, `host-${i}`);
      if (a !== b) {
        expect(b).toBe('late');
        moved++;
      }
    }
    expect(moved / 5000).toBeGreaterThan(0.07);
    expect(moved / 5000).toBeLessThan(0.11);
  });
});
