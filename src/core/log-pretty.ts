/**
 * Readable log lines for a terminal: pino's JSON line (already redacted) in,
 * one line out, written synchronously to stderr so it never splits or
 * reorders against the CLI's summary lines on stdout.
 *
 *   14:03:07.412 INFO  control server listening url=http://127.0.0.1:9464 profileChanges="disabled (no token)"
 *
 * Fields other than time, level, pid and msg follow as key=value (strings
 * quoted when they hold spaces, objects as compact JSON); an error's stack
 * follows on indented lines. Colour only when asked for (a terminal without
 * NO_COLOR).
 */

const LEVELS: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const COLOURS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' };
const OMIT = new Set(['time', 'level', 'pid', 'hostname', 'msg']);

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function clock(ms: unknown): string {
  const d = new Date(typeof ms === 'number' ? ms : Date.now());
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v);
}

/** One pino JSON line as a readable line (a line that is not JSON passes through). */
export function prettyLine(json: string, colour = false): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json.endsWith('\n') ? json : `${json}\n`;
  }
  const level = typeof o.level === 'number' ? o.level : 30;
  const name = LEVELS[level] ?? String(o.level).toUpperCase().padEnd(5);
  const shown = colour ? `\x1b[${COLOURS[level] ?? '0'}m${name}\x1b[0m` : name;
  let stack = '';
  const fields: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (OMIT.has(k)) continue;
    if ((k === 'err' || k === 'error') && v && typeof v === 'object' && 'message' in v) {
      const e = v as { message?: unknown; stack?: unknown };
      fields.push(`${k}=${value(e.message)}`);
      if (typeof e.stack === 'string') {
        stack = e.stack
          .split('\n')
          .slice(1)
          .map((l) => `\n    ${l.trim()}`)
          .join('');
      }
      continue;
    }
    fields.push(`${k}=${value(v)}`);
  }
  const msg = typeof o.msg === 'string' ? o.msg : '';
  return `${clock(o.time)} ${shown} ${msg}${fields.length ? ` ${fields.join(' ')}` : ''}${stack}\n`;
}

/** A pino destination that writes readable lines through `write` (synchronous). */
export function prettyDestination(write: (line: string) => void, colour = false): { write(chunk: string): void } {
  return {
    write(chunk: string) {
      // pino hands one JSON line per call
      write(prettyLine(chunk.trimEnd(), colour));
    },
  };
}
