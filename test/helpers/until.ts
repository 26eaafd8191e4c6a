/**
 * Polling waits for tests: a bound on how long a test waits for something
 * to happen, never a timing assertion.
 */
import type { ChildProcess } from 'node:child_process';

export interface UntilOptions {
  /** give up after this long (default 10 s) */
  ms?: number;
  /** check this often (default 25 ms) */
  everyMs?: number;
  /** more to say when it times out (an agent's stderr, the last answer seen) */
  context?: () => string | undefined;
}

/**
 * Resolves once `ok()` holds; throws `timed out waiting for <what>` (and the
 * context) after `ms`. The first check is synchronous, so a condition that
 * already holds is seen before any other callback runs.
 */
export async function until(
  what: string,
  ok: () => boolean | Promise<boolean>,
  { ms = 10_000, everyMs = 25, context }: UntilOptions = {},
): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const r = ok();
    if (typeof r === 'boolean' ? r : await r) return;
    if (Date.now() > end) {
      const more = context?.();
      throw new Error(`timed out after ${ms} ms waiting for ${what}${more ? `\n${more}` : ''}`);
    }
    await new Promise((res) => setTimeout(res, everyMs));
  }
}

/** Everything `child` writes to stderr from now on, and a wait for a line in it. */
export function stderrOf(child: ChildProcess) {
  let buf = '';
  child.stderr!.on('data', (d: Buffer) => {
    buf += d.toString();
  });
  return async (re: RegExp, ms = 20_000): Promise<RegExpMatchArray> => {
    let m: RegExpExecArray | null = null;
    const seen = () => {
      m = re.exec(buf);
      return m !== null;
    };
    await until(`a line matching ${re}`, seen, { ms, context: () => `stderr:\n${buf}` });
    return m!;
  };
}
