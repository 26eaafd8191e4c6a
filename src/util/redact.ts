/**
 * Secret values that must never be printed. The config loader registers the
 * value behind every `${env:...}` / `${file:...}` reference it resolves; the
 * logger (src/core/log.ts) and the control server's JSON answers pass their
 * text through `redact()`, which puts the reference text back in place of the
 * value. A value is replaced wherever it occurs, raw or JSON-escaped.
 *
 * Values shorter than MIN_SECRET_LENGTH are not tracked: replacing every "1"
 * or "on" in every log line would garble the logs and protect nothing.
 */

export const MIN_SECRET_LENGTH = 4;

export class SecretRedactor {
  /** value → the reference that produced it (the first one wins) */
  private readonly refs = new Map<string, string>();
  /** values (and their JSON-escaped forms), longest first */
  private patterns: [string, string][] = [];

  /** Remember `value` as a secret shown as `ref`. Returns false for values too short to track. */
  add(value: string, ref: string): boolean {
    if (value.length < MIN_SECRET_LENGTH || this.refs.has(value)) return value.length >= MIN_SECRET_LENGTH;
    this.refs.set(value, ref);
    const pairs: [string, string][] = [[value, ref]];
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) pairs.push([escaped, ref]);
    this.patterns = [...this.patterns, ...pairs].sort((a, b) => b[0].length - a[0].length);
    return true;
  }

  get size(): number {
    return this.refs.size;
  }

  /** `text` with every known secret value replaced by its reference. */
  redact(text: string): string {
    let out = text;
    for (const [value, ref] of this.patterns) {
      if (out.includes(value)) out = out.split(value).join(ref);
    }
    return out;
  }
}

/** The process-wide set: what this process resolved from references, for its logs and answers. */
export const processSecrets = new SecretRedactor();
