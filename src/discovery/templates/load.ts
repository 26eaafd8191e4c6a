/**
 * Load service templates: the embedded library (configs/discovery/*.yaml)
 * and a user directory. Every error names the file and line; a bad file is
 * skipped (a Problem) and the others are used. A user template with the
 * same `service` as an embedded one replaces it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import RE2 from 're2';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { packageRoot } from '../../util/package.js';
import type { Problems } from '../host.js';
import {
  BUILTIN_VARS,
  type ComponentSpec,
  type IncludeRule,
  type PortSpec,
  SECRET_KEY,
  type ServiceTemplate,
} from './types.js';

export function embeddedTemplateDir(): string {
  return path.join(packageRoot(), 'configs', 'discovery');
}

class TemplateError extends Error {
  constructor(
    readonly line: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

const TOP_KEYS = new Set([
  'service',
  'display_name',
  'description',
  'match',
  'cmdline',
  'config',
  'default_logs',
  'version',
  'endpoint',
  'defaults',
  'notes',
  'notes_if_default',
  'receiver',
  'logs',
]);
const MATCH_KEYS = new Set(['names', 'paths', 'cmdlines', 'ports', 'packages', 'units', 'unix_sockets']);
const CONFIG_KEYS = new Set(['paths', 'in_cwd', 'include', 'extract', 'logs']);
const VAR_REF = /\$\{([^}]*)\}/g;
const ENV_REF = /^env:[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?$/;
const NAME = /^[a-z][a-z0-9_-]*$/;
const VAR_NAME = /^[a-z][a-z0-9_]*$/;

type Path = readonly (string | number)[];

/** Parse and check one template file's text. Throws TemplateError (line + message). */
function buildTemplate(text: string, file: string, origin: 'embedded' | 'user'): ServiceTemplate {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = lc.linePos(e.pos[0]);
    throw new TemplateError(pos.line, `invalid YAML at column ${pos.col}: ${e.message.split('\n')[0]}`);
  }
  const lineOfNode = (n: unknown): number | undefined => {
    const r = (n as Node | undefined)?.range;
    return r ? lc.linePos(r[0]).line : undefined;
  };
  const lineOf = (p: Path): number | undefined =>
    lineOfNode(doc.getIn(p, true)) ?? (p.length ? lineOf(p.slice(0, -1)) : 1);
  const fail = (p: Path, msg: string): never => {
    throw new TemplateError(lineOf(p), `'${p.join('.')}': ${msg}`);
  };
  const data = doc.toJS() as unknown;
  if (!isObj(data)) throw new TemplateError(1, 'the top level must be a mapping');

  const keysOf = (p: Path, o: Record<string, unknown>, allowed: Set<string>) => {
    for (const k of Object.keys(o))
      if (!allowed.has(k)) fail([...p, k], `unknown key (allowed: ${[...allowed].join(', ')})`);
  };
  const str = (p: Path, v: unknown, required = false): string | undefined => {
    if (v === undefined || v === null) {
      if (required) fail(p, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' && typeof v !== 'number') fail(p, 'must be a string');
    return String(v);
  };
  const list = (p: Path, v: unknown): string[] => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) fail(p, 'must be a list');
    return (v as unknown[]).map((x, i) => str([...p, i], x, true)!);
  };
  const obj = (p: Path, v: unknown): Record<string, unknown> => {
    if (v === undefined || v === null) return {};
    if (!isObj(v)) fail(p, 'must be a mapping');
    return v as Record<string, unknown>;
  };
  const re2 = (p: Path, pattern: string, flags = '') => {
    try {
      new RE2(pattern, flags);
    } catch (e) {
      fail(p, `invalid RE2 pattern /${pattern}/: ${(e as Error).message}`);
    }
    return pattern;
  };
  const strMap = (p: Path, v: unknown, patterns: boolean): Record<string, string> => {
    const o = obj(p, v);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(o)) {
      if (!VAR_NAME.test(k)) fail([...p, k], 'variable names are lower_case words (letters, digits, _)');
      out[k] = patterns ? re2([...p, k], str([...p, k], x, true)!, 'm') : str([...p, k], x, true)!;
    }
    return out;
  };

  keysOf([], data, TOP_KEYS);
  const service = str(['service'], data.service, true)!;
  if (!NAME.test(service)) fail(['service'], `'${service}' must be a lower-case word (letters, digits, _ and -)`);

  const m = obj(['match'], data.match);
  keysOf(['match'], m, MATCH_KEYS);
  const ports: PortSpec[] = list(['match', 'ports'], m.ports).map((s, i) => {
    const mm = /^(?:(tcp|udp):)?(\d{1,5})$/.exec(s);
    if (!mm || Number(mm[2]) > 65535) fail(['match', 'ports', i], `'${s}' is not a port (N, tcp:N or udp:N)`);
    return { transport: (mm![1] ?? 'tcp') as 'tcp' | 'udp', port: Number(mm![2]) };
  });
  const match = {
    names: list(['match', 'names'], m.names).map((s, i) => re2(['match', 'names', i], s)),
    paths: list(['match', 'paths'], m.paths).map((s, i) => re2(['match', 'paths', i], s)),
    cmdlines: list(['match', 'cmdlines'], m.cmdlines).map((s, i) => re2(['match', 'cmdlines', i], s)),
    ports,
    packages: list(['match', 'packages'], m.packages),
    units: list(['match', 'units'], m.units),
    unixSockets: list(['match', 'unix_sockets'], m.unix_sockets).map((s, i) => re2(['match', 'unix_sockets', i], s)),
  };
  if (match.names.length + match.paths.length + match.cmdlines.length + match.ports.length === 0) {
    fail(['match'], 'needs at least one of names, paths, cmdlines or ports');
  }

  const cmdline = strMap(['cmdline'], data.cmdline, true);
  const c = obj(['config'], data.config);
  keysOf(['config'], c, CONFIG_KEYS);
  const includes: IncludeRule[] = (() => {
    const v = c.include;
    if (v === undefined || v === null) return [];
    const items = Array.isArray(v) ? v : [v];
    return items.map((it, i) => {
      const p: Path = Array.isArray(v) ? ['config', 'include', i] : ['config', 'include'];
      if (typeof it === 'string') return { pattern: re2(p, it, 'm'), append: '' };
      const o = obj(p, it);
      keysOf(p, o, new Set(['pattern', 'append']));
      return {
        pattern: re2([...p, 'pattern'], str([...p, 'pattern'], o.pattern, true)!, 'm'),
        append: str([...p, 'append'], o.append) ?? '',
      };
    });
  })();
  const extract = strMap(['config', 'extract'], c.extract, true);
  const config = {
    paths: list(['config', 'paths'], c.paths),
    inCwd: list(['config', 'in_cwd'], c.in_cwd),
    includes,
    extract,
    logs: (Array.isArray(c.logs)
      ? list(['config', 'logs'], c.logs)
      : c.logs
        ? [str(['config', 'logs'], c.logs)!]
        : []
    ).map((s) => re2(['config', 'logs'], s, 'm')),
  };
  const defaults = strMap(['defaults'], data.defaults, false);
  const version = obj(['version'], data.version);
  keysOf(['version'], version, new Set(['binary']));
  const binary = str(['version', 'binary'], version.binary);
  if (binary !== undefined) re2(['version', 'binary'], binary);
  const ep = obj(['endpoint'], data.endpoint);
  keysOf(['endpoint'], ep, new Set(['tcp', 'unix', 'prefer_ports', 'prefer_value', 'prefer_transport']));
  const preferTransport = str(['endpoint', 'prefer_transport'], ep.prefer_transport) ?? 'tcp';
  if (preferTransport !== 'tcp' && preferTransport !== 'unix')
    fail(['endpoint', 'prefer_transport'], 'must be tcp or unix');
  const preferValue = str(['endpoint', 'prefer_value'], ep.prefer_value);
  if (preferValue !== undefined && !(preferValue in extract) && !(preferValue in cmdline)) {
    fail(['endpoint', 'prefer_value'], `'${preferValue}' is not a value of config.extract or cmdline`);
  }
  const preferPorts = list(['endpoint', 'prefer_ports'], ep.prefer_ports).map((s, i) => {
    if (!/^\d{1,5}$/.test(s)) fail(['endpoint', 'prefer_ports', i], `'${s}' is not a port`);
    return Number(s);
  });

  // every ${var} must be one discovery sets, or a template value, or an ${env:VAR} reference
  // (a value from the config or the command line may be absent, so it needs a default too)
  const known = new Set<string>([...BUILTIN_VARS, ...Object.keys(defaults)]);
  const extracted = new Set<string>([...Object.keys(extract), ...Object.keys(cmdline)]);
  const checkRefs = (p: Path, s: string, line: number | undefined, allowed: Set<string>) => {
    for (const r of s.matchAll(VAR_REF)) {
      const name = r[1]!;
      if (name.startsWith('env:')) {
        if (!ENV_REF.test(name))
          throw new TemplateError(line, `'${p.join('.')}': '\${${name}}' is not a valid \${env:VAR} reference`);
        continue;
      }
      if (!allowed.has(name) && extracted.has(name) && allowed === known) {
        throw new TemplateError(
          line,
          `'${p.join('.')}': '\${${name}}' may be absent from the config: give it a value under defaults`,
        );
      }
      if (!allowed.has(name)) {
        throw new TemplateError(
          line,
          `'${p.join('.')}': unknown variable '\${${name}}' (known: ${[...allowed].sort().join(', ')}, or \${env:VAR})`,
        );
      }
    }
  };
  const checkNode = (p: Path, n: unknown) => {
    if (isMap(n)) {
      for (const it of n.items) {
        if (!isPair(it)) continue;
        const k = isScalar(it.key) ? String(it.key.value) : '';
        const kp = [...p, k];
        if (SECRET_KEY.test(k)) {
          const v = isScalar(it.value) ? it.value.value : undefined;
          if (typeof v !== 'string' || !/^\$\{env:[A-Za-z_][A-Za-z0-9_]*\}$/.test(v)) {
            throw new TemplateError(
              lineOfNode(it.key),
              `'${kp.join('.')}': credentials must be an \${env:VAR} reference, never a value`,
            );
          }
        }
        checkNode(kp, it.value);
      }
    } else if (isSeq(n)) {
      for (const [i, x] of n.items.entries()) checkNode([...p, i], x);
    } else if (isScalar(n) && typeof n.value === 'string') {
      checkRefs(p, n.value, lineOfNode(n), known);
    }
  };
  const component = (key: 'receiver' | 'logs'): ComponentSpec | undefined => {
    const v = data[key];
    if (v === undefined || v === null) {
      if (key === 'receiver') fail([key], 'is required: a mapping of one Collector receiver type to its config');
      return undefined;
    }
    const o = obj([key], v);
    const types = Object.keys(o);
    if (types.length !== 1) fail([key], `must hold exactly one receiver type, found ${types.length}`);
    const type = types[0]!;
    if (!/^[a-z][a-z0-9_]*$/.test(type)) fail([key, type], `'${type}' is not a Collector component type`);
    if (o[type] !== null && o[type] !== undefined && !isObj(o[type])) fail([key, type], 'must be a mapping');
    checkNode([key], doc.getIn([key], true));
    return { type, body: o[type] ?? {} };
  };
  const receiver = component('receiver')!;
  const logs = component('logs');
  const endpoint = {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template variable, expanded by render.ts
    tcp: str(['endpoint', 'tcp'], ep.tcp) ?? '${host_port}',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template variable, expanded by render.ts
    unix: str(['endpoint', 'unix'], ep.unix) ?? '${socket}',
    preferPorts: preferPorts.length ? preferPorts : ports.filter((p) => p.transport === 'tcp').map((p) => p.port),
    preferValue,
    preferTransport: preferTransport as 'tcp' | 'unix',
  };
  checkRefs(['endpoint', 'tcp'], endpoint.tcp, lineOf(['endpoint', 'tcp']), known);
  checkRefs(['endpoint', 'unix'], endpoint.unix, lineOf(['endpoint', 'unix']), known);
  const pathVars = new Set([...Object.keys(cmdline), ...Object.keys(defaults)]);
  for (const [i, s] of config.paths.entries())
    checkRefs(['config', 'paths', i], s, lineOf(['config', 'paths', i]), pathVars);
  const notesIfDefault = strMap(['notes_if_default'], data.notes_if_default, false);
  for (const k of Object.keys(notesIfDefault)) {
    if (!(k in defaults)) fail(['notes_if_default', k], `'${k}' has no entry in defaults`);
  }

  return {
    file,
    origin,
    service,
    displayName: str(['display_name'], data.display_name) ?? service,
    match,
    cmdline,
    config,
    defaultLogs: list(['default_logs'], data.default_logs),
    version: { binary },
    endpoint,
    defaults,
    notesIfDefault,
    notes: list(['notes'], data.notes),
    receiver,
    logs,
    lineOf: (p) => lineOf(p),
  };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse one template; on error a Problem naming the file and line, and undefined. */
