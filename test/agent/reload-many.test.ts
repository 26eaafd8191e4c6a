/**
 * Hot reload, repeated and undone: 100 reloads in a row on a host that keeps
 * changing (processes start and exit between cycles), every data point the
 * engine reported found once in the file exporters' output; and
 * `nrdot rollback --to-timestamp` (the built CLI, against this agent's
 * control server) restoring the exact bytes in effect at that time.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigHistory } from '../../src/control/config/history/store.js';
import { nrdot } from '../helpers/cli.js';
import { b64, baseYaml, filePoints, perTest, TOKEN } from './reload-harness.js';

const t = perTest('nrdot-reload-many-');

const PROFILES = ['balanced', 'aggressive', 'conservative', 'emergency'];

function localStamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

describe('hot reload, repeated', () => {
  it('100 reloads in a row, a cycle between each, lose and duplicate no data point', async () => {
    const h = await t.start(baseYaml(t.dir), 120);
    await h.cycle();
    const outs = new Set([path.join(t.dir, 'out-a.jsonl')]);
    let applied = 0;
    for (let i = 1; i <= 100; i++) {
      // every reload changes the profile; every fourth also moves the export to another file
      const out = `out-${Math.floor(i / 4) % 3}.jsonl`;
      outs.add(path.join(t.dir, out));
      const yaml = baseYaml(t.dir, `profile: ${PROFILES[i % PROFILES.length]}\n# reload ${i}`, out);
      const r = await h.put('/api/config', { config_base64: b64(yaml) });
      expect(r.body.ok, JSON.stringify(r.body)).toBe(true);
      if (r.body.outcome === 'applied') applied++;
      const rep = await h.cycle();
      expect(rep.profile).toBe(PROFILES[i % PROFILES.length]);
    }
    expect(applied).toBe(100);
    expect(h.reports.map((r) => r.cycle)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    const written = [...outs].reduce((n, f) => n + filePoints(f), 0);
    const reported = h.reports.reduce((n, r) => n + r.datapoints.exported, 0);
    expect(written).toBe(reported);
    // every config passed its health check: no rollback among them
    const hist = ConfigHistory.inStateDir(path.join(t.dir, 'state')).list();
    expect(hist.filter((v) => v.result !== 'applied')).toEqual([]);
  });

  it('nrdot rollback --to-timestamp on a running agent restores the exact bytes in effect then', async () => {
    const h = await t.start(baseYaml(t.dir));
    await h.cycle();
    const v2 = `${baseYaml(t.dir, 'profile: aggressive')}\n# the one to come back to, byte for byte   \n`;
    expect((await h.put('/api/config', { config_base64: b64(v2) })).body.outcome).toBe('applied');
    await h.cycle();
    expect(
      (await h.put('/api/config', { config_base64: b64(baseYaml(t.dir, 'profile: emergency')) })).body.version,
    ).toBe(3);
    await h.cycle();
    const hist = ConfigHistory.inStateDir(path.join(t.dir, 'state'));
    const at = localStamp(hist.get(2).timeMs);
    const r = await nrdot(['rollback', '--to-timestamp', at, '--url', h.url, '--reason', 'back to v2'], {
      env: { NRDOT_TOKEN: TOKEN },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^applied as v4 \(the bytes of v2\)/);
    expect(h.live.life.current.bytes.equals(Buffer.from(v2))).toBe(true);
    expect(hist.get(4)).toMatchObject({ source: 'rollback', restoredFrom: 2, result: 'applied' });
    expect(hist.get(4).bytes.equals(Buffer.from(v2))).toBe(true);
    await h.cycle();
    expect(h.reports.at(-1)!.profile).toBe('aggressive');
  });
});
