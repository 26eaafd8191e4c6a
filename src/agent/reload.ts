/**
 * Hot reload, the engine's part (docs/CONFIG-LIFECYCLE.md): `build` makes
 * the pipeline of a new config beside the running one; the candidate's
 * `commit` swaps it in between two cycles; `health` is each cycle's verdict
 * for the health-checked apply.
 *
 *   build:   what needs a restart is refused with the key; then the profile,
 *            the command-line privacy, the exporters (unchanged ones reused,
 *            src/agent/switch-sink.ts) and a new Engine, none started
 *   commit:  between two cycles: the new engine starts on the old one's
 *            identities, stage state and counters (carry.ts), the exporters
 *            swap, the agent takes the new engine, config, interval and log
 *            level, the control loop takes the new config (and sets the new
 *            engine's profile and knob), and the old engine shuts down (its
 *            scoring workers; the sink is the agent's). A failure before the
 *            swap leaves the running pipeline as it was.
 *
 * Flags given on the command line (--export, --interval, --log-level) keep
 * overriding the config across reloads. The profile: a reload that changes
 * `profile:` makes it the base profile (in force when no schedule or budget
 * decides) and ends a manual override (`nrdot profile set`); what runs is
 * what the control loop resolves under the new config
 * (src/control/loop/plane.ts, reconfigure).
 */
import { exporterOptions } from '../config/components.js';
import type { LoadedConfig } from '../config/load.js';
import { type Config, durationMs } from '../config/schema.js';
import { unknownProfile } from '../config/unknown-profile.js';
import type { Candidate, CycleHealth } from '../control/config/lifecycle.js';
import type { CycleReport } from '../pipeline/types.js';
import { loadCommandLinePrivacy } from '../util/privacy.js';
import type { Agent } from './agent.js';
import { carryState } from './carry.js';
import { SwitchableSink } from './switch-sink.js';

/** Config keys a running agent cannot change (they hold ports, directories, the scanner, the governor). */
export const RESTART_KEYS = [
  'server',
  'receiver',
  'queue.dir',
  'state_dir',
  'scan.proc_root',
  'scan.host_name',
  'scan.history',
  'memory',
  'opamp',
  'discovery',
] as const;

function at(c: Config, key: string): unknown {
  let v: unknown = c;
  for (const k of key.split('.')) v = (v as Record<string, unknown> | undefined)?.[k];
  return v;
}

/** The restart-only keys whose value differs (names only: values may hold secrets). */
export function restartOnlyChanges(before: Config, after: Config): string[] {
  return RESTART_KEYS.filter((k) => JSON.stringify(at(before, k)) !== JSON.stringify(at(after, k)));
}

