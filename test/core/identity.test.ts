import { describe, expect, it, vi } from 'vitest';
import { IdentityTable } from '../../src/core/identity.js';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import { type ResourceMetrics, str } from '../../src/otlp/model.js';
import { allocBatch } from '../../src/sources/batch.js';
import { splitRequest, toProcessBatch } from '../../src/sources/receiver/mapping.js';
import { ResourceAttr } from '../../src/telemetry/names.js';
import { TINY_HOST } from '../helpers/stages.js';

const NOW = 1_732_300_000_000;

/** What a receiver hands the engine for one collection round: every row carries its strings. */
function received(src: HostmetricsSource, atMs: number, edit?: (rms: ResourceMetrics[]) => void) {
  const rms = splitRequest(src.request(atMs)).processes;
  edit?.(rms);
  return toProcessBatch(rms, 'h1', atMs);
}

function setAttr(rm: ResourceMetrics, key: string, value: string): void {
  const attrs = rm.resource.attributes.filter((a) => a.key !== key);
  attrs.push(str(key, value));
  rm.resource.attributes = attrs;
}

const marked = (a: Uint8Array) => [...a.keys()].filter((i) => a[i] === 1);

describe('IdentityTable.assign with received rows (strings sent every cycle)', () => {
  it('marks a known row named only when its strings or cgroup changed', () => {
    const src = new HostmetricsSource({ processes: 6, nowMs: NOW, hostName: 'h1' });
    const ids = new IdentityTable();
    const cg = (rms: ResourceMetrics[]) => {
      for (const rm of rms) setAttr(rm, 'process.cgroup', '0::/system.slice/app.service');
    };

    const first = ids.assign(received(src, NOW, cg));
    expect(marked(first.isNew)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(marked(first.named)).toEqual([0, 1, 2, 3, 4, 5]);
    ids.sweep();

    // the same identities with the same strings: nothing to redo
    const second = ids.assign(received(src, NOW + 10_000, cg));
    expect(marked(second.isNew)).toEqual([]);
    expect(marked(second.named)).toEqual([]);
    ids.sweep();

    // one process exec'd something else (same pid and start): its row is named again, with the new line
    const third = ids.assign(
      received(src, NOW + 20_000, (rms) => {
        cg(rms);
        setAttr(rms[2]!, ResourceAttr.commandLine, '/usr/bin/other --flag');
      }),
    );
    expect(marked(third.isNew)).toEqual([]);
    expect(marked(third.named)).toEqual([2]);
    expect(ids.cmdline[third.slot[2]!]).toBe('/usr/bin/other --flag');
    ids.sweep();

    // a process moved to another cgroup
    const fourth = ids.assign(
      received(src, NOW + 30_000, (rms) => {
        cg(rms);
        setAttr(rms[2]!, ResourceAttr.commandLine, '/usr/bin/other --flag');
        setAttr(rms[4]!, 'process.cgroup', '0::/system.slice/other.service');
      }),
    );
    expect(marked(fourth.named)).toEqual([4]);
    expect(ids.cgroup[fourth.slot[4]!]).toBe('0::/system.slice/other.service');
    expect(ids.cgroup[fourth.slot[0]!]).toBe('0::/system.slice/app.service');
  });

  it('holds one copy of a text many rows carry, and forgets it with its last row', () => {
    const src = new HostmetricsSource({ processes: 40, nowMs: NOW, hostName: 'h1' });
    const ids = new IdentityTable();
    const text = '0::/kubepods/pod1234/container';
    const others = [ids.name, ids.exe, ids.cmdline, ids.owner];
    // the distinct non-empty texts the slots carry, counted here apart from the table
    const texts = (slots: number[], columns = [...others, ids.cgroup]) =>
      new Set(slots.flatMap((s) => columns.map((c) => c[s]!)).filter((t) => t !== '')).size;
    // every row brings its own copy of the cgroup text (built per row, as a receiver decodes it)
    const batch = (atMs: number, edit?: (rms: ResourceMetrics[]) => void) =>
      received(src, atMs, (rms) => {
        for (const rm of rms) setAttr(rm, 'process.cgroup', [...text].join(''));
        edit?.(rms);
      });

    const slots = [...ids.assign(batch(NOW)).slot];
    ids.sweep();
    expect(slots.length).toBe(40);
    const held = ids.distinctStrings;
    expect(held).toBe(texts(slots));
    // the 40 rows' cgroups are one text held, beside their names, paths, command lines and owners
    expect(held).toBe(texts(slots, others) + 1);

    // one row moves to a cgroup of its own: one text more; it moves back: one less
    ids.assign(batch(NOW + 10_000, (rms) => setAttr(rms[7]!, 'process.cgroup', '0::/system.slice/x.service')));
    ids.sweep();
    expect(ids.distinctStrings).toBe(held + 1);
    ids.assign(batch(NOW + 20_000));
    ids.sweep();
    expect(ids.distinctStrings).toBe(held);

    // all but one row gone: the cgroup text is still held, by that row
    const one = ids.assign(batch(NOW + 30_000, (rms) => rms.splice(1)));
    expect(ids.sweep()).toBe(39);
    expect(ids.cgroup[one.slot[0]!]).toBe(text);
    expect(ids.distinctStrings).toBe(texts([one.slot[0]!]));
    // the last one gone: no text is held
    ids.assign(toProcessBatch([], 'h1', NOW + 40_000));
    expect(ids.sweep()).toBe(1);
    expect(ids.distinctStrings).toBe(0);
    for (const s of slots) expect(ids.cgroup[s]).toBe('');
  });

  it('copyStrings hands a slot every string of another table (hot reload)', () => {
    const src = new HostmetricsSource({ processes: 2, nowMs: NOW, hostName: 'h1' });
    const from = new IdentityTable();
    const a = from.assign(
      received(src, NOW, (rms) => {
        for (const rm of rms) setAttr(rm, 'process.cgroup', '0::/system.slice/app.service');
      }),
    );
    const to = new IdentityTable();
    const s = to.restore(1234, 5);
    to.copyStrings(s, from, a.slot[1]!);
    const o = a.slot[1]!;
    expect([to.name[s], to.exe[s], to.cmdline[s], to.owner[s], to.cgroup[s]]).toEqual([
      from.name[o],
      from.exe[o],
      from.cmdline[o],
      from.owner[o],
      '0::/system.slice/app.service',
    ]);
    expect(to.name[s]).not.toBe('');
  });
});

describe('IdentityTable growth', () => {
  const pids = (list: number[]) => {
    const b = allocBatch(list.length, TINY_HOST);
    list.forEach((pid, i) => {
      b.pid[i] = pid;
      b.startTicks[i] = pid * 10;
    });
    b.count = list.length;
    return b;
  };

  it('grows once for a batch of new identities, to what they need and an eighth more', () => {
    const ids = new IdentityTable();
    const col = ids.f64('test.value');
    const grow = vi.spyOn(col, 'grow');
    const a = ids.assign(pids(Array.from({ length: 5000 }, (_, k) => k + 1)));
    expect(new Set(a.slot).size).toBe(5000);
    expect(ids.capacity).toBe(5000 + 625);
    expect(grow).toHaveBeenCalledTimes(1);
  });

  it('a slot handed out for the first time holds initial values; a freed one is reset when reused', () => {
    const ids = new IdentityTable();
    const col = ids.f64('test.value', { init: 7 });
    for (const s of ids.assign(pids([1, 2, 3])).slot) col.data[s] = 1;
    ids.sweep();
    ids.assign(pids([1]));
    expect(ids.sweep()).toBe(2);
    const a = ids.assign(pids([1, 9, 10, 11]));
    expect([...a.slot].map((s) => col.data[s])).toEqual([1, 7, 7, 7]);
  });
});
