/**
 * Abuse, part 2: overload against a memory limit (issue 12, item 6).
 *
 * The built CLI runs with `memory.limit_mib: LIMIT`, receiving only
 * (`--no-scan --export none`). Phases, in one run:
 *
 * 1. idle: the resident size after start-up settles (the baseline);
 * 2. normal: hostmetrics-shaped requests (PROCS processes, CRIT of them
 *    named as the default rules make critical) at RATE req/s;
 * 3. overload: the same at 4 x RATE with 4 x the connections.
 *
 * Throughout, a probe posts a one-process critical request every 250 ms as
 * another host. Printed: peak RSS (VmHWM and the highest VmRSS sampled every
 * 20 ms) against the limit per phase, accepted points/s (2xx less partial-
 * success rejections) and answers per phase, critical processes accepted,
 * critical probes accepted, and what the agent logged about tiers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { procStatus, startAgent } from '../src/harness/agent-process.js';
import { HostmetricsSource } from '../src/harness/hostmetrics.js';
import { HostmetricsEncoder } from '../src/harness/hostmetrics-pb.js';
import { type LoadSummary, rejectedPointsOf, runLoad } from '../src/harness/load.js';

export interface OverloadOptions {
  limitMib: number;
  processes: number;
  /** normal rate, req/s; the overload is 4 x this */
  rate: number;
  durationSec: number;
  criticalShare: number;
}

const MIB = 1024 * 1024;

interface Probes {
  sent: number;
  accepted: number;
  statuses: Record<string, number>;
}

/** A one-process critical request every 250 ms until `stop()`. */
function probing(url: string): { stop: () => Promise<Probes> } {
  const src = new HostmetricsSource({ processes: 1, criticalShare: 1, hostName: 'probe-host', seed: 5 });
  const enc = new HostmetricsEncoder(src);
  const p: Probes = { sent: 0, accepted: 0, statuses: {} };
  let running = true;
  const loop = (async () => {
    while (running) {
      p.sent++;
      let st = 'error';
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
          body: enc.encode(Date.now()),
          signal: AbortSignal.timeout(10_000),
        });
        const body = new Uint8Array(await res.arrayBuffer());
        st = String(res.status);
        if (res.ok && rejectedPointsOf(body, res.headers.get('content-type') ?? '') === 0) p.accepted++;
      } catch (e) {
        st = `error:${(e as Error).name}`;
      }
      p.statuses[st] = (p.statuses[st] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return p;
    },
  };
}

interface Phase {
  name: string;
  load?: LoadSummary;
  probes?: Probes;
  maxRss: number;
  hwm: number;
}

export async function runOverload(o: OverloadOptions): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrdot-overload-'));
  const config = path.join(dir, 'config.yaml');
  fs.writeFileSync(config, `memory:\n  limit_mib: ${o.limitMib}\n`);
  const agent = startAgent([
    'run',
    '--config',
    config,
    '--no-scan',
    '--otlp-listen',
    '127.0.0.1:0',
    '--listen',
    '127.0.0.1:0',
    '--export',
    'none',
  ]);
  const pid = agent.child.pid ?? 0;
  let maxRss = 0;
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, procStatus(pid)?.rssBytes ?? 0);
  }, 20);
  const phases: Phase[] = [];
  const endPhase = (name: string, load?: LoadSummary, probes?: Probes) => {
    phases.push({ name, load, probes, maxRss, hwm: procStatus(pid)?.hwmBytes ?? 0 });
    maxRss = 0;
  };
  try {
    const url = String((await agent.waitForLog(/^otlp receiver listening$/, 10_000)).url);
    await new Promise((r) => setTimeout(r, 3000));
    endPhase('idle');
    const load = (rate: number, concurrency: number) =>
      runLoad({
        target: url,
        processes: o.processes,
        rate,
        durationSec: o.durationSec,
        encoding: 'protobuf',
        gzip: false,
        concurrency,
        criticalShare: o.criticalShare,
        seed: 1,
      });
    let probe = probing(url);
    const normal = await load(o.rate, 2);
    endPhase('normal', normal, await probe.stop());
    probe = probing(url);
    const over = await load(o.rate * 4, 8);
    endPhase('overload 4x', over, await probe.stop());
    const alive = agent.child.exitCode === null;

    const limit = o.limitMib * MIB;
    const m = (b: number) => `${(b / MIB).toFixed(0)} MiB (${Math.round((b / limit) * 100)}%)`;
    const n = (x: number) => Math.round(x).toLocaleString('en-US');
    console.log(
      `\nmemory limit ${o.limitMib} MiB; ${o.processes} processes x 15 points per request (${Math.round(o.criticalShare * 100)}% critical), protobuf; normal ${o.rate} req/s x 2 conns, overload ${o.rate * 4} req/s x 8 conns, ${o.durationSec} s each`,
    );
    console.log('phase          max VmRSS           VmHWM so far        accepted pts/s  answers');
    for (const p of phases) {
      const answers = p.load
        ? Object.entries(p.load.statuses)
            .map(([k, v]) => `${k}:${v}`)
            .join(' ')
        : '';
      console.log(
        `${p.name.padEnd(14)} ${m(p.maxRss).padEnd(19)} ${m(p.hwm).padEnd(19)} ${(p.load ? n(p.load.pointsPerSec) : '-').padStart(14)}  ${answers}`,
      );
    }
    for (const p of phases) {
      if (!p.load || !p.probes) continue;
      const l = p.load;
      console.log(
        `${p.name}: critical processes accepted ${n(l.criticalAccepted)} of ${n(l.criticalPerRequest * l.completed)} sent; ` +
          `points rejected by partial success ${n(l.rejectedPoints)}; skipped at the concurrency limit ${l.skipped}; ` +
          `critical probes accepted ${p.probes.accepted} of ${p.probes.sent} (${Object.entries(p.probes.statuses)
            .map(([k, v]) => `${k}:${v}`)
            .join(' ')})`,
      );
    }
    const tiers = agent.logs().filter((l) => l.from !== undefined && l.to !== undefined);
    console.log(
      `tier changes logged: ${tiers.length} (${[...new Set(tiers.map((l) => `${l.from}>${l.to}`))].join(', ') || 'none'}); agent alive: ${alive}`,
    );
  } finally {
    clearInterval(sampler);
    agent.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
