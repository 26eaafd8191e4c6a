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

/**
 * A duration of more than 0, in ms ("30m", "500ms"; with `bareSeconds` a
 * plain number is seconds), or undefined when `v` is not one. The parser of
 * durations typed by people: CLI options (durationArg) and API fields.
 */
export function positiveDurationMs(v: unknown, bareSeconds = false): number | undefined {
  if (typeof v !== 'string') return undefined;
  const s = bareSeconds && /^\d+(\.\d+)?$/.test(v) ? `${v}s` : v;
  try {
    const ms = durationMs(s);
    return ms > 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}
