/**
 * A unified diff of two texts (what `diff -u` prints), for `nrdot config
 * diff`. Lines are compared with Myers' O(ND) algorithm; hunks carry three
 * lines of context. Config files are small, so this favours clarity.
 */

interface Lines {
  lines: string[];
  /** the text does not end with a newline */
  noEol: boolean;
}

function splitLines(text: string): Lines {
  if (text === '') return { lines: [], noEol: false };
  const noEol = !text.endsWith('\n');
  const lines = (noEol ? text : text.slice(0, -1)).split('\n');
  return { lines, noEol };
}

type Op = { kind: ' ' | '-' | '+'; a: number; b: number };

/** The edit script turning `a` into `b`: one op per line of either. */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1]! < v[off + k + 1]!) ? v[off + k + 1]! : v[off + k - 1]! + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[off + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // walk back through the saved frontiers
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[off + k - 1]! < vd[off + k + 1]!) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : vd[off + prevK]!;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      x--;
      y--;
      ops.push({ kind: ' ', a: x, b: y });
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: '+', a: x, b: prevY });
      else ops.push({ kind: '-', a: prevX, b: y });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

function range(start: number, count: number): string {
  // diff -u: a hunk of one line omits the count; an empty side is "start-1,0"
  if (count === 0) return `${start},0`;
  return count === 1 ? `${start + 1}` : `${start + 1},${count}`;
}

/** Marks the last line of a text without a final newline, so it never equals the same line with one. */
const NO_EOL = '\u0000no-eol';

function comparable(l: Lines): string[] {
  if (!l.noEol || l.lines.length === 0) return l.lines;
  return [...l.lines.slice(0, -1), l.lines[l.lines.length - 1] + NO_EOL];
}

/** Within each run of changes, deletions first, then insertions (as diff prints them). */
function normalize(ops: Op[]): Op[] {
  const out: Op[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]!.kind === ' ') {
      out.push(ops[i++]!);
      continue;
    }
    const run: Op[] = [];
    while (i < ops.length && ops[i]!.kind !== ' ') run.push(ops[i++]!);
    out.push(...run.filter((o) => o.kind === '-'), ...run.filter((o) => o.kind === '+'));
  }
  return out;
}

/**
 * `--- aLabel` / `+++ bLabel` and hunks, or '' when the texts are equal.
 * A missing newline at the end is marked as diff does.
 */
export function unifiedDiff(aText: string, bText: string, aLabel: string, bLabel: string, context = 3): string {
  if (aText === bText) return '';
  const A = comparable(splitLines(aText));
  const B = comparable(splitLines(bText));
  const ops = normalize(editScript(A, B));
  const out = [`--- ${aLabel}`, `+++ ${bLabel}`];
  const changed = ops.map((o) => o.kind !== ' ');
  let i = 0;
  while (i < ops.length) {
    if (!changed[i]) {
      i++;
      continue;
    }
    const start = Math.max(0, i - context);
    let end = i;
    // one hunk while the next change is at most 2*context lines away
    for (;;) {
      while (end < ops.length && changed[end]) end++;
      let next = end;
      while (next < ops.length && !changed[next]) next++;
      if (next < ops.length && next - end <= 2 * context) end = next;
      else break;
    }
    end = Math.min(ops.length, end + context);
    const hunk = ops.slice(start, end);
    const aStart = Math.min(...hunk.map((o) => o.a));
    const bStart = Math.min(...hunk.map((o) => o.b));
    const aCount = hunk.filter((o) => o.kind !== '+').length;
    const bCount = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const o of hunk) {
      const line = o.kind === '+' ? B[o.b]! : A[o.a]!;
      if (line.endsWith(NO_EOL)) out.push(`${o.kind}${line.slice(0, -NO_EOL.length)}`, '\\ No newline at end of file');
      else out.push(`${o.kind}${line}`);
    }
    i = end;
  }
  return `${out.join('\n')}\n`;
}
