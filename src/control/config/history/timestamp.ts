/**
 * `--to-timestamp` values: "2026-12-01 10:30:00" (also "T" between date and
 * time, seconds optional, fractions allowed) in the LOCAL time zone of the
 * machine running the command, or with an explicit zone: "Z" or "+02:00".
 * The result is an absolute instant (ms since the epoch), which is what
 * travels to the agent, so the agent's own time zone never matters.
 */
import { ErrorCodes, NrdotError } from '../../../core/errors.js';

const FORM = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

export function parseTimestamp(text: string, flag = '--to-timestamp'): number {
  const m = FORM.exec(text.trim());
  const bad = () =>
    new NrdotError(
      ErrorCodes.USAGE,
      `${flag} expects a time like "2026-12-01 10:30:00" (local time) or "2026-12-01T10:30:00Z", got '${text}'`,
    );
  if (!m) throw bad();
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = m[7] ? Math.round(Number(m[7]) * 1000) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) throw bad();
  let t: number;
  if (m[8]) {
    t = Date.UTC(y, mo - 1, d, h, mi, s, ms);
    if (m[8].toUpperCase() !== 'Z') {
      const z = m[8].replace(':', '');
      const sign = z[0] === '-' ? -1 : 1;
      t -= sign * (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * 60_000;
    }
  } else {
    t = new Date(y, mo - 1, d, h, mi, s, ms).getTime();
  }
  // 2026-02-31 rolls over into March: refuse it
  const check = m[8] ? new Date(Date.UTC(y, mo - 1, d)) : new Date(y, mo - 1, d);
  if ((m[8] ? check.getUTCDate() : check.getDate()) !== d) throw bad();
  return t;
}
