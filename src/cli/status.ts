/** `nrdot status`: the running agent's /api/status, as JSON or as a readable summary. */
import type { AgentDiscoveryStatus } from '../agent/discovery.js';
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

function table(rows: string[][], indent: string): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => `${indent}${r.map((v, c) => (c < r.length - 1 ? v.padEnd(widths[c]!) : v)).join('  ')}`);
}

/** The `discovery` section: one line of what ran, then one row per service (name, version, endpoint, confidence). */
export function formatDiscovery(d: AgentDiscoveryStatus): string[] {
  if (!d.enabled) return [`discovery: off (${d.why})`];
  const problems = d.problems === 1 ? '1 problem' : `${d.problems} problems`;
  const head =
    d.at === null
      ? `discovery: first run in progress (every ${d.intervalSec}s)`
      : `discovery: ${d.services.length} services, ${d.runs} runs (${d.failedRuns} failed), last at ${new Date(d.at).toISOString()}${d.durationMs !== undefined ? ` in ${d.durationMs} ms` : ''}, every ${d.intervalSec}s, ${problems}`;
  const out = [head];
  if (d.lastError !== undefined) out.push(`  last run failed: ${d.lastError}`);
  if (d.services.length === 0) return out;
  const rows = [['SERVICE', 'VERSION', 'ENDPOINT', 'CONFIDENCE', 'STATE', 'PID', 'ID']];
  for (const s of d.services) {
    const below = s.confidence < d.minConfidence ? ' (below min)' : '';
    rows.push([
      s.service,
      s.version ?? '-',
      s.endpoint ?? '-',
      `${s.confidence.toFixed(2)}${below}`,
      s.state,
      s.pid !== undefined ? String(s.pid) : '-',
      s.id,
    ]);
  }
  out.push(...table(rows, '  '));
  return out;
}

function isDiscoveryStatus(v: unknown): v is AgentDiscoveryStatus {
  return typeof v === 'object' && v !== null && typeof (v as { enabled?: unknown }).enabled === 'boolean';
}

/**
 * A human view of a status whose shape the CLI does not know: scalars as
 * `key: value` at the top, then one indented section per nested object
 * (the discovered services as a table).
 */
export function formatStatus(status: unknown): string {
  if (isScalar(status)) return `${scalar(status)}\n`;
  const out: string[] = [];
  if (Array.isArray(status)) {
    lines(status, '', out);
  } else {
    const { discovery, ...rest } = status as Record<string, unknown>;
    const entries = Object.entries(isDiscoveryStatus(discovery) ? rest : (status as Record<string, unknown>));
    const simple = entries.filter(([, x]) => isScalar(x) || (Array.isArray(x) && x.every(isScalar)));
    const sections = entries.filter((e) => !simple.includes(e));
    lines(Object.fromEntries(simple), '', out);
    for (const [k, x] of sections) {
      if (out.length > 0) out.push('');
      lines({ [k]: x }, '', out);
    }
    if (isDiscoveryStatus(discovery)) {
      if (out.length > 0) out.push('');
      out.push(...formatDiscovery(discovery));
    }
  }
  return `${out.join('\n')}\n`;
}

export async function statusCommand(o: StatusOpts): Promise<void> {
  const status = await agentJson<unknown>(agentUrl(o.url), '/api/status');
  process.stdout.write(o.json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status));
}
