// biome-ignore-all lint/suspicious/noTemplateCurlyInString: config references (${env:X}) are literal text here
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unifiedDiff } from '../../../../src/control/config/history/diff.js';
import { Rng } from '../../../../src/harness/synth/prng.js';
import { fastTmpDir } from '../../../../src/util/tmp.js';

const tmp = fastTmpDir('nrdot-diff-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** GNU diff -u on the same texts, without its two header lines. */
function gnuDiff(a: string, b: string): string {
  fs.writeFileSync(path.join(tmp, 'a'), a);
  fs.writeFileSync(path.join(tmp, 'b'), b);
  try {
    execFileSync('diff', ['-u', path.join(tmp, 'a'), path.join(tmp, 'b')]);
    return '';
  } catch (e) {
    const out = (e as { stdout: Buffer }).stdout.toString();
    return out.split('\n').slice(2).join('\n');
  }
}

function ours(a: string, b: string): string {
  const d = unifiedDiff(a, b, 'a', 'b');
  return d ? d.split('\n').slice(2).join('\n') : '';
}

/** GNU patch applies our diff to `a`: the result must be `b`. */
function patched(a: string, diff: string): string {
  const file = path.join(tmp, 'p');
  fs.writeFileSync(file, a);
  execFileSync('patch', ['-s', '-f', '--no-backup-if-mismatch', file], { input: diff });
  return fs.readFileSync(file, 'utf8');
}

const changes = (d: string) => {
  const lines = d.split('\n').filter((l) => /^[-+]/.test(l));
  return { removed: lines.filter((l) => l[0] === '-').length, added: lines.filter((l) => l[0] === '+').length };
};

describe('unifiedDiff', () => {
  it('prints what diff -u prints for a config change', () => {
    const a = 'profile: balanced\ninterval: 10s\nexport:\n  - file:./a\nserver:\n  listen: 127.0.0.1:9464\n';
    const b =
      'profile: aggressive\ninterval: 10s\nexport:\n  - file:./a\n  - otlp:${env:URL}\nserver:\n  listen: 127.0.0.1:9464\n';
    expect(unifiedDiff(a, b, 'v1', 'v2')).toBe(
      [
        '--- v1',
        '+++ v2',
        '@@ -1,6 +1,7 @@',
        '-profile: balanced',
        '+profile: aggressive',
        ' interval: 10s',
        ' export:',
        '   - file:./a',
        '+  - otlp:${env:URL}',
        ' server:',
        '   listen: 127.0.0.1:9464',
        '',
      ].join('\n'),
    );
    expect(unifiedDiff(a, a, 'v1', 'v1')).toBe('');
  });

  it('on random edits (empty texts and missing final newlines too), GNU patch turns a into b with it, and it changes as few lines as GNU diff', () => {
    const rng = new Rng(7);
    const rnd = () => rng.next();
    const pick = (n: number) => Math.floor(rnd() * n);
    const words = ['a', 'b', 'c', 'd', 'profile: x', 'interval: 10s', ''];
    const text = (len: number, eol: boolean) => {
      const lines = Array.from({ length: len }, () => words[pick(words.length)]!);
      return len === 0 ? '' : lines.join('\n') + (eol ? '\n' : '');
    };
    for (let i = 0; i < 120; i++) {
      const a = text(pick(25), rnd() < 0.8);
      let b: string;
      if (rnd() < 0.5) {
        b = text(pick(25), rnd() < 0.8);
      } else {
        // a few edits of a
        const lines = a.split('\n');
        for (let e = 0; e < 1 + pick(3); e++) {
          const at = pick(lines.length + 1);
          if (rnd() < 0.5) lines.splice(at, 1);
          else lines.splice(at, 0, words[pick(words.length)]!);
        }
        b = lines.join('\n');
      }
      const why = JSON.stringify({ a, b });
      const d = unifiedDiff(a, b, 'a', 'b');
      if (a === b) {
        expect(d).toBe('');
        continue;
      }
      expect(patched(a, d), why).toBe(b);
      expect(changes(ours(a, b)), why).toEqual(changes(gnuDiff(a, b)));
    }
  });
});
