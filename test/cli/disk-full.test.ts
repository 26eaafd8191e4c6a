/**
 * A disk that fills up during a backend outage, the way it was found: the
 * built CLI with its queue and state directories on a small tmpfs mounted
 * for the test, a backend answering 503, and a filler file taking most of
 * the space. Then the filler goes (space returns) and the backend recovers.
 *
 * What must hold: every data point the agent accepted (the file sink's
 * record) is either delivered or counted in nrdot_export_dropped_total,
 * exactly; every lane that had refusals is named in a warning; state saving
 * resumes once there is space again.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { countDataPoints } from '../../src/otlp/model.js';
import { decodeRequest } from '../../src/otlp/proto.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { type RunningAgent, startAgent } from '../helpers/cli.js';
import { startLoopbackServer } from '../helpers/loopback-http.js';
import { readRequests } from '../helpers/otlp-file.js';
import { until } from '../helpers/until.js';

const tmp = fastTmpDir('nrdot-diskfull-');
const host = path.join(tmp, 'host');
const config = path.join(tmp, 'cfg.yaml');
const mnt = path.join(tmp, 'tiny');
let mounted = false;
let mountError = '';
let agent: RunningAgent | undefined;

beforeAll(async () => {
  await generateHost({ out: host, processes: 300, seed: 11 });
  fs.writeFileSync(
    config,
    [
      'export_options:',
      '  otlp:',
      '    timeout: 2s',
      '    retry: { initial_interval: 50ms, max_interval: 200ms, max_attempts: 2, max_elapsed: 2s }',
      '    breaker: { failure_threshold: 3, open_time: 100ms, max_open_time: 300ms }',
      '    shutdown_drain: 20s',
      'memory: { limit_mib: 0, check_interval: 1s, hysteresis: 0.05 }',
      'scoring: { workers: 0, checkpoint_cycles: 1, state_ttl: 1h }',
      '',
    ].join('\n'),
  );
  fs.mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (e) {
    mountError = (e as Error).message;
  }
}, 60_000);

afterAll(() => {
  agent?.kill();
  if (mounted) execFileSync('umount', ['-l', mnt]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function json(url: string): Promise<unknown> {
  const r = await fetch(url);
  return r.json();
}

function droppedTotal(metrics: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of metrics.matchAll(/^nrdot_export_dropped_total\{[^}]*reason="(\w+)"\} (\S+)$/gm)) {
    out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
  }
  return out;
}

describe('a small disk filling during an outage', () => {
  it('counts every refused or evicted point by lane, names every lane refused, and resumes state saving', async (ctx) => {
    if (!mounted) {
      console.warn(`SKIPPED: cannot mount a tmpfs here (${mountError}); the disk-full accounting test did not run`);
      ctx.skip();
    }
    const filler = path.join(mnt, 'filler');
    fs.writeFileSync(filler, Buffer.alloc(640 << 10, 1));
    let healthy = false;
    let deliveredPoints = 0;
    let refusedAttempts = 0;
    const backend = await startLoopbackServer((r) => {
      if (!healthy) {
        refusedAttempts++;
        return { status: 503 };
      }
      deliveredPoints += countDataPoints(decodeRequest(gunzipSync(r.body)));
      return { status: 200 };
    });
    const accepted = path.join(tmp, 'accepted.jsonl');
    try {
      agent = startAgent([
        'run',
        '--config',
        config,
        '--proc-root',
        host,
        '--interval',
        '100ms',
        '--profile',
        'conservative',
        '--export',
        `file:${accepted}`,
        '--export',
        `otlp:${backend.origin}`,
        '--queue-dir',
        path.join(mnt, 'q'),
        '--state-dir',
        path.join(mnt, 'state'),
      ]);
      const url = await agent.controlUrl();
      // the disk fills: the queue refuses, state saving fails
      await agent.waitForLog(/^export queue refused a critical record/);
      await agent.waitForLog(/^cannot write state/);
      // space returns
      fs.rmSync(filler);
      await agent.waitForLog(/^state saving works again$/);
      await agent.waitForLog(/^export queue accepts critical records again$/);
      healthy = true;
      // the backlog drains and nothing more is dropped
      let last = '';
      await until(
        'the queue to drain with drops stable',
        async () => {
          const m = await (await fetch(`${url}/metrics`)).text();
          const q = /^nrdot_queue_size\{[^}]*\} (\S+)$/m.exec(m);
          const d = JSON.stringify(droppedTotal(m));
          const stable = d === last;
          last = d;
          return q !== null && Number(q[1]) === 0 && stable;
        },
        { ms: 30_000, everyMs: 50, context: () => `stderr:\n${agent?.stderr().slice(-4000)}` },
      );
      const status = (await json(`${url}/api/status`)) as {
        queues: { dropped: Record<string, number>; droppedByPath: Record<string, Record<string, number>> }[];
      };
      const dropped = droppedTotal(await (await fetch(`${url}/metrics`)).text());
      agent.child.kill('SIGTERM');
      expect((await agent.exited).code).toBe(0);

      // every accepted point is delivered or counted as dropped, exactly
      const acceptedPoints = readRequests(accepted).reduce((n, r) => n + countDataPoints(r), 0);
      const droppedPoints = Object.values(dropped).reduce((a, b) => a + b, 0);
      expect(refusedAttempts).toBeGreaterThan(0);
      expect(dropped.disk_full ?? 0).toBeGreaterThan(0);
      expect(deliveredPoints + droppedPoints).toBe(acceptedPoints);
      console.log(
        `disk full: ${acceptedPoints} points accepted, ${deliveredPoints} delivered, ${droppedPoints} counted dropped ${JSON.stringify(dropped)}`,
      );

      // the per-path counts add up to the totals, and every lane with refusals was named in a warning
      const q = status.queues[0]!;
      for (const reason of Object.keys(q.dropped)) {
        const sum = Object.values(q.droppedByPath).reduce((n, l) => n + (l[reason] ?? 0), 0);
        expect(sum).toBe(q.dropped[reason]);
      }
      const warned = new Set(
        agent
          .logs()
          .filter((l) => /^export queue refused a \w+ record/.test(String(l.msg)))
          .map((l) => l.lane),
      );
      const logs = agent.logs();
      for (const [lane, reasons] of Object.entries(q.droppedByPath)) {
        if ((reasons.disk_full ?? 0) === 0) continue;
        const named = logs.some((l) => l.lane === lane && /refused|evicted/.test(String(l.msg)));
        expect(named, `the ${lane} path lost points to a full disk without a warning naming it`).toBe(true);
      }
      expect(warned.has('critical')).toBe(true);
    } finally {
      await backend.close();
    }
  }, 120_000);
});
