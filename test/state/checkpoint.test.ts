/**
 * The checkpoint under --state-dir: every stateful stage's columns and extra
 * state round-trip through a real file; damage of any kind (flipped bytes,
 * truncation, values out of range, a header that parses but holds nonsense)
 * is refused with one log line naming the file and the field, the file is
 * moved aside, and the run starts fresh for what was damaged, never crashing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { GroupCatalog } from '../../src/core/groups.js';
import { IdentityTable } from '../../src/core/identity.js';
import type { Logger } from '../../src/core/log.js';
import { metricSet } from '../../src/stages/build/metrics.js';
import { GroupStage } from '../../src/stages/group/index.js';
import { HeartbeatStage } from '../../src/stages/heartbeat/index.js';
import { RatesStage } from '../../src/stages/rates/index.js';
import { ScoreStage } from '../../src/stages/score/stage.js';
import { decodeCheckpoint, encodeCheckpoint, type Stateful } from '../../src/state/checkpoint.js';
import { STATE_FILE, StateStore } from '../../src/state/store.js';
import { fastTmpDir } from '../../src/util/tmp.js';

const tmp = fastTmpDir('nrdot-ckpt-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

type Line = { level: string; obj: Record<string, unknown>; msg: string };

/** A logger that keeps what it was told. */
function capture(): Logger & { lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      lines.push({ level, obj: (typeof obj === 'object' ? obj : {}) as Record<string, unknown>, msg: msg ?? '' });
    };
  const l = { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') } as unknown as Logger;
  return Object.assign(l, { lines, child: () => l });
}

const silent = capture();

/** A table with `n` identities and every stateful stage filled with recognisable, valid values. */
function populated(n: number, seed = 1) {
  const ids = new IdentityTable();
  const rates = new RatesStage(ids);
  const score = new ScoreStage(ids, 0, 3_600_000, silent);
  const group = new GroupStage(new GroupCatalog());
  const hb = new HeartbeatStage(ids, metricSet(loadConfig().config), 6);
  const parts: Stateful[] = [rates, score, group, hb];
  for (let i = 0; i < n; i++) {
    const s = ids.restore(100 + i * 3, 5000 + i * seed);
    for (const p of parts) {
      for (const c of p.columns()) {
        for (let k = 0; k < c.width; k++) {
          c.data[s * c.width + k] = c.kind === 'u8' ? (i + k) % 2 : i * 10 + k + seed;
        }
      }
    }
  }
  rates.lastUptime = 12345.5;
  rates.bootTimeSec = 1_699_000_000;
  group.restoreExtra({
    cycle: 7,
    lastTimeMs: 1_700_000_000_000,
    series: [['exe/nginx', 1_700_000_000_000, 6, 1, 2, 3, 987654321, 5, 6, 7, 8, 9]],
  });
  return { ids, parts, rates, score, group, hb };
}

/** Every part's columns, by live identity (pid:start → values). */
function snapshot(ids: IdentityTable, parts: readonly Stateful[]) {
  const out = new Map<string, number[]>();
  for (const s of ids.slots()) {
    const key = `${ids.pid.data[s]}:${ids.start.data[s]}`;
    out.set(
      key,
      parts.flatMap((p) => p.columns().flatMap((c) => Array.from(c.data.subarray(s * c.width, (s + 1) * c.width)))),
    );
  }
  return out;
}

describe('checkpoint format', () => {
  it('round-trips every column of every part and their extra state', () => {
    const a = populated(500);
    const buf = encodeCheckpoint(a.ids, a.parts, '/proc', 1_700_000_100_000);
    const store = new StateStore(path.join(tmp, 'rt'), '/proc', silent);
    store.prepare();
    fs.writeFileSync(store.file, buf);
    const b = populated(0);
    const r = store.load(b.ids, b.parts, 1_700_000_100_000);
    expect(r.parts).toEqual(['rates', 'score', 'rollup', 'heartbeat']);
    expect(r.processes).toBe(500);
    expect(snapshot(b.ids, b.parts)).toEqual(snapshot(a.ids, a.parts));
    expect(b.rates.lastUptime).toBe(12345.5);
    expect(b.rates.bootTimeSec).toBe(1_699_000_000);
    expect(b.group.saveExtra()).toEqual(a.group.saveExtra());
  });

  it('refuses every single flipped byte and every truncation', () => {
    const a = populated(3);
    const buf = encodeCheckpoint(a.ids, a.parts, '/proc', 1);
    for (let o = 0; o < buf.length; o++) {
      const bad = Buffer.from(buf);
      bad[o]! ^= 0x5a;
      expect(decodeCheckpoint(bad).ok, `byte ${o} flipped`).toBe(false);
    }
    for (let n = 0; n < buf.length; n++) expect(decodeCheckpoint(buf.subarray(0, n)).ok, `cut at ${n}`).toBe(false);
  });

  it('refuses a well-formed file whose header holds nonsense (CRC recomputed), naming the field', () => {
    const a = populated(4);
    const good = encodeCheckpoint(a.ids, a.parts, '/proc', 1000);
    const hlen = good.readUInt32LE(12);
    const header = JSON.parse(good.toString('utf8', 16, 16 + hlen)) as Record<string, unknown>;
    const withHeader = (h: unknown): Buffer => {
      const hb = Buffer.from(JSON.stringify(h));
      const body = Buffer.concat([good.subarray(0, 16), hb, good.subarray(16 + hlen, good.length - 4)]);
      body.writeUInt32LE(hb.length, 12);
      const crc = Buffer.alloc(4);
      crc.writeUInt32LE(zlib.crc32(body) >>> 0);
      return Buffer.concat([body, crc]);
    };
    expect(decodeCheckpoint(withHeader(header)).ok).toBe(true);
    for (const [field, v] of [
      ['savedAtMs', -5],
      ['savedAtMs', 'x'],
      ['count', 1e300],
      ['count', -1],
      ['count', 2.5],
      ['count', 3],
      ['procRoot', 7],
      ['sections', 'none'],
    ] as const) {
      const r = decodeCheckpoint(withHeader({ ...header, [field]: v }));
      expect(r.ok, `${field} = ${String(v)}`).toBe(false);
    }
  });

  it('random valid-JSON mutations of each part extra state are taken only when in range, never thrown', () => {
    let seed = 7;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const nasty: unknown[] = [-5, 'x', 1e300, 1e308, -1e308, null, [], {}, true, 2 ** 64, -0.5, '12', 2.5];
    let refused = 0;
    for (let trial = 0; trial < 300; trial++) {
      const a = populated(2);
      const parts = { rates: a.rates, rollup: a.group, heartbeat: a.hb };
      const name = (['rates', 'rollup', 'heartbeat'] as const)[Math.floor(rnd() * 3)]!;
      const json = JSON.stringify(parts[name].saveExtra());
      // replace one number in the JSON with something nasty
      const nums = [...json.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/g)];
      const m = nums[Math.floor(rnd() * nums.length)]!;
      const v = nasty[Math.floor(rnd() * nasty.length)];
      const mutated: unknown = JSON.parse(
        json.slice(0, m.index) + JSON.stringify(v) + json.slice(m.index! + m[0].length),
      );
      const b = populated(0);
      const target = { rates: b.rates, rollup: b.group, heartbeat: b.hb }[name];
      const before = JSON.stringify(target.saveExtra());
      const why = target.restoreExtra(mutated);
      if (why !== undefined) {
        refused++;
        // refused: nothing taken
        expect(JSON.stringify(target.saveExtra())).toBe(before);
      } else {
        // taken: every value is a finite, non-negative number (or -1 for "never")
        const taken = JSON.stringify(target.saveExtra());
        for (const x of taken.match(/-?\d[\d.e+-]*/g) ?? [])
          expect(Number(x) >= -1 && Number.isFinite(Number(x))).toBe(true);
      }
    }
    expect(refused).toBeGreaterThan(100);
  });
});