export async function buildCandidate(agent: Agent, next: LoadedConfig): Promise<Candidate> {
  const cfg = next.config;
  const changed = restartOnlyChanges(agent.config, cfg);
  if (changed.length > 0) {
    throw new Error(
      `${changed.map((k) => `\`${k}\``).join(', ')} changed: that needs a restart (apply the rest without it, or restart the agent)`,
    );
  }
  const flags = agent.options.flags ?? {};
  const profile =
    cfg.profile !== agent.config.profile || !cfg.profiles[agent.engine.activeProfile]
      ? cfg.profile
      : agent.engine.activeProfile;
  if (!cfg.profiles[profile]) throw unknownProfile(profile, cfg, 'profile');
  // the profile in force when nothing else decides (the control loop's base): as the profile above
  const base = agent.control.plane.base;
  const baseProfile = cfg.profile !== agent.config.profile || !cfg.profiles[base] ? cfg.profile : base;
  const privacy = loadCommandLinePrivacy(cfg.privacy);
  const intervalMs = flags.intervalMs ?? durationMs(cfg.interval);
  const specs = flags.export ?? cfg.export;
  const plan = SwitchableSink.plan(
    specs,
    exporterOptions(cfg, { logger: agent.logger, queueDir: agent.queueDir }),
    agent.sink.running,
  );
  const running = agent.engine;
  const engine = agent.newEngine(cfg, profile, intervalMs, privacy, {
    engine: running,
    restore: (from, ids, parts) => carryState(from, ids, parts, Date.now(), agent.logger),
  });
  let done = false;
  return {
    commit: () =>
      agent.betweenCycles(async () => {
        if (agent.engine !== running) throw new Error('the running pipeline changed while this one was built');
        await engine.start();
        let sink: { started: string[]; retired: string[] } | undefined;
        if (plan.fresh.length > 0 || plan.slots.length !== agent.sink.running.length) {
          try {
            sink = await agent.sink.swap(plan);
          } catch (e) {
            await engine.shutdown();
            throw new Error(`the exporters could not start: ${(e as Error).message}`);
          }
        }
        done = true;
        agent.engine = engine;
        const before = agent.config;
        agent.config = cfg;
        agent.configHash = next.hash;
        agent.intervalMs = intervalMs;
        agent.commandLine = privacy;
        if (!flags.logLevel && cfg.log_level !== before.log_level) agent.logger.level = cfg.log_level;
        // the control loop follows: interval, base profile, budget, schedules, loop settings (it sets the new engine's profile and knob)
        try {
          agent.control.reconfigure({
            ...{ config: cfg, intervalMs, baseProfile, ranProfile: running.activeProfile },
            profileChanged: cfg.profile !== before.profile,
          });
        } catch (e) {
          agent.logger.error({ err: (e as Error).message }, 'reload: the control loop could not take the new config');
        }
        // swapped: whatever the old engine's shutdown says, the new config runs
        await running
          .shutdown()
          .catch((e) =>
            agent.logger.warn({ err: (e as Error).message }, 'reload: the old engine did not shut down cleanly'),
          );
        agent.logger.info(
          {
            profile,
            intervalMs,
            identities: engine.identities,
            ...(sink ? { exportersStarted: sink.started, exportersRetired: sink.retired } : {}),
          },
          'reload: the new pipeline runs from the next cycle',
        );
      }),
    discard: async () => {
      if (done) return;
      done = true;
      await agent.sink.discard(plan);
    },
  };
}

const BAD_TIERS = new Set(['critical_only', 'refuse_input']);

/**
 * Each cycle's health verdict: export failures (every exporter failed this
 * cycle, a breaker open, or a queued endpoint that failed and delivered
 * nothing since the last cycle), critical coverage below 100%, a cycle
 * longer than the interval, the memory governor at critical_only or
 * refuse_input. Keeps the delivery figures between calls: call it once per
 * cycle.
 */
export class HealthVerdict {
  private last = new Map<string, { failures: number; sent: number }>();

  constructor(private readonly agent: Agent) {}

  check(r: CycleReport): CycleHealth {
    const why: string[] = [];
    const failed = r.exports.filter((e) => !e.ok);
    if (r.exports.length > 0 && failed.length === r.exports.length) {
      why.push(
        `export failures: all ${r.exports.length} exporters failed this cycle (${failed[0]!.exporter}: ${failed[0]!.error ?? 'failed'})`,
      );
    }
    const seen = new Map<string, { failures: number; sent: number }>();
    // the exporters of the config in effect: a retired one still draining is not this config's doing
    for (const h of this.agent.sink.currentHealth()) {
      const now = { failures: h.failures, sent: h.sent.records };
      const before = this.last.get(h.exporter);
      seen.set(h.exporter, now);
      if (h.breaker === 2) {
        why.push(`export failures: the breaker of ${h.exporter} is open`);
        continue;
      }
      const failures = now.failures - (before?.failures ?? 0);
      const sent = now.sent - (before?.sent ?? 0);
      if (failures > 0 && sent <= 0) {
        why.push(`export failures: ${failures} delivery attempts to ${h.exporter} failed, none delivered`);
      }
    }
    this.last = seen;
    if (r.coverageCritical < 1) {
      why.push(
        `critical coverage ${(r.coverageCritical * 100).toFixed(1)}% (${r.critical.exported} of ${r.critical.present})`,
      );
    }
    if (r.cycleMs > this.agent.intervalMs) {
      why.push(`the cycle took ${Math.round(r.cycleMs)} ms, longer than the ${this.agent.intervalMs} ms interval`);
    }
    if (BAD_TIERS.has(r.memory.tierName)) why.push(`memory tier ${r.memory.tierName}`);
    const hash = this.agent.configOf(r);
    return why.length === 0 ? { ok: true, hash } : { ok: false, reason: why.join('; '), hash };
  }
}
