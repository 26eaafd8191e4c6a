import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressReporter } from '../../../src/harness/synth/progress.js';

function sink(isTTY: boolean): { stream: NodeJS.WriteStream; text: () => string } {
  let out = '';
  const w = new Writable({
    write(chunk, _enc, cb) {
      out += chunk.toString();
      cb();
    },
  }) as unknown as NodeJS.WriteStream & Record<string, unknown>;
  w.isTTY = isTTY;
  w.columns = 100;
  w.cursorTo = (() => true) as NodeJS.WriteStream['cursorTo'];
  w.clearLine = (() => true) as NodeJS.WriteStream['clearLine'];
  w.moveCursor = (() => true) as NodeJS.WriteStream['moveCursor'];
  w.clearScreenDown = (() => true) as NodeJS.WriteStream['clearScreenDown'];
  return { stream: w, text: () => out };
}

describe('progressReporter', () => {
  it('prints a plain line about every 10% when stderr is not a terminal', () => {
    const s = sink(false);
    const bar = progressReporter(1000, 'synth /tmp/x', { stream: s.stream });
    for (let d = 0; d <= 1000; d += 25) bar.update(d);
    bar.stop();
    bar.stop();
    const lines = s.text().trimEnd().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(9);
    expect(lines.length).toBeLessThanOrEqual(11);
    expect(lines[0]).toMatch(/^synth \/tmp\/x: 100\/1000 \(10%\)/);
    expect(lines[lines.length - 1]).toMatch(/^synth \/tmp\/x: 1000\/1000 \(100%\)/);
  });

  it('reports where it stopped when stopped early', () => {
    const s = sink(false);
    const bar = progressReporter(100, 'gen', { stream: s.stream });
    bar.update(5);
    bar.stop();
    expect(s.text()).toMatch(/^gen: 5\/100 \(5%\)/);
  });

  it('draws a bar on a terminal', () => {
    const s = sink(true);
    const bar = progressReporter(10, 'gen', { stream: s.stream });
    for (let d = 0; d <= 10; d++) bar.update(d);
    bar.stop();
    expect(s.text()).toContain('gen [');
    expect(s.text()).toContain('10/10');
  });
});
