import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { advanceHost, generateHost, readTruth } from '../../src/harness/synth/index.js';
import { loadAddon } from '../../src/sources/native/loader.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { nrdot, REPO } from '../helpers/cli.js';
import { attr, isProcess, pointValue, readRequests } from '../helpers/otlp-file.js';

const tmp = fastTmpDir('nrdot-cli-');
const host = path.join(tmp, 'host');
beforeAll(async () => {
  await generateHost({ out: host, processes: 600, seed: 3 });
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const SUMMARY =
  /^cycle \d+ \[\w+\] processes \d+, exported \d+, rolled up \d+ \| points \d+\/\d+ \| bytes .+ vs baseline .+ \| reduction -?\d+\.\d% \| critical \d+\/\d+ \(100%\) \| visibility \d+% \| \d+ ms/m;

describe('nrdot run', () => {
  it('--once on a synthetic tree writes OTLP JSON and prints one summary line', async () => {
    const out = path.join(tmp, 'once.jsonl');
    const r = await nrdot(['run', '--once', '--proc-root', host, '--export', `file:${out}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(SUMMARY);
    expect(r.stdout).toContain('[balanced]');
    const reqs = readRequests(out);
    expect(reqs).toHaveLength(1);
    expect(reqs[0]!.resourceMetrics.length).toBeGreaterThan(1);
  });

  it("--host-name (or scan.host_name) sets host.name instead of the proc root's hostname (a container names the node)", async () => {
    const out = path.join(tmp, 'host-name.jsonl');
    const r = await nrdot(['run', '--once', '--proc-root', host, '--export', `file:${out}`, '--host-name', 'node-7']);
    expect(r.code, r.stderr).toBe(0);
    const names = new Set(
      readRequests(out)[0]!
        .resourceMetrics.filter(isProcess)
        .map((rm) => attr(rm, 'host.name')),
    );
    expect([...names]).toEqual(['node-7']);
  });

  it('--cycles 2 --interval runs two cycles', async () => {
    const r = await nrdot([
      'run',
      '--cycles',
      '2',
      '--interval',
      '100ms',
      '--proc-root',
      host,
      '--export',
      'none',
      '--profile',
      'emergency',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
    expect(r.stdout).toContain('[emergency]');
  });

  it('with no flags uses the real /proc and writes under ./data of the working directory', async () => {
    const cwd = fs.mkdtempSync(path.join(tmp, 'cwd-'));
    const r = await nrdot(['run', '--once'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(SUMMARY);
    expect(r.stderr).toContain(`scanner backend: ${loadAddon().ok ? 'native' : 'ts'}`);
    const reqs = readRequests(path.join(cwd, 'data', 'nrdot-metrics.jsonl'));
    const me = reqs[0]!.resourceMetrics.filter(isProcess);
    expect(me.length).toBeGreaterThan(0);
  });

  it('two --once runs with --state-dir continue CPU-rate counters', async () => {
    const dir = path.join(tmp, 'rate-host');
    await generateHost({ out: dir, processes: 300, seed: 5 });
    const state = path.join(tmp, 'state');
    const out1 = path.join(tmp, 'rate1.jsonl');
    const out2 = path.join(tmp, 'rate2.jsonl');
    // process.cpu.utilization is off by default (as in the Collector): turn it on
    const cfg = path.join(tmp, 'utilization.yaml');
    fs.writeFileSync(cfg, 'metrics:\n  process.cpu.utilization: { enabled: true }\n');
    const common = [
      'run',
      '--once',
      '--config',
      cfg,
      '--proc-root',
      dir,
      '--profile',
      'conservative',
      '--state-dir',
      state,
    ];
    const r1 = await nrdot([...common, '--export', `file:${out1}`]);
    expect(r1.code, r1.stderr).toBe(0);
    // a process's first cycle has no utilization point (as the Collector: "no data point on the first scrape")
    for (const rm of readRequests(out1)[0]!.resourceMetrics.filter(isProcess)) {
      expect(pointValue(rm, 'process.cpu.utilization')).toBeUndefined();
    }
    expect(fs.existsSync(path.join(state, 'nrdot-state.bin'))).toBe(true);
    const t1 = await readTruth(dir);
    const t2 = await advanceHost({ dir, seconds: 20, churn: 0 });
    const r2 = await nrdot([...common, '--export', `file:${out2}`]);
    expect(r2.code, r2.stderr).toBe(0);
    const exported = readRequests(out2)[0]!.resourceMetrics.filter(isProcess);
    const dt = t2.host.uptime - t1.host.uptime;
    let checked = 0;
    for (const rm of exported) {
      const pid = attr(rm, 'process.pid') as number;
      const a = t1.processes.find((p) => p.pid === pid);
      const b = t2.processes.find((p) => p.pid === pid);
      if (!a || !b || a.starttimeTicks !== b.starttimeTicks) continue;
      const rate = (ticks: number) => ticks / t2.clkTck / dt / t2.host.cpus;
      expect(pointValue(rm, 'process.cpu.utilization', 'state', 'user')).toBeCloseTo(
        rate(b.utimeTicks - a.utimeTicks),
        9,
      );
      expect(pointValue(rm, 'process.cpu.utilization', 'state', 'system')).toBeCloseTo(
        rate(b.stimeTicks - a.stimeTicks),
        9,
      );
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('a corrupt state file is moved aside with one log line and the run succeeds', async () => {
    const state = path.join(tmp, 'corrupt-state');
    fs.mkdirSync(state);
    fs.writeFileSync(path.join(state, 'nrdot-state.bin'), 'NRDOTCKP\x01\x00\x00\x00{"procRoot');
    const r = await nrdot(['run', '--once', '--proc-root', host, '--export', 'none', '--state-dir', state]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('state file is unusable');
    const files = fs.readdirSync(state);
    expect(files.some((f) => f.startsWith('nrdot-state.bin.corrupt-'))).toBe(true);
    expect(files).toContain('nrdot-state.bin'); // a fresh one, written at shutdown
  });

  it('an unreachable OTLP endpoint is logged and counted, the run goes on, and exits 3 saying what was lost', async () => {
    // a port that was just free: connection refused
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const out = path.join(tmp, 'with-otlp.jsonl');
    const r = await nrdot([
      'run',
      '--cycles',
      '2',
      '--interval',
      '100ms',
      '--proc-root',
      host,
      '--export',
      `otlp:http://127.0.0.1:${port}/v1/metrics`,
      '--export',
      `file:${out}`,
    ]);
    // what was still queued in memory at exit is lost: the job failed, and says how much
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(
      /nrdot: not all accepted data was delivered: otlp:http:\/\/127\.0\.0\.1:\d+\/v1\/metrics: \d+ requests \([\d.]+ KiB\) still queued in memory at exit were lost/,
    );
    // the OTLP data waits in the queue while the endpoint refuses connections
    expect(r.stdout).toMatch(/export errors \d+/);
    expect(r.stdout).toMatch(/cycle 2 .*queued \d+/);
    expect(r.stderr).toContain('export failed');
    const reqs = readRequests(out);
    expect(reqs).toHaveLength(2);
    const self = reqs[1]!.resourceMetrics.find((rm) => attr(rm, 'service.name') === 'nrdot')!;
    const errs = self.scopeMetrics[0]!.metrics.find((m) => m.name === 'nrdot.export.errors')!;
    const otlpErrs = errs.sum!.dataPoints.find((p) =>
      p.attributes?.some((a) => (a.value as { stringValue?: string }).stringValue?.startsWith('otlp:')),
    );
    // failed attempts so far (each retry counts), in the self-telemetry as well
    expect(otlpErrs?.asDouble).toBeGreaterThanOrEqual(1);
  });
});

describe('bad input exits 2 with a message naming the culprit', () => {
  const cfg = (name: string, text: string) => {
    const f = path.join(tmp, name);
    fs.writeFileSync(f, text);
    return f;
  };

  it.each([
    ['unknown profile', ['run', '--once', '--profile', 'thrifty'], /unknown profile 'thrifty'/],
    ['not a procfs tree', ['run', '--once', '--proc-root', '/etc'], /--proc-root \/etc is not a procfs tree/],
    ['bad export spec', ['run', '--once', '--export', 'kafka:foo'], /kafka:foo/],
    ['bad --cycles', ['run', '--cycles', 'many'], /--cycles expects a positive whole number/],
    ['bad --backend', ['scan', '--backend', 'fast'], /fast/],
    ['unknown command', ['launch'], /unknown command 'launch'/],
    ['bad --listen', ['run', '--once', '--listen', 'nonsense'], /--listen expects HOST:PORT.*'nonsense'/],
    [
      'bad --otlp-listen port',
      ['run', '--once', '--otlp-listen', '127.0.0.1:99999'],
      /--otlp-listen expects HOST:PORT/,
    ],
    [
      'unusable --queue-dir',
      ['run', '--once', '--export', 'otlp:http://127.0.0.1:9', '--queue-dir', '/proc/1/no-such-dir'],
      /export queue directory \/proc\/1\/no-such-dir\/.* cannot be used: .*--queue-dir/,
    ],
  ])('%s', async (_, args, message) => {
    const r = await nrdot(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message as RegExp);
  });

  it('malformed YAML names the file and line', async () => {
    const f = cfg('bad.yaml', 'profile: [oops\n');
    const r = await nrdot(['run', '--once', '--config', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(f);
    expect(r.stderr).toMatch(/malformed YAML/);
  });

  it('a bad listen address in the config names the key', async () => {
    const f = cfg('listen.yaml', 'receiver:\n  listen: 127.0.0.1:99999\n');
    const r = await nrdot(['config', 'validate', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('receiver.listen');
    expect(r.stderr).toMatch(/0-65535/);
  });

  it('privacy.command_line: hash without the salt refuses to start, naming the variable', async () => {
    const f = cfg('hash.yaml', 'privacy:\n  command_line: hash\n');
    const r = await nrdot(['run', '--once', '--config', f, '--export', 'none'], {
      env: { NRDOT_COMMAND_LINE_SALT: '' },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the environment variable NRDOT_COMMAND_LINE_SALT (privacy.salt_env) is not set');
  });

  it.each(['drop', 'hash', 'executable'] as const)(
    'privacy.command_line %s changes only the exported attribute',
    async (mode) => {
      const f = cfg(`${mode}.yaml`, `privacy:\n  command_line: ${mode}\n`);
      const out = path.join(tmp, `privacy-${mode}.jsonl`);
      const salt = 'a-fleet-wide-secret-of-enough-bytes';
      const r = await nrdot(['run', '--once', '--config', f, '--proc-root', host, '--export', `file:${out}`], {
        env: { NRDOT_COMMAND_LINE_SALT: salt },
      });
      expect(r.code, r.stderr).toBe(0);
      const procs = readRequests(out)[0]!.resourceMetrics.filter(isProcess);
      expect(procs.length).toBeGreaterThan(0);
      const truth = await readTruth(host);
      for (const rm of procs) {
        const p = truth.processes.find((q) => q.pid === attr(rm, 'process.pid'))!;
        const cl = attr(rm, 'process.command_line');
        if (mode === 'drop') expect(cl).toBeUndefined();
        else if (mode === 'executable') expect(cl).toBe(p.cmdline === '' ? undefined : p.exe || p.argv[0]);
        else if (p.cmdline !== '') {
          expect(cl).toMatch(/^hmac-sha256:[0-9a-f]{32}$/);
          expect(String(cl)).not.toContain(p.cmdline);
        }
      }
      // classification still saw the real command lines: the same processes are critical as with keep
      const keepOut = path.join(tmp, 'privacy-keep.jsonl');
      expect((await nrdot(['run', '--once', '--proc-root', host, '--export', `file:${keepOut}`])).code).toBe(0);
      const critical = (file: string) =>
        readRequests(file)[0]!
          .resourceMetrics.filter((rm) => attr(rm, 'nrdot.tier') === 'critical')
          .map((rm) => attr(rm, 'process.pid'))
          .sort();
      expect(critical(out)).toEqual(critical(keepOut));
    },
  );

  it('an unknown config key is named', async () => {
    const f = cfg('unknown.yaml', 'scan:\n  proc_rot: /proc\n');
    const r = await nrdot(['config', 'validate', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'scan.proc_rot'");
  });

  it('an invalid RE2 pattern is named', async () => {
    const f = cfg('re.yaml', "classification:\n  rules:\n    critical:\n      cmdlines: ['[unclosed']\n");
    const r = await nrdot(['run', '--once', '--config', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("'classification.rules.critical.cmdlines[0]'");
    expect(r.stderr).toContain('/[unclosed/');
  });

  it('an unwritable output path is named', async () => {
    const blocker = path.join(tmp, 'a-file');
    fs.writeFileSync(blocker, 'x');
    const r = await nrdot(['run', '--once', '--proc-root', host, '--export', `file:${blocker}/out.jsonl`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${blocker}/out.jsonl`);
  });
});

describe('other commands', () => {
  it('--version prints the version package.json holds', async () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    const r = await nrdot(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${pkg.version}\n`);
  });

  it.each([
    [['--help']],
    [['run', '--help']],
    [['scan', '--help']],
    [['top', '--help']],
    [['synth', '--help']],
    [['synth', 'advance', '--help']],
    [['config', 'validate', '--help']],
    [['config', 'print', '--help']],
  ])('%j prints usage and exits 0', async (args) => {
    const r = await nrdot(args);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: nrdot/);
  });

  it('scan --json prints one object per scan', async () => {
    const r = await nrdot(['scan', '--proc-root', host, '--repeat', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      expect(Object.keys(l).sort()).toEqual(['backend', 'durationMs', 'processes', 'usPerProcess']);
      expect(l.backend).toBe(loadAddon().ok ? 'native' : 'ts');
      expect(l.processes).toBe(600);
    }
  });

  it('top shows tiers and sorts by rss', async () => {
    const r = await nrdot(['top', '--proc-root', host, '-n', '5', '--sort', 'rss', '--json', '--delay', '0']);
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout) as { rssBytes: number; tier: string }[];
    expect(rows).toHaveLength(5);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.rssBytes).toBeLessThanOrEqual(rows[i - 1]!.rssBytes);
    expect(rows.every((x) => ['critical', 'important', 'standard', 'noise'].includes(x.tier))).toBe(true);
  });

  it('config validate accepts every shipped nrdot example (the Collector one is a Collector config)', async () => {
    for (const f of fs.readdirSync(path.join(__dirname, '../../configs/examples'))) {
      if (f.startsWith('otelcol-')) continue;
      // the examples read the license key with ${env:NEW_RELIC_LICENSE_KEY}: an unset one is refused (exit 2)
      const r = await nrdot(['config', 'validate', path.join('configs/examples', f)], {
        env: { NEW_RELIC_LICENSE_KEY: 'example-license-key' },
      });
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toContain('valid');
    }
  });

  it('synth writes a tree and synth advance moves it', async () => {
    const dir = path.join(tmp, 'cli-synth');
    const r = await nrdot(['synth', '--out', dir, '--processes', '200', '--seed', '9']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('wrote 200 processes');
    const a = await nrdot(['synth', 'advance', '--dir', dir, '--seconds', '5', '--anomalies', '2', '--json']);
    expect(a.code, a.stderr).toBe(0);
    const j = JSON.parse(a.stdout);
    expect(j.anomalies).toHaveLength(2);
  });

  it('synth without --out is bad usage', async () => {
    const r = await nrdot(['synth', '--processes', '10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--out');
  });
});