export function parseTemplate(
  text: string,
  file: string,
  origin: 'embedded' | 'user',
  problems: Problems,
): ServiceTemplate | undefined {
  try {
    return buildTemplate(text, file, origin);
  } catch (e) {
    if (e instanceof TemplateError) {
      problems.add({ kind: 'template', file, line: e.line, message: `${e.message}; template skipped` });
      return undefined;
    }
    throw e;
  }
}

function loadDir(dir: string, origin: 'embedded' | 'user', problems: Problems): ServiceTemplate[] {
  let names: string[];
  try {
    names = fs
      .readdirSync(dir)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort();
  } catch (e) {
    problems.unreadable(dir, e, 'template directory');
    return [];
  }
  const out: ServiceTemplate[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      problems.unreadable(file, e, 'template');
      continue;
    }
    const t = parseTemplate(text, file, origin, problems);
    if (t) out.push(t);
  }
  return out;
}

export interface TemplateSources {
  /** default: the embedded library */
  embeddedDir?: string;
  /** the user's directory (config `discovery.template_dir`) */
  userDir?: string;
}

/** Embedded templates, then the user's; a user template replaces the embedded one of the same service. */
export function loadTemplates(src: TemplateSources, problems: Problems): ServiceTemplate[] {
  const byService = new Map<string, ServiceTemplate>();
  for (const t of loadDir(src.embeddedDir ?? embeddedTemplateDir(), 'embedded', problems)) {
    if (byService.has(t.service)) {
      problems.add({
        kind: 'template',
        file: t.file,
        message: `service '${t.service}' is defined twice; the first file wins`,
      });
      continue;
    }
    byService.set(t.service, t);
  }
  if (src.userDir) {
    const seen = new Set<string>();
    for (const t of loadDir(src.userDir, 'user', problems)) {
      if (seen.has(t.service)) {
        problems.add({
          kind: 'template',
          file: t.file,
          message: `service '${t.service}' is defined twice in ${src.userDir}; the first file wins`,
        });
        continue;
      }
      seen.add(t.service);
      byService.set(t.service, t);
    }
  }
  return [...byService.values()];
}
