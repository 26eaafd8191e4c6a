/**
 * The Prometheus text exposition format 0.0.4: metric families in, text out.
 * Pure functions; the registry and any pull-mode collector produce
 * `MetricFamily` values and this file alone knows the wire format.
 *
 * Names: an OpenTelemetry-style name (`nrdot.cost.bytes`) becomes a
 * Prometheus name by replacing every character outside `[a-zA-Z0-9_]` with
 * `_` (`nrdot_cost_bytes`). A unit, when given, is appended as a suffix
 * unless the name already ends with it (`nrdot.http.request.duration` with
 * unit `s` → `nrdot_http_request_duration_seconds`). Counters end in
 * `_total`.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';
export type Labels = Readonly<Record<string, string>>;

export interface ScalarSample {
  labels?: Labels;
  value: number;
}

export interface HistogramSample {
  labels?: Labels;
  /** cumulative count of observations <= each of the family's `bounds` (same length) */
  buckets: number[];
  count: number;
  sum: number;
  /** quantiles and max, when the source keeps them (JSON form only; the text format has no place for them) */
  p50?: number;
  p90?: number;
  p99?: number;
  max?: number;
}

interface FamilyBase {
  /** dotted OpenTelemetry-style name, or a Prometheus name */
  name: string;
  help: string;
  /** `s`/`seconds`, `By`/`bytes`, … appended to the Prometheus name (see unitSuffix) */
  unit?: string;
}

export interface ScalarFamily extends FamilyBase {
  type: 'counter' | 'gauge';
  samples: ScalarSample[];
}

export interface HistogramFamily extends FamilyBase {
  type: 'histogram';
  /** upper bounds (`le`) in increasing order, without +Inf */
  bounds: number[];
  samples: HistogramSample[];
}

export type MetricFamily = ScalarFamily | HistogramFamily;

/** OpenTelemetry (UCUM) units and their Prometheus base-unit words. */
const UNIT_WORDS: Readonly<Record<string, string>> = {
  s: 'seconds',
  seconds: 'seconds',
  By: 'bytes',
  bytes: 'bytes',
  ratio: 'ratio',
};

/** The suffix a unit adds to a Prometheus name, or '' (annotation units like `{processes}` add none). */
export function unitSuffix(unit: string | undefined): string {
  return unit ? (UNIT_WORDS[unit] ?? '') : '';
}

function sanitize(name: string): string {
  let s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  if (/^[0-9]/.test(s)) s = `_${s}`;
  return s;
}

/** The Prometheus family name (without `_bucket`/`_sum`/`_count`). */
export function promName(f: Pick<FamilyBase, 'name' | 'unit'> & { type: MetricType }): string {
  let s = sanitize(f.name);
  const suffix = unitSuffix(f.unit);
  if (suffix && !s.endsWith(`_${suffix}`) && !(f.type === 'counter' && s.endsWith(`_${suffix}_total`))) {
    s = `${s}_${suffix}`;
  }
  if (f.type === 'counter' && !s.endsWith('_total')) s = `${s}_total`;
  return s;
}

/** A label name Prometheus accepts: `process.pid` → `process_pid`; a leading `__` (reserved) loses one `_`. */
export function promLabelName(name: string): string {
  const s = sanitize(name);
  return s.startsWith('__') ? s.slice(1) : s;
}

export function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function escapeLabelValue(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

function labelBlock(labels: Labels | undefined, extra?: [string, string]): string {
  const parts: string[] = [];
  if (labels) {
    for (const [k, v] of Object.entries(labels)) {
      const name = promLabelName(k);
      if (name === 'le' && extra) continue; // `le` belongs to the bucket
      parts.push(`${name}="${escapeLabelValue(v)}"`);
    }
  }
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function renderFamily(f: MetricFamily, name: string, out: string[]): void {
  out.push(`# HELP ${name} ${escapeHelp(f.help)}`);
  out.push(`# TYPE ${name} ${f.type}`);
  if (f.type !== 'histogram') {
    for (const s of f.samples) out.push(`${name}${labelBlock(s.labels)} ${formatValue(s.value)}`);
    return;
  }
  for (const s of f.samples) {
    for (let i = 0; i < f.bounds.length; i++) {
      out.push(`${name}_bucket${labelBlock(s.labels, ['le', formatValue(f.bounds[i]!)])} ${s.buckets[i] ?? s.count}`);
    }
    out.push(`${name}_bucket${labelBlock(s.labels, ['le', '+Inf'])} ${s.count}`);
    out.push(`${name}_sum${labelBlock(s.labels)} ${formatValue(s.sum)}`);
    out.push(`${name}_count${labelBlock(s.labels)} ${s.count}`);
  }
}

/**
 * Families to exposition text. A family whose Prometheus name was already
 * rendered is left out (first wins) with a comment line saying so, because a
 * repeated family makes Prometheus reject the whole scrape.
 */
export function renderFamilies(families: Iterable<MetricFamily>): string {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    const name = promName(f);
    if (seen.has(name)) {
      out.push(`# nrdot: a second family named ${name} was left out`);
      continue;
    }
    seen.add(name);
    renderFamily(f, name, out);
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

export type JsonSample =
  | { labels: Labels; value: number | null }
  | {
      labels: Labels;
      count: number;
      sum: number;
      p50?: number;
      p90?: number;
      p99?: number;
      max?: number;
      buckets: { le: number | '+Inf'; count: number }[];
    };

export interface JsonFamily {
  /** the name on /metrics */
  name: string;
  /** the name it was registered with */
  source: string;
  type: MetricType;
  help: string;
  unit?: string;
  samples: JsonSample[];
}

/** The JSON form (`GET /metrics?format=json`, `nrdot metrics --json`): same families, same names, plus quantiles. */
export function familiesToJson(families: Iterable<MetricFamily>): { metrics: JsonFamily[] } {
  const metrics: JsonFamily[] = [];
  const seen = new Set<string>();
  for (const f of families) {
    const name = promName(f);
    if (seen.has(name)) continue;
    seen.add(name);
    const base = { name, source: f.name, type: f.type, help: f.help, ...(f.unit ? { unit: f.unit } : {}) };
    if (f.type !== 'histogram') {
      metrics.push({
        ...base,
        samples: f.samples.map((s) => ({ labels: s.labels ?? {}, value: Number.isFinite(s.value) ? s.value : null })),
      });
      continue;
    }
    metrics.push({
      ...base,
      samples: f.samples.map((s) => ({
        labels: s.labels ?? {},
        count: s.count,
        sum: s.sum,
        ...(s.p50 !== undefined ? { p50: s.p50, p90: s.p90, p99: s.p99, max: s.max } : {}),
        buckets: [
          ...f.bounds.map((le, i) => ({ le, count: s.buckets[i] ?? s.count })),
          { le: '+Inf' as const, count: s.count },
        ],
      })),
    });
  }
  return { metrics };
}
