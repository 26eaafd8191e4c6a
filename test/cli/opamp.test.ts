// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config references (${env:X}) are literal text here
/**
 * `nrdot run` with opamp.endpoint: the agent reports to a test OpAMP server
 * (official protocol definitions); until hot reload is wired, a remote
 * config is answered FAILED with that reason and the local config stays.
 */
import * as fs from 'node:fs';
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
  it('reports identity, ring, health and the config as written; refuses remote configs until hot reload, keeping its own', async () => {
    const server = await startOpampServer();
    try {
      const token = 'opamp-bearer-5e6f7a8b9c';
      server.answer((_m, i) =>
        i === 0
          ? {
              remote_config: {
                config: { config_map: { 'nrdot.yaml': { body: Buffer.from('profile: emergency\n') } } },
                config_hash: Buffer.from('r1'),
              },
            }
          : {},
      );
      const cfg = path.join(tmp, 'opamp.yaml');
      fs.writeFileSync(
        cfg,
        [
          'export: [none]',
          'opamp:',
          `  endpoint: "${server.url}"`,
          '  headers: { authorization: "Bearer ${env:NRDOT_T_OPAMP_TOKEN}" }',
          '  poll_interval: 200ms',
          '  ring: canary',
          '',
        ].join('\n'),
      );
      const state = path.join(tmp, 'state');
      const r = await nrdot(
        ['run', '--cycles', '4', '--interval', '500ms', '--config', cfg, '--proc-root', host, '--state-dir', state],
        { env: { NRDOT_T_OPAMP_TOKEN: token }, cwd: tmp },
      );
      expect(r.code, r.stderr).toBe(0);
      const first = server.messages[0]!;
      expect(attrs(first.agent_description.non_identifying_attributes)['nrdot.ring']).toBe('canary');
      expect(attrs(first.agent_description.identifying_attributes)['service.name']).toBe('nrdot');
      expect(first.effective_config.config_map.config_map['opamp.yaml'].body.equals(fs.readFileSync(cfg))).toBe(true);
      expect(server.headers[0]!.authorization).toBe(`Bearer ${token}`);
      const failed = server.messages.find((m) => m.remote_config_status?.status === 3);
      expect(failed?.remote_config_status.error_message).toContain('this agent cannot apply remote configs yet');
      expect(server.messages.at(-1)!.agent_disconnect).toEqual({});
      // the uid it reported is the one it keeps
      const uid = Buffer.from(first.instance_uid).toString('hex');
      expect(fs.readFileSync(path.join(state, 'opamp-instance-uid'), 'utf8').replace(/-/g, '').trim()).toBe(uid);
      expect(r.stderr).not.toContain(token);
      // the refusal is in the audit log (server.audit_log, ./data/audit.log under the working directory)
      const audit = fs
        .readFileSync(path.join(tmp, 'data', 'audit.log'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(audit.map((a) => [a.action, a.source, a.outcome])).toEqual([
        ['config.apply', 'start', 'ok'],
        ['config.refused', 'opamp', 'refused'],
      ]);
      expect(audit[1].who).toBe(`opamp:${new URL(server.url).host}`);
      expect(audit[1].reason).toContain('this agent cannot apply remote configs yet');
      // every cycle ran with the local config's profile
      const cycles = r.stdout.trim().split('\n');
      expect(cycles).toHaveLength(4);
      for (const line of cycles) expect(line).toContain('[balanced]');
    } finally {
      await server.close();
    }
  });
});
