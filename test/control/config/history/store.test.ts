// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config references (${env:X}) are literal text here
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigHistory } from '../../../../src/control/config/history/store.js';
import { parseTimestamp } from '../../../../src/control/config/history/timestamp.js';
import { NrdotError } from '../../../../src/core/errors.js';
import { fastTmpDir } from '../../../../src/util/tmp.js';
import { REPO } from '../../../helpers/cli.js';

const tmp = fastTmpDir('nrdot-history-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
const freshDir = () => path.join(tmp, `h${n++}`);

function captureLogger() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

function refusal(fn: () => unknown): NrdotError {
  try {
    fn();
  } catch (e) {
    if (e instanceof NrdotError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('config history store', () => {
  it('keeps the exact bytes and what is known about each version', () => {
    let now = 1_700_000_000_000;
    const h = new ConfigHistory(freshDir(), { now: () => now });
    const raw = Buffer.from([...Buffer.from('profile: x\r\nheaders: {k: "${env:K}"}\n'), 0xff, 0xfe, 0x00]);
    const v1 = h.record({ bytes: raw, source: 'start', who: 'root@localhost', file: '/etc/nrdot.yaml', keyId: 'ab12' });
    now += 1000;
    const v2 = h.record({ bytes: Buffer.from('profile: y\n'), source: 'api', who: 'alice@127.0.0.1', why: 'cheaper' });
    expect(v1).toEqual({
      version: 1,
      hash: createHash('sha256').update(raw).digest('hex'),
      timeMs: 1_700_000_000_000,
      source: 'start',
      who: 'root@localhost',
      keyId: 'ab12',
      file: '/etc/nrdot.yaml',
      result: 'applied',
      size: raw.length,
    });
    expect(v2.version).toBe(2);
    expect(h.get(1).bytes.equals(raw)).toBe(true);
    expect(h.list().map((v) => [v.version, v.source, v.why])).toEqual([
      [1, 'start', undefined],
      [2, 'api', 'cheaper'],
    ]);
    expect(h.latest()?.version).toBe(2);
    // the files themselves are readable only by their owner
    expect(fs.statSync(path.join(h.dir, 'v000001.json')).mode & 0o077).toBe(0);
  });

  it('keeps only the newest max_versions; an older one is an error saying what is kept', () => {
    const h = new ConfigHistory(freshDir(), { maxVersions: 3 });
    for (let i = 1; i <= 5; i++) h.record({ bytes: Buffer.from(`v: ${i}\n`), source: 'file', who: 'w' });
    expect(h.list().map((v) => v.version)).toEqual([3, 4, 5]);
    expect(fs.readdirSync(h.dir).sort()).toEqual(['v000003.json', 'v000004.json', 'v000005.json']);
    const e = refusal(() => h.get(1));
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe(`no config version 1 in ${h.dir} (kept: v3 to v5)`);
  });

  it('finds the version in effect at a time: failed versions never were, rolled-back ones were until the rollback', () => {
    let now = 0;
    const h = new ConfigHistory(freshDir(), { now: () => now });
    const at = (t: number, v: Parameters<ConfigHistory['record']>[0]) => {
      now = t;
      return h.record(v);
    };
    at(100, { bytes: Buffer.from('a\n'), source: 'start', who: 'w' });
    at(200, { bytes: Buffer.from('b\n'), source: 'api', who: 'w', result: 'failed', error: 'bad key' });
    at(300, { bytes: Buffer.from('c\n'), source: 'api', who: 'w' });
    now = 380;
    h.setResult(3, 'rolled_back', 'export failures');
    at(380, { bytes: Buffer.from('a\n'), source: 'rollback', who: 'w', restoredFrom: 1 });
    expect(h.effectiveAt(100).version).toBe(1);
    expect(h.effectiveAt(250).bytes.toString()).toBe('a\n');
    expect(h.effectiveAt(250).version).toBe(1);
    expect(h.effectiveAt(379).version).toBe(3);
    expect(h.effectiveAt(380).version).toBe(4);
    expect(h.effectiveAt(1e12).restoredFrom).toBe(1);
    expect(h.get(3)).toMatchObject({ result: 'rolled_back', error: 'export failures', resultTimeMs: 380 });
    expect(h.current()?.version).toBe(4);
    expect(refusal(() => h.effectiveAt(99)).message).toBe(
      'no kept config version was in effect at 1970-01-01T00:00:00.099Z: the oldest kept, v1, was applied at 1970-01-01T00:00:00.100Z',
    );
    expect(refusal(() => new ConfigHistory(freshDir()).effectiveAt(5)).message).toMatch(/^no config history in /);
  });

  it('moves corrupt entries aside with one log line each, never throws, and never reuses their numbers', () => {
    const { logger, lines } = captureLogger();
    const h = new ConfigHistory(freshDir(), { logger, now: () => 42 });
    h.record({ bytes: Buffer.from('one\n'), source: 'start', who: 'w' });
    h.record({ bytes: Buffer.from('two\n'), source: 'api', who: 'w' });
    h.record({ bytes: Buffer.from('three\n'), source: 'api', who: 'w' });
    const f1 = path.join(h.dir, 'v000001.json');
    const f2 = path.join(h.dir, 'v000002.json');
    const f3 = path.join(h.dir, 'v000003.json');
    fs.writeFileSync(f1, fs.readFileSync(f1, 'utf8').slice(0, 50)); // torn
    const o2 = JSON.parse(fs.readFileSync(f2, 'utf8'));
    o2.bytes = Buffer.from('TWO\n').toString('base64'); // bytes changed behind the hash
    fs.writeFileSync(f2, JSON.stringify(o2));
    fs.writeFileSync(f3, '');
    expect(h.list()).toEqual([]);
    expect(lines.map((l) => [l.msg, path.basename(String(l.file))])).toEqual([
      ['config history entry is unusable: moved aside', 'v000001.json'],
      ['config history entry is unusable: moved aside', 'v000002.json'],
      ['config history entry is unusable: moved aside', 'v000003.json'],
    ]);
    expect(lines[1]!.reason).toBe('the bytes do not match their hash');
    expect(fs.readdirSync(h.dir).sort()).toEqual([
      'v000001.json.corrupt-42',
      'v000002.json.corrupt-42',
      'v000003.json.corrupt-42',
    ]);
    expect(h.record({ bytes: Buffer.from('four\n'), source: 'api', who: 'w' }).version).toBe(4);
    expect(h.list().map((v) => v.version)).toEqual([4]);
    expect(lines).toHaveLength(3);
  });

  it('a write cut short leaves only the old versions: temp files are ignored, and swept once their writer is gone', () => {
    const h = new ConfigHistory(freshDir());
    h.record({ bytes: Buffer.from('one\n'), source: 'start', who: 'w' });
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const torn = path.join(h.dir, `v000002.json.tmp-${dead}-0`);
    fs.writeFileSync(torn, '{"kind":"nrdot-config-version","form');
    expect(h.list().map((v) => v.version)).toEqual([1]);
    expect(h.record({ bytes: Buffer.from('two\n'), source: 'api', who: 'w' }).version).toBe(2);
    expect(fs.existsSync(torn)).toBe(false);
  });

  it('survives kill -9 in the middle of recording: every version left is whole', async () => {
    const dir = freshDir();
    const script = `
      import { ConfigHistory } from ${JSON.stringify(path.join(REPO, 'dist/src/control/config/history/store.js'))};
      const h = new ConfigHistory(${JSON.stringify(dir)}, { maxVersions: 4 });
      const big = 'x'.repeat(200000);
      for (let i = 0; i < 100000; i++) {
        h.record({ bytes: Buffer.from('v: ' + i + '\\n' + big), source: 'api', who: 'w' });
        if (i === 3) process.stdout.write('go\\n');
      }`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    await new Promise((r) => setTimeout(r, 150));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const { logger, lines } = captureLogger();
    const versions = new ConfigHistory(dir, { logger, maxVersions: 4 }).list();
    expect(lines).toEqual([]);
    expect(versions.length).toBeGreaterThanOrEqual(1);
    expect(versions.length).toBeLessThanOrEqual(5);
    const h = new ConfigHistory(dir);
    for (const v of versions)
      expect(
        h
          .get(v.version)
          .bytes.toString()
          .startsWith(`v: ${v.version - 1}\n`),
      ).toBe(true);
  });
});

describe('parseTimestamp', () => {
  it('reads local times, explicit zones, and refuses what is not a time', () => {
    expect(parseTimestamp('2026-12-01 10:30:00')).toBe(new Date(2026, 11, 1, 10, 30, 0).getTime());
    expect(parseTimestamp('2026-12-01 10:30')).toBe(new Date(2026, 11, 1, 10, 30, 0).getTime());
    expect(parseTimestamp('2026-12-01T10:30:00Z')).toBe(Date.UTC(2026, 11, 1, 10, 30));
    expect(parseTimestamp('2026-12-01 10:30:00.250+02:00')).toBe(Date.UTC(2026, 11, 1, 8, 30, 0, 250));
    expect(parseTimestamp('2026-12-01T10:30:00-0130')).toBe(Date.UTC(2026, 11, 1, 12, 0));
    for (const bad of ['yesterday', '2026-13-01 10:00', '2026-02-30 10:00', '2026-12-01', '2026-12-01 25:00']) {
      const e = refusal(() => parseTimestamp(bad));
      expect(e.exitCode).toBe(2);
      expect(e.message).toBe(
        `--to-timestamp expects a time like "2026-12-01 10:30:00" (local time) or "2026-12-01T10:30:00Z", got '${bad}'`,
      );
    }
  });
});
