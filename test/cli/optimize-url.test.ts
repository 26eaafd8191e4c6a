/**
 * `nrdot optimize suggest --url`: the search runs over the recent scans a
 * running agent keeps (scan.history, GET /api/history), as a user runs it
 * against a real agent on loopback; the history is served only with the
 * token; an agent that keeps none says why; bad flags exit 2 naming them.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHost } from '../../src/harness/synth/index.js';
import { nrdot, type RunningAgent, startAgent } from '../helpers/cli.js';
import { mkTmp, rmTmp } from '../helpers/synth.js';
import { until } from '../helpers/until.js';

const TOKEN = 'history-test-token-0123456789';
let tmp: string;
let host: string;
let tokenFile: string;
let agent: RunningAgent;
let url: string;

async function statusOf(u: string): Promise<{ cycles: number; history: Record<string, unknown> }> {
  const res = await request(`${u}/api/status`);
  return (await res.body.json()) as { cycles: number; history: Record<string, unknown> };
}

function cyclesDone(u: string, n: number): Promise<unknown> {
  return until(`${n} cycles of the agent at ${u}`, async () => (await statusOf(u)).cycles >= n, {
    ms: 30_000,
    everyMs: 100,
  });
}

beforeAll(async () => {
  tmp = mkTmp('nrdot-optimize-url-');
  host = path.join(tmp, 'host');
  await generateHost({ out: host, processes: 300, seed: 17, shape: 'web' });
  tokenFile = path.join(tmp, 'token');
  fs.writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
  agent = startAgent(
    ['run', '--proc-root', host, '--interval', '1s', '--export', `file:${path.join(tmp, 'out.jsonl')}`, '--quiet'],
    { env: { NRDOT_TOKEN: TOKEN } },
  );
  url = await agent.controlUrl();
  await cyclesDone(url, 4);
}, 60_000);
afterAll(() => {
  agent?.kill();
  rmTmp(tmp);
});

describe('nrdot optimize suggest --url', () => {
  it("searches the agent's recent scans and says where they came from", async () => {
    const st = await statusOf(url);
    expect(st.history.scans).toBeGreaterThanOrEqual(4);
    expect(st.history.bytes).toBeGreaterThan(0);
    expect(Date.parse(String(st.history.to))).toBeGreaterThan(Date.parse(String(st.history.from)));
    const scratch = path.join(tmp, 'tmpdir');
    fs.mkdirSync(scratch);
    const r = await nrdot(
      ['optimize', 'suggest', '--url', url, '--token-file', tokenFile, '--target-cost', '1', '--min-visibility', '0.5'],
      { env: { NRDOT_TOKEN: '', TMPDIR: scratch } },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      new RegExp(`^searched 4 profiles in \\d+ runs over the scan history of the agent at ${url} \\(\\d+ scans of `),
    );
    expect(r.stdout).toMatch(/^suggested: \w+/m);
    // the history is fetched into a temporary directory (of TMPDIR) that does not outlive the command
    expect(fs.readdirSync(scratch)).toEqual([]);
  }, 120_000);

  it('JSON: the caveats of a history the agent read only in part are listed', async () => {
    const r = await nrdot(
      [
        ...['optimize', 'suggest', '--url', url, '--target-points', '1000000', '--min-visibility', '0.5'],
        ...['--profiles', 'conservative', '--json'],
      ],
      { env: { NRDOT_TOKEN: TOKEN } },
    );
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { source: string; caveats: string[]; best: { profile: string } };
    expect(j.source).toMatch(/scan history of the agent/);
    expect(j.best.profile).toBe('conservative');
    // the agent ran balanced with scan.detail: exported; conservative exports processes it did not read in full
    expect(j.caveats).toEqual([
      expect.stringMatching(
        /^the agent reads status, io and fd\/ only of the processes it exports .* of the rows the suggestion reads in detail lacked them/,
      ),
    ]);
  }, 120_000);

  it('the history needs the token: none, a wrong one, and a request without one are refused', async () => {
    const none = await nrdot(['optimize', 'suggest', '--url', url, '--target-cost', '1'], {
      env: { NRDOT_TOKEN: '' },
    });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--token-file/);
    const wrongFile = path.join(tmp, 'wrong');
    fs.writeFileSync(wrongFile, 'not-the-token-at-all', { mode: 0o600 });
    const wrong = await nrdot(['optimize', 'suggest', '--url', url, '--token-file', wrongFile, '--target-cost', '1'], {
      env: { NRDOT_TOKEN: '' },
    });
    expect(wrong.code).toBe(4);
    expect(wrong.stderr).toMatch(/wrong token/);
    const loose = path.join(tmp, 'loose-token');
    fs.writeFileSync(loose, TOKEN, { mode: 0o644 });
    fs.chmodSync(loose, 0o644);
    const empty = path.join(tmp, 'empty-token');
    fs.writeFileSync(empty, '', { mode: 0o600 });
    for (const [file, why] of [
      [path.join(tmp, 'no-such-token'), /no-such-token/],
      [loose, /loose-token has mode 644/],
      [empty, /empty-token/],
    ] as const) {
      const r = await nrdot(['optimize', 'suggest', '--url', url, '--token-file', file, '--target-cost', '1'], {
        env: { NRDOT_TOKEN: '' },
      });
      expect(r.code, file).toBe(2);
      expect(r.stderr, file).toMatch(why);
    }
    const plain = await request(`${url}/api/history`);
    expect(plain.statusCode).toBe(401);
    expect(((await plain.body.json()) as { error: string }).error).toMatch(/bearer token/);
  }, 60_000);

  it('an agent that keeps no history says why; no agent at the URL says so', async () => {
    const cfg = path.join(tmp, 'no-history.yaml');
    fs.writeFileSync(cfg, 'scan:\n  history:\n    window: 0\n');
    const other = startAgent(
      ['run', '--config', cfg, '--proc-root', host, '--interval', '1s', '--export', 'stdout', '--quiet'],
      {
        env: { NRDOT_TOKEN: TOKEN },
      },
    );
    try {
      const u = await other.controlUrl();
      await cyclesDone(u, 1);
      expect((await statusOf(u)).history).toEqual({ off: expect.stringMatching(/scan\.history\.window is 0/) });
      const r = await nrdot(['optimize', 'suggest', '--url', u, '--target-cost', '1'], { env: { NRDOT_TOKEN: TOKEN } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/scan\.history\.window is 0: this agent keeps no scan history/);
    } finally {
      other.kill();
    }
    const gone = await nrdot(['optimize', 'suggest', '--url', 'http://127.0.0.1:9', '--target-cost', '1'], {
      env: { NRDOT_TOKEN: TOKEN },
    });
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/no nrdot agent answering at http:\/\/127\.0\.0\.1:9/);
  }, 60_000);

  it('bad flags exit 2 naming them, before anything is fetched', async () => {
    const cases: [string[], RegExp][] = [
      [['--url', url, '--recording', tmp, '--target-cost', '1'], /--url and --recording exclude each other/],
      [['--url', url, '--target-cost', 'abc'], /--target-cost/],
      [['--url', 'ftp://x', '--target-cost', '1'], /--url expects http:\/\/HOST:PORT/],
      [['--token-file', tokenFile, '--target-cost', '1'], /--token-file goes with --url/],
      [['--url', url, '--shape', 'k8s', '--target-cost', '1'], /--shape describes a synthetic host/],
    ];
    for (const [args, msg] of cases) {
      const r = await nrdot(['optimize', 'suggest', ...args], { env: { NRDOT_TOKEN: TOKEN } });
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(msg);
    }
  }, 60_000);

  it('a server that is not an nrdot agent, or answers a broken history, is an error naming it (exit 1), not a crash', async () => {
    const answers: ((res: http.ServerResponse) => void)[] = [
      (res) => {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('window is 0 {not json');
      },
      (res) => {
        res.writeHead(200, {
          'content-type': 'application/vnd.nrdot.recording',
          'x-nrdot-recording': Buffer.from(JSON.stringify({ format: 'nrdot-recording', version: 2 })).toString(
            'base64url',
          ),
        });
        res.end('NRDOTREC');
      },
      (res) => {
        res.writeHead(200, {
          'content-type': 'application/vnd.nrdot.recording',
          'x-nrdot-recording': Buffer.from(
            JSON.stringify({
              format: 'nrdot-recording',
              version: 2,
              endianness: 'LE',
              intervalMs: 10_000,
              scanOptions: { detail: 'all', files: {}, cgroup: true },
            }),
          ).toString('base64url'),
        });
        res.end(Buffer.concat([Buffer.from('NRDOTREC'), Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]), Buffer.alloc(40, 7)]));
      },
    ];
    const want = [
      /is it an nrdot agent\?/,
      /header is not a recording header/,
      /the history does not read: .*scans\.nrec/,
    ];
    for (let k = 0; k < answers.length; k++) {
      const server = http.createServer((_req, res) => answers[k]!(res));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const u = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      try {
        const r = await nrdot(['optimize', 'suggest', '--url', u, '--target-cost', '1'], {
          env: { NRDOT_TOKEN: TOKEN },
        });
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(want[k]!);
        expect(r.stderr).not.toMatch(/unexpected error|TypeError|SyntaxError/);
      } finally {
        await new Promise((r) => server.close(r));
      }
    }
  }, 60_000);

  it('scan.history keys are checked: exit 2 naming the key', async () => {
    for (const [yaml, key] of [
      ['scan:\n  history:\n    window: 25h\n', /scan\.history\.window.*at most 24h/],
      ['scan:\n  history:\n    max_mib: 0\n', /scan\.history\.max_mib/],
      ['scan:\n  history:\n    window: soon\n', /scan\.history\.window/],
    ] as const) {
      const cfg = path.join(tmp, 'bad-history.yaml');
      fs.writeFileSync(cfg, yaml);
      const r = await nrdot(['config', 'validate', cfg]);
      expect(r.code, yaml).toBe(2);
      expect(r.stderr, yaml).toMatch(key);
    }
  }, 60_000);
});
