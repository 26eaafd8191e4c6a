/**
 * "Did you mean …?" for a mistyped name, the way commander suggests unknown
 * flags: the candidates with the smallest edit distance (optimal string
 * alignment: insert, delete, substitute, swap two neighbours), at most 3
 * edits, that keep more than 40% of the longer word.
 */

const MAX_DISTANCE = 3;
const MIN_SIMILARITY = 0.4;

export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d[i] = [i];
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let j = 1; j <= b.length; j++) {
    for (let i = 1; i <= a.length; i++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidates (sorted), or [] when none is close enough. */
export function suggestSimilar(word: string, candidates: Iterable<string>): string[] {
  let best = MAX_DISTANCE + 1;
  let similar: string[] = [];
  for (const c of new Set(candidates)) {
    if (c.length <= 1) continue;
    const distance = editDistance(word, c);
    const length = Math.max(word.length, c.length);
    if ((length - distance) / length <= MIN_SIMILARITY || distance > best) continue;
    if (distance < best) {
      best = distance;
      similar = [c];
    } else {
      similar.push(c);
    }
  }
  return similar.sort((x, y) => x.localeCompare(y));
}
