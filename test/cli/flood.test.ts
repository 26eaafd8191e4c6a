/**
 * A connection flood against a low file descriptor limit, the way it was
 * found: the built CLI under `ulimit -n 256`, with the control server and
 * the OTLP receiver, and 1,000 idle connections opened against each. /health
 * must keep answering, the receiver must keep accepting data, and the agent
 * must say what is happening.
 */
import * as net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { type RunningAgent, startAgent } from '../helpers/cli.js';

const FLOOD = 1000;
const sockets: net.Socket[] = [];
let agent: RunningAgent | undefined;

afterAll(() => {
  for (const s of sockets.splice(0)) s.destroy();
  agent?.kill();
});

/** Open `n` idle connections to `url`, 100 at a time; resolves when each connected or failed. */
async function flood(url: string, n: number): Promise<void> {
  const u = new URL(url);
  for (let done = 0; done < n; done += 100) {
    await Promise.all(
      Array.from(
        { length: Math.min(100, n - done) },
        () =>
          new Promise<void>((resolve) => {
            const s = net.connect(Number(u.port), u.hostname, () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => resolve());
            sockets.push(s);
          }),
      ),
    );
  }
}

describe('connection flood under ulimit -n 256', () => {
  it('/health answers, the receiver accepts data, and both servers log that they hit their limit', async () => {
    agent = startAgent(['run', '--no-scan', '--otlp-listen', '127.0.0.1:0', '--export', 'none'], {
      shell: 'ulimit -n 256;',
    });
    const control = await agent.controlUrl();
    const receiver = String((await agent.waitForLog(/^otlp receiver listening$/)).url);
    await Promise.all([flood(control, FLOOD), flood(receiver, FLOOD)]);
    const health = await fetch(`${control}/health`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    const post = await fetch(receiver, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"resourceMetrics":[]}',
      signal: AbortSignal.timeout(10_000),
    });
    expect(post.status).toBe(200);
    for (const name of ['control server', 'otlp receiver']) {
      await agent.waitForLog(new RegExp(`^${name}: connection limit reached`), 10_000);
    }
    const limits = agent.logs().filter((l) => /connection limit reached/.test(String(l.msg)));
    expect(limits.every((l) => l.fdLimit === 256)).toBe(true);
    expect(agent.child.exitCode).toBeNull();
    agent.child.kill('SIGTERM');
    expect((await agent.exited).code).toBe(0);
  }, 60_000);
});
