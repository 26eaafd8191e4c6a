/**
 * A real agent in the test process for hot-reload tests: a synthetic host,
 * a config file, the control server on loopback, the config lifecycle
 * wired as `nrdot run` wires it; cycles are driven by the test (one call,
 * one cycle, then the host advances), so nothing depends on timing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { request } from 'undici';
import { afterEach, beforeEach } from 'vitest';
import { Agent } from '../../src/agent/agent.js';
import { LiveConfig } from '../../src/agent/live-config.js';
import { durationMs } from '../../src/config/schema.js';
import { loadStartConfig, recordStartVersion } from '../../src/control/config/startup.js';
import { silentLogger } from '../../src/core/log.js';
import { advanceHost, generateHost } from '../../src/harness/synth/index.js';
import { countDataPoints } from '../../src/otlp/model.js';
import type { CycleReport } from '../../src/pipeline/types.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { readRequests } from '../helpers/otlp-file.js';

export const TOKEN = 'reload-test-token';

export interface Harness {
  dir: string;
  host: string;
  config: string;
  agent: Agent;
  live: LiveConfig;
  url: string;
  reports: CycleReport[];
  /** one cycle, its health verdict, then the host moves on */
  cycle(): Promise<CycleReport>;
  put(route: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** the control loop's clock (schedules, dwell); default Date.now */
  controlNow?: () => number;
  /** the OTLP receiver's address; default off */
  otlpListen?: string;
}

export async function startHarness(
  dir: string,
  yaml: string,
  processes = 150,
  opts: HarnessOptions = {},
): Promise<Harness> {
  process.env.NRDOT_RELOAD_TEST_TOKEN = TOKEN;
  const host = path.join(dir, 'host');
  if (!fs.existsSync(host)) await generateHost({ out: host, processes, seed: 5 });
  const config = path.join(dir, 'agent.yaml');
  fs.writeFileSync(config, yaml);
  const loaded = await loadStartConfig(config);
  const c = loaded.config;
  const agent = new Agent({
    config: c,
    profile: c.profile,
    logger: silentLogger,
    procRoot: host,
    backend: 'ts',
    intervalMs: durationMs(c.interval),
    exportSpecs: c.export,
    listen: '127.0.0.1:0',
    otlpListen: opts.otlpListen ?? 'off',
    controlNow: opts.controlNow,
  });
  await agent.start();
  const v = await recordStartVersion(loaded, config, {
    stateDir: c.state_dir,
    maxVersions: c.config_history.max_versions,
    logger: silentLogger,
    audit: agent.audit,
  });
  const live = await LiveConfig.start({
    agent,
    loaded,
    configFile: config,
    stateDir: c.state_dir,
    startVersion: v?.version,
    logger: silentLogger,
  });
  const reports: CycleReport[] = [];
  const url = agent.url!;
  return {
    dir,
    host,
    config,
    agent,
    live,
    url,
    reports,
    async cycle() {
      const r = await agent.cycle();
      reports.push(r);
      await live.afterCycle(r);
      await advanceHost({ dir: host, seconds: 10 });
      return r;
    },
    async put(route, body) {
      const r = await request(`${url}${route}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
    },
    async close() {
      await live.shutdown();
      await agent.shutdown();
    },
  };
}

/** The base config of these tests: a file export, history and audit under `dir`, the token from the environment. */
export function baseYaml(dir: string, extra = '', out = 'out-a.jsonl'): string {
  return [
    'interval: 60s',
    `export: ["file:${path.join(dir, out)}"]`,
    `state_dir: ${path.join(dir, 'state')}`,
    'server:',
    `  audit_log: ${path.join(dir, 'audit.log')}`,
    '  token_env: NRDOT_RELOAD_TEST_TOKEN',
    'reload:',
    '  watch: false',
    '  health_check_cycles: 3',
    extra,
  ].join('\n');
}

/** Data points in a file exporter's output (0 when it was never written). */
export function filePoints(file: string): number {
  if (!fs.existsSync(file)) return 0;
  return readRequests(file).reduce((n, r) => n + countDataPoints(r), 0);
}

export function auditLines(dir: string): Record<string, unknown>[] {
  const f = path.join(dir, 'audit.log');
  if (!fs.existsSync(f)) return [];
  return fs
    .readFileSync(f, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

export interface PerTest {
  /** this test's directory (under /dev/shm when there is one) */
  readonly dir: string;
  /** startHarness in this test's directory; the harness is closed after the test */
  start(yaml: string, processes?: number, opts?: HarnessOptions): Promise<Harness>;
}

/** A fresh directory for each test of the file, and the harness it starts; both gone after the test. */
export function perTest(prefix: string): PerTest {
  let dir = '';
  let h: Harness | undefined;
  beforeEach(() => {
    dir = fastTmpDir(prefix);
  });
  afterEach(async () => {
    await h?.close();
    h = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    async start(yaml, processes, opts) {
      h = await startHarness(dir, yaml, processes, opts);
      return h;
    },
  };
}
