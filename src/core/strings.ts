/**
 * Shared strings: one instance of each distinct text, counted by its uses,
 * forgotten when nothing uses it. Many processes carry the same text (the
 * workers of a pool, every process of a container), and a scanner or a
 * receiver makes a new string for each of them: holding the shared instance
 * instead keeps one copy of each.
 */

interface Entry {
  readonly text: string;
  uses: number;
}

export class SharedStrings {
  private readonly entries = new Map<string, Entry>();

  /** Distinct texts held. */
  get size(): number {
    return this.entries.size;
  }

  /** One more use of `s`: returns the shared instance ('' is not counted). */
  hold(s: string): string {
    if (s === '') return '';
    const e = this.entries.get(s);
    if (e !== undefined) {
      e.uses++;
      return e.text;
    }
    this.entries.set(s, { text: s, uses: 1 });
    return s;
  }

  /** One use of `s` less; the text is forgotten with its last use. */
  drop(s: string): void {
    if (s === '') return;
    const e = this.entries.get(s);
    if (e === undefined) return;
    if (--e.uses === 0) this.entries.delete(s);
  }
}
