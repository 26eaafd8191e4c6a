/** `nrdot status`: the running agent's /api/status, as JSON or as a readable summary. */
import { agentJson, agentUrl } from './client.js';

export interface StatusOpts {
  url?: string;
  json?: boolean;
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === 'string') return v;
  return String(v);
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

function lines(v: unknown, indent: string, out: string[]): void {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (isScalar(item)) {
        out.push(`${indent}- ${scalar(item)}`);
      } else {
        out.push(`${indent}-`);
        lines(item, `${indent}  `, out);
      }
    }
    return;
  }
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (isScalar(x)) out.push(`${indent}${k}: ${scalar(x)}`);
    else if (Array.isArray(x) && x.every(isScalar)) out.push(`${indent}${k}: ${x.map(scalar).join(', ') || '(none)'}`);
    else if (Object.keys(x as object).length === 0) out.push(`${indent}${k}: (none)`);
    else {
      out.push(`${indent}${k}:`);
      lines(x, `${indent}  `, out);
    }
  }
}

/**
 * A human view of a status whose shape the CLI does not know: scalars as
 * `key: value` at the top, then one indented section per nested object.
 */
export function formatStatus(status: unknown): string {
  if (isScalar(status)) return `${scalar(status)}\n`;
  const out: string[] = [];
  if (Array.isArray(status)) {
    lines(status, '', out);
  } else {
    const entries = Object.entries(status as Record<string, unknown>);
    const simple = entries.filter(([, x]) => isScalar(x) || (Array.isArray(x) && x.every(isScalar)));
    const sections = entries.filter((e) => !simple.includes(e));
    lines(Object.fromEntries(simple), '', out);
    for (const [k, x] of sections) {
      if (out.length > 0) out.push('');
      lines({ [k]: x }, '', out);
    }
  }
  return `${out.join('\n')}\n`;
}

export async function statusCommand(o: StatusOpts): Promise<void> {
  const status = await agentJson<unknown>(agentUrl(o.url), '/api/status');
  process.stdout.write(o.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
}
