/**
 * One audit writer per agent: the control server (profile.set), the config
 * lifecycle (config.apply) and the control loop (control.decision) all
 * append through the agent's AuditLog, so the file holds every line in the
 * order the parts wrote them, interleaved across parts.
 */
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { auditLines, b64, baseYaml, perTest, TOKEN } from './reload-harness.js';

const t = perTest('nrdot-audit-');

describe('the audit log of a running agent', () => {
  it('has one writer: lines of the server, the config lifecycle and the control loop in the order written', async () => {
    const h = await t.start(baseYaml(t.dir));
    await h.cycle();
    const audit = h.agent.audit!;
    expect(audit.file).toBe(`${t.dir}/audit.log`);
    const before = auditLines(t.dir).length;
    expect(before).toBe(1); // the start version
    // every line any part writes goes through this object
    const written: string[] = [];
    const pending: Promise<void>[] = [];
    const append = audit.append.bind(audit);
    audit.append = (entry) => {
      written.push(`${entry.action}:${'outcome' in entry ? entry.outcome : ''}`);
      const p = append(entry);
      pending.push(p);
      return p;
    };
    const profile = (name: string) =>
      request(`${h!.url}/api/profile`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ profile: name }),
      }).then((r) => r.body.dump());
    // the parts at once: a profile change, a config that changes profile: (the lifecycle's line and
    // the loop's decision), a refused one, another profile change
    await Promise.all([
      profile('aggressive'),
      h.put('/api/config', { config_base64: b64(baseYaml(t.dir, 'profile: conservative')) }),
      h.put('/api/config', { config_base64: b64(`${baseYaml(t.dir)}\nturbo: 1\n`) }),
      profile('emergency'),
    ]);
    await Promise.all(pending);
    const lines = auditLines(t.dir).slice(before);
    expect(lines.map((l) => `${l.action}:${l.outcome}`)).toEqual(written);
    expect(new Set(lines.map((l) => l.action))).toEqual(new Set(['profile.set', 'config.apply', 'control.decision']));
    expect(lines).toHaveLength(5);
  });
});
