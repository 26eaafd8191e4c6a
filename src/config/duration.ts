/**
 * Duration strings ("10s", "500ms", "2m", "1h") without zod, so the CLI's
 * option parsers do not load the schema (zod loads dozens of files, which
 * matters under a tiny fd limit and for start-up time).
 */
export function durationMs(v: string | number): number {
  if (typeof v === 'number') return v * 1000;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v);
  if (!m) throw new Error(`bad duration ${v}`);
  const n = Number(m[1]);
  const unit = m[2];
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
}