describe('StateStore', () => {
  it('saves atomically and restores every identity', () => {
    const dir = path.join(tmp, 'store');
    const a = populated(10);
    const s1 = new StateStore(dir, '/proc', silent);
    s1.prepare();
    expect(s1.save(a.ids, a.parts, 5000)).toBe(true);
    expect(fs.readdirSync(dir)).toEqual([STATE_FILE]);
    const b = populated(0);
    const r = new StateStore(dir, '/proc', silent).load(b.ids, b.parts, 5000);
    expect(r.processes).toBe(10);
    expect(b.ids.size).toBe(10);
  });

  it('moves a damaged file aside with one warning naming the file, and starts fresh', () => {
    const dir = path.join(tmp, 'damaged');
    const a = populated(5);
    const s = new StateStore(dir, '/proc', silent);
    s.prepare();
    s.save(a.ids, a.parts, 1);
    const buf = fs.readFileSync(s.file);
    buf[buf.length - 10]! ^= 1;
    fs.writeFileSync(s.file, buf);
    const log = capture();
    const b = populated(0);
    const r = new StateStore(dir, '/proc', log).load(b.ids, b.parts, 2);
    expect(r).toEqual({ processes: 0, parts: [] });
    const warns = log.lines.filter((l) => l.level === 'warn');
    expect(warns).toHaveLength(1);
    expect(warns[0]!.obj.file).toBe(s.file);
    expect(String(warns[0]!.obj.reason)).toContain('CRC');
    expect(fs.readdirSync(dir).some((f) => f.startsWith(`${STATE_FILE}.corrupt-`))).toBe(true);
    expect(fs.existsSync(s.file)).toBe(false);
  });

  it('a value out of range fails only its part: the others are restored, the file moved aside', () => {
    const dir = path.join(tmp, 'range');
    const a = populated(5);
    a.score.columns()[0]!.data[2] = -7; // a negative EWMA mean
    const s = new StateStore(dir, '/proc', silent);
    s.prepare();
    s.save(a.ids, a.parts, 1);
    const log = capture();
    const b = populated(0);
    const r = new StateStore(dir, '/proc', log).load(b.ids, b.parts, 2);
    expect(r.parts).toEqual(['rates', 'rollup', 'heartbeat']);
    const warn = log.lines.find((l) => l.level === 'warn')!;
    expect(String(warn.obj.reason)).toMatch(/score\.score\.cpuMean\[2\]: -7 is out of range/);
  });

  it('drops the scoring part when it is older than the TTL, and everything of another proc root', () => {
    const dir = path.join(tmp, 'ttl');
    const a = populated(3);
    const s = new StateStore(dir, '/proc', silent);
    s.prepare();
    s.save(a.ids, a.parts, 1000);
    const b = populated(0);
    expect(new StateStore(dir, '/proc', silent).load(b.ids, b.parts, 1000 + 3_600_001).parts).toEqual([
      'rates',
      'rollup',
      'heartbeat',
    ]);
    const c = populated(0);
    expect(new StateStore(dir, '/other/proc', silent).load(c.ids, c.parts, 1000)).toEqual({ processes: 0, parts: [] });
  });

  it('an unwritable state dir: one warning, no persistence, no crash', () => {
    const file = path.join(tmp, 'a-file');
    fs.writeFileSync(file, 'x');
    const log = capture();
    const s = new StateStore(path.join(file, 'sub'), '/proc', log);
    s.prepare();
    const a = populated(2);
    expect(s.save(a.ids, a.parts, 1)).toBe(false);
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(1);
  });
});
