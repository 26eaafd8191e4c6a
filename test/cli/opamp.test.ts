// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config references (${env:X}) are literal text here
/**
 * `nrdot run` with opamp.endpoint: the agent reports to a test OpAMP server
 * (official protocol definitions), applies a remote config through the
 * checked apply (APPLIED, the next cycles run it), and a remote config
 * whose exports fail is rolled back by the health check and reported FAILED.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot } from '../helpers/cli.js';
import { attrs, startOpampServer } from '../helpers/opamp-server.js';

const tmp = fastTmpDir('nrdot-opamp-cli-');
const host = path.join(tmp, 'host');
beforeAll(async () => {
  await generateHost({ out: host, processes: 40, seed: 5 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('nrdot run with opamp.endpoint', () => {
  it('reports identity, ring, health and the config as written; applies a remote config, rolls back a failing one and reports it FAILED', async () => {
    const server = await startOpampServer();
    try {
      const token = 'opamp-bearer-5e6f7a8b9c';
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const port = (probe.address() as net.AddressInfo).port;
      await new Promise((r) => probe.close(r));
      const opampBlock = [
        'opamp:',
        `  endpoint: "${server.url}"`,
        '  headers: { authorization: "Bearer ${env:NRDOT_T_OPAMP_TOKEN}" }',
        '  poll_interval: 200ms',
        '  ring: canary',
      ];
      const remote = (lines: string[]) => Buffer.from([...lines, ...opampBlock, ''].join('\n'));
      const good = remote(['export: [none]', 'profile: emergency']);
      const bad = remote([
        `export: ["otlp:http://127.0.0.1:${port}"]`,
        'profile: emergency',
        'reload:',
        '  health_check_cycles: 3',
      ]);
      let sentBad = false;
      let appliedAt = -1;
      server.answer((m, i) => {
        const st = m.remote_config_status;
        if (i === 0) {
          return {
            remote_config: { config: { config_map: { 'nrdot.yaml': { body: good } } }, config_hash: Buffer.from('r1') },
          };
        }
        if (appliedAt < 0 && st?.status === 1 && Buffer.from(st.last_remote_config_hash ?? []).toString() === 'r1') {
          appliedAt = i;
        }
        // r1 has passed its health check (3 cycles of 300 ms) when r2 comes: the rollback returns to r1
        if (!sentBad && appliedAt >= 0 && i >= appliedAt + 8) {
          sentBad = true;
          return {
            remote_config: { config: { config_map: { 'nrdot.yaml': { body: bad } } }, config_hash: Buffer.from('r2') },
          };
        }
        return {};
      });
      const cfg = path.join(tmp, 'opamp.yaml');
      fs.writeFileSync(cfg, ['export: [none]', ...opampBlock, ''].join('\n'));
      const state = path.join(tmp, 'state');
      const r = await nrdot(
        ['run', '--cycles', '16', '--interval', '300ms', '--config', cfg, '--proc-root', host, '--state-dir', state],
        { env: { NRDOT_T_OPAMP_TOKEN: token }, cwd: tmp },
      );
      expect(r.code === 0 || r.code === 3, r.stderr).toBe(true);
      const first = server.messages[0]!;
      expect(attrs(first.agent_description.non_identifying_attributes)['nrdot.ring']).toBe('canary');
      expect(attrs(first.agent_description.identifying_attributes)['service.name']).toBe('nrdot');
      expect(first.effective_config.config_map.config_map['opamp.yaml'].body.equals(fs.readFileSync(cfg))).toBe(true);
      expect(server.headers[0]!.authorization).toBe(`Bearer ${token}`);
      const status = (hash: string, code: number) =>
        server.messages.find(
          (m) =>
            m.remote_config_status?.status === code &&
            Buffer.from(m.remote_config_status.last_remote_config_hash ?? []).toString() === hash,
        );
      expect(status('r1', 1), 'r1 APPLIED').toBeDefined();
      const failed = status('r2', 3);
      expect(failed, 'r2 FAILED').toBeDefined();
      expect(failed!.remote_config_status.error_message).toMatch(/rolled back after it was applied: export failures/);
      expect(server.messages.at(-1)!.agent_disconnect).toEqual({});
      // the uid it reported is the one it keeps
      const uid = Buffer.from(first.instance_uid).toString('hex');
      expect(fs.readFileSync(path.join(state, 'opamp-instance-uid'), 'utf8').replace(/-/g, '').trim()).toBe(uid);
      expect(r.stderr).not.toContain(token);
      // the audit log (server.audit_log, ./data/audit.log under the working directory)
      const audit = fs
        .readFileSync(path.join(tmp, 'data', 'audit.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(audit.map((a) => [a.action, a.source ?? a.reason, a.outcome])).toEqual([
        ['config.apply', 'start', 'ok'],
        // the remote config's profile: a control decision at the swap, then the lifecycle's line
        ['control.decision', 'manual', 'ok'],
        ['config.apply', 'opamp', 'ok'],
        ['config.apply', 'opamp', 'ok'],
        ['config.rollback', 'rollback', 'rolled_back'],
      ]);
      expect(audit[1].after).toMatchObject({ profile: 'emergency' });
      expect(audit[2].who).toBe(`opamp:${new URL(server.url).host}`);
      // the cycles ran the local profile, then the remote one (it stays: the rollback returns to r1)
      const cycles = r.stdout.trim().split('\n');
      expect(cycles).toHaveLength(16);
      expect(cycles[0]).toContain('[balanced]');
      expect(cycles.at(-1)).toContain('[emergency]');
    } finally {
      await server.close();
    }
  }, 60_000);
});
