/**
 * ${var} substitution in a template's receiver config. A scalar that is
 * exactly one list variable (`include: ${log_paths}`) becomes the list;
 * elsewhere values are spliced in as text. `${env:VAR}` references are
 * left for the Collector to expand: credentials never pass through nrdot.
 */

export type Vars = Record<string, string | string[]>;

const WHOLE = /^\$\{([a-z][a-z0-9_]*)\}$/;
const REF = /\$\{([^}]*)\}/g;

export class RenderError extends Error {}

export function substituteString(s: string, vars: Vars, where: string): string | string[] {
  const whole = WHOLE.exec(s);
  if (whole) {
    const v = vars[whole[1]!];
    if (v === undefined) throw new RenderError(`${where}: no value for \${${whole[1]}}`);
    return v;
  }
  return s.replace(REF, (all, name: string) => {
    if (name.startsWith('env:')) return all;
    const v = vars[name];
    if (v === undefined) throw new RenderError(`${where}: no value for \${${name}}`);
    return Array.isArray(v) ? v.join(',') : v;
  });
}

export function substitute(body: unknown, vars: Vars, where = ''): unknown {
  if (typeof body === 'string') return substituteString(body, vars, where);
  if (Array.isArray(body)) return body.map((x, i) => substitute(x, vars, `${where}[${i}]`));
  if (typeof body === 'object' && body !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(body)) out[k] = substitute(v, vars, where ? `${where}.${k}` : k);
    return out;
  }
  return body;
}
