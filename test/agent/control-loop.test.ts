/**
 * The control loop through the real Agent on a synthetic host, with an
 * injected clock (no sleeping): a schedule switches the profile at its
 * boundaries, a manual override outranks it and expires, a budget breach of
 * 1.2x jumps to the emergency profile and says the budget is unmet. Every
 * decision reaches the audit log, a webhook on loopback, /api/status and
 * /metrics.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/core/log.js';
import { generateHost } from '../../src/harness/synth/index.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { type LoopbackServer, startLoopbackServer } from '../helpers/loopback-http.js';

let root: string;
let procRoot: string;
let agent: Agent | undefined;
let hook: LoopbackServer;
let n = 0;

beforeAll(async () => {
  root = fastTmpDir('nrdot-control-loop-');
  procRoot = path.join(root, 'proc');
  await generateHost({ out: procRoot, processes: 300, seed: 3 });
  hook = await startLoopbackServer(() => ({ status: 200 }));
});
afterEach(async () => {
  await agent?.shutdown();
  agent = undefined;
});
afterAll(async () => {
  await hook.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const MIN = 60_000;

function makeAgent(edit: (c: Config) => void, clock: { t: number }, readMemoryBytes?: () => number) {
  const { config } = loadConfig();
  config.discovery.enabled = 'off' as never;
  config.server.audit_log = path.join(root, `audit-${++n}.log`);
  config.control.notify = [{ url: `${hook.origin}/hook` }];
  edit(config);
  agent = new Agent({
    config,
    profile: 'balanced',
    logger: silentLogger,
    procRoot,
    backend: 'ts',
    intervalMs: 10_000,
    exportSpecs: ['none'],
    queueDir: '',
    listen: 'off',
    otlpListen: 'off',
    workers: 0,
    noDiscovery: true,
    controlNow: () => clock.t,
    readMemoryBytes,
  });
  return { agent, audit: config.server.audit_log };
}

describe('the control loop in the agent', () => {
  it('schedule boundaries, a manual override that outranks the schedule and expires', async () => {
    const clock = { t: Date.UTC(2025, 0, 6, 7, 58) }; // a Monday, 07:58 UTC
    const { agent: a, audit } = makeAgent((c) => {
      c.control.schedules = [
        { name: 'office', window: 'Mon-Fri 08:00-18:00', timezone: 'UTC', profile: 'aggressive', priority: 0 },
      ];
    }, clock);
    await a.start();
    const profiles: string[] = [];
    const cycle = async (advanceMs: number) => {
      clock.t += advanceMs;
      profiles.push((await a.cycle()).profile);
    };
    await cycle(0); // 07:58 balanced
    await cycle(MIN); // 07:59 balanced
    await cycle(MIN); // 08:00 ran balanced; the schedule starts after it
    await cycle(10_000); // aggressive
    expect(profiles).toEqual(['balanced', 'balanced', 'balanced', 'aggressive']);

    // a manual override for 30 minutes outranks the schedule
    a.setProfile('conservative', { who: 'token:test', reason: 'incident', expiresInMs: 30 * MIN });
    await cycle(10_000);
    await cycle(20 * MIN);
    expect(profiles.slice(-2)).toEqual(['conservative', 'conservative']);
    const st = a.status() as { control: { source: string; override?: { profile: string } } };
    expect(st.control.source).toBe('manual');
    expect(st.control.override?.profile).toBe('conservative');
    await cycle(11 * MIN); // expired during this cycle's wait: applies from the next one
    await cycle(10_000);
    expect(profiles.at(-1)).toBe('aggressive');
    // 18:00 the schedule ends: back to the profile the agent started with
    clock.t = Date.UTC(2025, 0, 6, 18, 0, 5);
    await cycle(0);
    await cycle(10_000);
    expect(profiles.at(-1)).toBe('balanced');

    const control = (a.status() as { control: { recent: { reason: string; after: { profile: string } }[] } }).control;
    expect(control.recent.map((e) => [e.reason, e.after.profile])).toEqual([
      ['schedule', 'aggressive'],
      ['manual', 'conservative'],
      ['schedule', 'aggressive'], // the override expired: the schedule decides again
      ['schedule', 'balanced'],
    ]);
    await a.shutdown();
    // the agent's own decisions are audited (the manual one is the API's profile.set line)
    const lines = fs
      .readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { action: string; reason: string; after: { profile: string } });
    expect(lines.map((l) => [l.action, l.reason, l.after.profile])).toEqual([
      ['control.decision', 'schedule', 'aggressive'],
      ['control.decision', 'schedule', 'aggressive'],
      ['control.decision', 'schedule', 'balanced'],
    ]);
    // every decision went to the webhook, in order
    const bodies = hook.requests.map((r) => JSON.parse(r.body.toString()) as { kind: string; reason: string });
    expect(bodies.map((b) => b.reason)).toEqual(['schedule', 'manual', 'schedule', 'schedule']);
    expect(bodies.every((b) => b.kind === 'nrdot.control.decision')).toBe(true);
  });

  it('a budget breach of 1.2x jumps to the emergency profile, and an unmeetable budget is reported', async () => {
    hook.requests.length = 0;
    const clock = { t: Date.UTC(2025, 0, 6, 12, 0) };
    const { agent: a } = makeAgent((c) => {
      c.control.budget = { points_per_minute: 1 }; // nothing can meet this
      c.control.loop.visibility_floor = 0; // with a floor, a breach goes to the cheapest setting keeping it (test/control/loop/breach.test.ts)
    }, clock);
    await a.start();
    const reports = [];
    for (let k = 0; k < 6; k++) {
      clock.t += 10_000;
      reports.push(await a.cycle());
    }
    expect(reports.map((r) => r.profile)).toEqual([
      'balanced',
      'balanced',
      'emergency',
      'emergency',
      'emergency',
      'emergency',
    ]);
    // critical processes are still all exported
    for (const r of reports) expect(r.coverageCritical).toBe(1);
    const st = (
      a.status() as { control: { source: string; unmet: { reason: string } | null; decisions: { budget: number } } }
    ).control;
    expect(st.source).toBe('loop');
    expect(st.unmet?.reason).toBe('emergency');
    expect(st.decisions.budget).toBe(2); // a first step of the knob, then the jump
    const metrics = a.registry.render();
    expect(metrics).toMatch(/^nrdot_control_budget_unmet 1$/m);
    expect(metrics).toMatch(/^nrdot_control_decisions_total\{reason="budget"\} 2$/m);
    expect(metrics).toMatch(/^nrdot_control_projected_daily_spend \d/m);
    expect(metrics).toMatch(/^nrdot_coverage_visibility\{resource="memory"\} (0|1)(\.\d+)?$/m);
  });

  it('memory tiers the governor engages and releases are decisions: audited, counted, in status, posted', async () => {
    hook.requests.length = 0;
    const clock = { t: Date.UTC(2025, 0, 6, 12, 0) };
    const MIB = 1024 * 1024;
    let rss = 40 * MIB;
    const { agent: a, audit } = makeAgent(
      (c) => {
        c.memory.limit_mib = 100;
      },
      clock,
      () => rss,
    );
    await a.start();
    clock.t += 10_000;
    await a.cycle();
    rss = 65 * MIB; // 65% of the limit: drop_noise engages
    a.governor.check();
    clock.t += 10_000;
    rss = 75 * MIB; // drop_standard
    a.governor.check();
    clock.t += 10_000;
    rss = 20 * MIB; // one tier released per reading
    a.governor.check();
    expect(a.governor.tierName).toBe('drop_noise');
    const st = (
      a.status() as {
        control: { decisions: { memory: number }; recent: { reason: string; before: unknown; after: unknown }[] };
      }
    ).control;
    expect(st.decisions.memory).toBe(3);
    expect(st.recent.map((e) => [e.reason, e.before, e.after])).toEqual([
      ['memory', { memory: { tier: 'normal', drops: [] } }, { memory: { tier: 'drop_noise', drops: ['noise'] } }],
      [
        'memory',
        { memory: { tier: 'drop_noise', drops: ['noise'] } },
        { memory: { tier: 'drop_standard', drops: ['noise', 'standard'] } },
      ],
      [
        'memory',
        { memory: { tier: 'drop_standard', drops: ['noise', 'standard'] } },
        { memory: { tier: 'drop_noise', drops: ['noise'] } },
      ],
    ]);
    expect(a.registry.render()).toMatch(/^nrdot_control_decisions_total\{reason="memory"\} 3$/m);
    await a.shutdown();
    const lines = fs
      .readFileSync(audit, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      time: new Date(Date.UTC(2025, 0, 6, 12, 0, 10)).toISOString(),
      who: 'nrdot',
      action: 'control.decision',
      reason: 'memory',
      before: { memory: { tier: 'normal' } },
      after: { memory: { tier: 'drop_noise', drops: ['noise'] } },
      detail: 'memory at 65% of memory.limit_mib (65 of 100 MiB): shedding more',
      outcome: 'ok',
    });
    expect(lines[2]).toMatchObject({ detail: 'memory at 20% of memory.limit_mib (20 of 100 MiB): shedding less' });
    const bodies = hook.requests.map((r) => JSON.parse(r.body.toString()) as { reason: string; text: string });
    expect(bodies.map((b) => b.reason)).toEqual(['memory', 'memory', 'memory']);
    expect(bodies[0]!.text).toMatch(/memory tier normal -> memory tier drop_noise \(drops noise\) \(memory: /);
  });
});
