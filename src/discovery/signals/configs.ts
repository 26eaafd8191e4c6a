/**
 * A service's config file: candidates from the command line, the process's
 * working directory and the standard paths; includes followed (globs
 * allowed, bounded depth and count); values and log paths extracted by the
 * template's re2 rules. Reading is all it does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import RE2 from 're2';
import type { Host, Problems } from '../host.js';
import type { ServiceTemplate } from '../templates/types.js';

const MAX_INCLUDE_DEPTH = 4;
const MAX_FILES = 64;
const MAX_BYTES = 4 << 20;

export interface ConfigRead {
  /** host path of the main file */
  path: string;
  /** every file read (the main one first, then includes) */
  files: string[];
  values: Record<string, string>;
  logs: string[];
}

const cache = new Map<string, RE2>();

/** Compiled once per pattern and flags (templates are checked at load, so this does not throw). */
export function compiled(pattern: string, flags: string): RE2 {
  const key = `${flags}/${pattern}`;
  let re = cache.get(key);
  if (!re) {
    re = new RE2(pattern, flags);
    cache.set(key, re);
  }
  return re;
}

function globToRe(seg: string): RegExp {
  return new RegExp(
    `^${seg
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** Expand `*` and `?` in the segments of a host path; the files that exist, sorted. */
export function expandGlob(host: Host, pattern: string): string[] {
  if (!/[*?]/.test(pattern)) return host.exists(pattern) ? [pattern] : [];
  const segs = pattern.split('/').filter(Boolean);
  let cur = ['/'];
  for (const seg of segs) {
    const next: string[] = [];
    for (const dir of cur) {
      if (!/[*?]/.test(seg)) {
        const p = path.posix.join(dir, seg);
        if (host.exists(p)) next.push(p);
        continue;
      }
      let names: string[];
      try {
        names = fs.readdirSync(host.real(dir));
      } catch {
        continue;
      }
      const re = globToRe(seg);
      for (const n of names.sort()) if (re.test(n) && !n.startsWith('.')) next.push(path.posix.join(dir, n));
    }
    cur = next;
  }
  return cur.filter((p) => {
    try {
      return fs.statSync(host.real(p)).isFile();
    } catch {
      return false;
    }
  });
}

/** ${var} in a candidate path from the command-line values; undefined when one is missing. */
export function fillPath(p: string, vars: Record<string, string>): string | undefined {
  let missing = false;
  const out = p.replace(/\$\{([a-z0-9_]+)\}/g, (_, n: string) => {
    const v = vars[n];
    if (v === undefined || v === '') missing = true;
    return v ?? '';
  });
  return missing ? undefined : out;
}

/** Values from text by named re2 rules: the first group of the first match. */
export function extractValues(text: string, rules: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, pattern] of Object.entries(rules)) {
    const re = compiled(pattern, 'm');
    re.lastIndex = 0;
    const m = re.exec(text);
    if (m && m[1] !== undefined) out[k] = stripQuotes(m[1]);
  }
  return out;
}

function stripQuotes(s: string): string {
  const t = s.trim();
  return (t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'")) ? t.slice(1, -1) : t;
}

/** Every first group of every match. */
function allMatches(text: string, pattern: string): string[] {
  const re = compiled(pattern, 'gm');
  re.lastIndex = 0;
  const out: string[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1] !== undefined) out.push(stripQuotes(m[1]));
    if (m[0] === '') re.lastIndex++;
  }
  return out;
}

/** A log path worth tailing: a file path, not `off`, `stderr`, syslog targets or variables. */
function usableLog(p: string, dir: string): string | undefined {
  if (
    !p ||
    /^(off|none|stderr|stdout|syslog)$/i.test(p) ||
    p.includes('$') ||
    /^[a-z]+:/.test(p) ||
    p.startsWith('|')
  ) {
    return undefined;
  }
  const abs = path.posix.resolve(dir, p);
  // /dev/null, /dev/stderr and friends are not files to tail (/dev/shm is)
  return /^\/dev\/(null|zero|std(in|out|err)|console|tty|fd\/|log$)/.test(abs) ? undefined : abs;
}

/**
 * Read `mainPath` (a host path) and its includes; extract the template's
 * values and log paths. Undefined when the main file cannot be read (a
 * problem is recorded unless it simply does not exist).
 */
export function readServiceConfig(
  host: Host,
  tpl: ServiceTemplate,
  mainPath: string,
  problems: Problems,
): ConfigRead | undefined {
  const main = host.readText(mainPath, problems, { maxBytes: MAX_BYTES });
  if (main === undefined) return undefined;
  const files = [mainPath];
  const texts = [main];
  const visit = (file: string, text: string, depth: number) => {
    if (depth >= MAX_INCLUDE_DEPTH) return;
    const dir = path.posix.dirname(file);
    for (const rule of tpl.config.includes) {
      for (const inc of allMatches(text, rule.pattern)) {
        const target = path.posix.resolve(dir, inc.replace(/\/+$/, '') + rule.append);
        for (const f of expandGlob(host, target)) {
          if (files.includes(f) || files.length >= MAX_FILES) continue;
          const t = host.readText(f, problems, { maxBytes: MAX_BYTES });
          if (t === undefined) continue;
          files.push(f);
          texts.push(t);
          visit(f, t, depth + 1);
        }
      }
    }
  };
  visit(mainPath, main, 0);
  const all = texts.join('\n');
  const values = extractValues(all, tpl.config.extract);
  const logs: string[] = [];
  texts.forEach((t, i) => {
    const dir = path.posix.dirname(files[i]!);
    for (const rule of tpl.config.logs) {
      for (const p of allMatches(t, rule)) {
        const abs = usableLog(p, dir);
        if (abs && !logs.includes(abs)) logs.push(abs);
      }
    }
  });
  return { path: mainPath, files, values, logs };
}

/**
 * Candidate config files for one instance, in order: paths the command line
 * names (the template's `config.paths` that use command-line values), names
 * in the working directory, then the standard paths (globs expanded).
 */
export function configCandidates(
  host: Host,
  tpl: ServiceTemplate,
  cmdValues: Record<string, string>,
  cwd: string | undefined,
): string[] {
  const out: string[] = [];
  const add = (p: string) => {
    if (!out.includes(p)) out.push(p);
  };
  const fromCmd: string[] = [];
  const standard: string[] = [];
  for (const p of tpl.config.paths) (p.includes('${') ? fromCmd : standard).push(p);
  for (const p of fromCmd) {
    const filled = fillPath(p, { ...tpl.defaults, ...cmdValues });
    if (filled) add(path.posix.resolve(cwd ?? '/', filled));
  }
  if (cwd) for (const n of tpl.config.inCwd) for (const f of expandGlob(host, path.posix.join(cwd, n))) add(f);
  for (const p of standard) for (const f of expandGlob(host, p)) add(f);
  return out;
}
