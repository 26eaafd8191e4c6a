/**
 * The control loop across a hot reload of a real agent (PUT /api/config on
 * loopback, cycles driven by the test, the control clock injected): after
 * the reload it steers with the new config's interval, budget, schedules,
 * base profile and loop settings, and its webhooks are the new config's.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { type LoopbackServer, startLoopbackServer } from '../helpers/loopback-http.js';
import { auditLines, b64, baseYaml, type Harness, perTest } from './reload-harness.js';

const t = perTest('nrdot-reload-control-');
let hook: LoopbackServer;

beforeAll(async () => {
  hook = await startLoopbackServer(() => ({ status: 200 }));
});
afterAll(async () => {
  await hook.close();
});
beforeEach(() => {
  hook.requests.length = 0;
});

interface ControlView {
  source: string;
  budget: Record<string, number> | null;
  profile: string;
  projected: { ratio: number | null };
  decisions: Record<string, number>;
  recent: { reason: string; detail?: string; before: { profile?: string }; after: { profile?: string } }[];
}
const control = (h: Harness) => (h.agent.status() as { control: ControlView }).control;

async function apply(h: Harness, yaml: string): Promise<void> {
  const r = await h.put('/api/config', { config_base64: b64(yaml) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  expect(r.body).toMatchObject({ ok: true, outcome: 'applied' });
}

describe('the control loop follows a hot reload', () => {
  it('steers with the reloaded interval and budget, and posts to the reloaded webhooks', async () => {
    const h = await t.start(baseYaml(t.dir)); // interval 60s, no budget
    await h.cycle();
    const r = await h.cycle();
    expect(control(h).source).toBe('off');
    // a budget the 10 s interval meets exactly (at 60 s it would be a sixth of it)
    const perMinute = r.datapoints.exported * 6;
    const loop = '  loop: { hysteresis: 0.5, smoothing: 1, breach_ratio: 10 }';
    const next = baseYaml(
      t.dir,
      [
        'control:',
        `  budget: { points_per_minute: ${perMinute} }`,
        loop,
        `  notify: [{ url: "${hook.origin}/hook" }]`,
      ].join('\n'),
    ).replace('interval: 60s', 'interval: 10s');
    await apply(h, next);
    expect(h.agent.intervalMs).toBe(10_000);
    await h.cycle();
    const c = control(h);
    expect(c.source).toBe('loop');
    expect(c.budget).toEqual({ points_per_minute: perMinute });
    // points per minute from the 10 s interval: about the budget, not a sixth of it
    expect(c.projected.ratio).toBeGreaterThan(0.6);
    expect(c.projected.ratio).toBeLessThan(1.5);
    expect(c.profile).toBe('balanced');
    // the budget taking over is a decision: audited, counted, posted to the webhook the reload added
    expect(c.recent.at(-1)).toMatchObject({ reason: 'manual', detail: 'config reload: control.budget applies' });
    expect(auditLines(t.dir).filter((l) => l.action === 'control.decision')).toMatchObject([
      { reason: 'manual', after: { profile: 'balanced', budget: { points_per_minute: perMinute } } },
    ]);
    expect(h.agent.registry.render()).toMatch(/^nrdot_control_decisions_total\{reason="manual"\} 1$/m);
    await h.agent.control.close();
    expect(hook.requests.map((q) => JSON.parse(q.body.toString()).reason)).toEqual(['manual']);
  });

  it('follows the reloaded schedules and base profile (not those it started with)', async () => {
    const clock = { t: Date.UTC(2025, 0, 6, 7, 58) }; // a Monday, 07:58 UTC
    const h = await t.start(baseYaml(t.dir), 150, { controlNow: () => clock.t });
    await h.cycle();
    const office = '  schedules: [{ name: office, window: "Mon-Fri 08:00-18:00", timezone: UTC, profile: aggressive }]';
    await apply(h, baseYaml(t.dir, ['profile: conservative', 'control:', office].join('\n')));
    const profiles: string[] = [];
    const cycle = async (at: number) => {
      clock.t = at;
      profiles.push((await h!.cycle()).profile);
    };
    await cycle(Date.UTC(2025, 0, 6, 7, 59)); // the new base profile
    await cycle(Date.UTC(2025, 0, 6, 8, 1)); // the schedule the reload added starts after this cycle
    await cycle(Date.UTC(2025, 0, 6, 8, 2));
    await cycle(Date.UTC(2025, 0, 6, 18, 1)); // ends after this one: back to the reloaded base
    await cycle(Date.UTC(2025, 0, 6, 18, 2));
    expect(profiles).toEqual(['conservative', 'conservative', 'aggressive', 'aggressive', 'conservative']);
    expect(control(h).recent.map((e) => [e.reason, e.before.profile, e.after.profile])).toEqual([
      ['manual', 'balanced', 'conservative'],
      ['schedule', 'conservative', 'aggressive'],
      ['schedule', 'aggressive', 'conservative'],
    ]);
  });

  it('a manual override holds across a reload, and ends when the reload changes profile:', async () => {
    const h = await t.start(baseYaml(t.dir));
    await h.cycle();
    h.agent.setProfile('aggressive', { who: 'test' });
    await h.cycle();
    await apply(h, baseYaml(t.dir, 'cost: { price_per_gb: 0.31 }'));
    expect((await h.cycle()).profile).toBe('aggressive');
    expect(control(h).source).toBe('manual');
    await apply(h, baseYaml(t.dir, 'cost: { price_per_gb: 0.31 }\nprofile: conservative'));
    expect((await h.cycle()).profile).toBe('conservative');
    expect(control(h).source).toBe('off');
  });

  it('follows the reloaded loop settings: a breach jumps to the emergency profile the reload names', async () => {
    // no visibility floor: a breach goes to the emergency profile (with one, to the cheapest setting keeping it)
    const h = await t.start(
      baseYaml(t.dir, 'control:\n  budget: { points_per_minute: 1 }\n  loop: { visibility_floor: 0 }'),
    );
    const profiles: string[] = [];
    for (let i = 0; i < 3; i++) profiles.push((await h.cycle()).profile);
    expect(profiles).toEqual(['balanced', 'balanced', 'emergency']);
    const { config } = loadConfig();
    const thrifty = JSON.stringify({ thrifty: config.profiles.emergency });
    const next = baseYaml(
      t.dir,
      [
        `profiles: ${thrifty}`,
        'control:',
        '  budget: { points_per_minute: 1 }',
        '  loop: { emergency_profile: thrifty, breach_cycles: 1, visibility_floor: 0 }',
      ].join('\n'),
    );
    await apply(h, next);
    for (let i = 0; i < 2; i++) profiles.push((await h.cycle()).profile);
    // the new controller takes over at the setting in force, and the first breach jumps to the new emergency profile
    expect(profiles.slice(3)).toEqual(['emergency', 'thrifty']);
    expect(control(h).recent.at(-1)).toMatchObject({ reason: 'budget', after: { profile: 'thrifty' } });
  });
});
