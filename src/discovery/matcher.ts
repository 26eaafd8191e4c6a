/**
 * Which templates a process matches: every template's name, path and
 * command-line patterns compiled into one RE2.Set per field (as the
 * classifier does), so a process costs three set matches whatever the
 * number of templates.
 */
import RE2 from 're2';
import type { ProcInfo } from './signals/processes.js';
import type { ServiceTemplate } from './templates/types.js';

export type MatchField = 'name' | 'path' | 'cmdline';

interface FieldSet {
  set: InstanceType<typeof RE2.Set> | undefined;
  /** pattern index → template index */
  owner: number[];
}

function buildSet(templates: readonly ServiceTemplate[], pick: (t: ServiceTemplate) => string[]): FieldSet {
  const patterns: string[] = [];
  const owner: number[] = [];
  templates.forEach((t, i) => {
    for (const p of pick(t)) {
      patterns.push(p);
      owner.push(i);
    }
  });
  return { set: patterns.length ? new RE2.Set(patterns) : undefined, owner };
}

export interface ProcessMatch {
  template: number;
  fields: MatchField[];
}

export function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i >= 0 ? p.slice(i + 1) : p;
}

/** argv[0] of a command line (up to the first space), without its directory. */
export function argv0Name(cmdline: string): string {
  const sp = cmdline.indexOf(' ');
  const a0 = sp >= 0 ? cmdline.slice(0, sp) : cmdline;
  return basename(a0.endsWith(':') ? a0.slice(0, -1) : a0);
}

export class ProcessMatcher {
  private readonly names: FieldSet;
  private readonly paths: FieldSet;
  private readonly cmdlines: FieldSet;

  constructor(readonly templates: readonly ServiceTemplate[]) {
    this.names = buildSet(templates, (t) => t.match.names);
    this.paths = buildSet(templates, (t) => t.match.paths);
    this.cmdlines = buildSet(templates, (t) => t.match.cmdlines);
  }

  /** The templates `p` matches, with the fields that matched; kernel threads match nothing. */
  match(p: ProcInfo): ProcessMatch[] {
    if (p.cmdline === '') return [];
    const hits = new Map<number, MatchField[]>();
    const add = (fs: FieldSet, subject: string, field: MatchField) => {
      if (!fs.set || subject === '') return;
      for (const k of fs.set.match(subject)) {
        const t = fs.owner[k]!;
        const list = hits.get(t);
        if (!list) hits.set(t, [field]);
        else if (!list.includes(field)) list.push(field);
      }
    };
    add(this.names, p.comm, 'name');
    const a0 = argv0Name(p.cmdline);
    if (a0 !== p.comm) add(this.names, a0, 'name');
    if (p.exe) {
      const b = basename(p.exe);
      if (b !== p.comm && b !== a0) add(this.names, b, 'name');
      add(this.paths, p.exe, 'path');
    }
    add(this.cmdlines, p.cmdline, 'cmdline');
    return [...hits].map(([template, fields]) => ({ template, fields }));
  }
}
