/**
 * systemd units: unit files in the standard directories, whether they are
 * enabled (a link in some `*.wants/` directory of /etc/systemd/system), and
 * their ExecStart line (which often names the config file). Whether a unit
 * is active comes from the cgroup of a running process (processes.ts), so
 * no D-Bus call is needed and a recorded root works the same.
 */
import * as fs from 'node:fs';
import type { Host, Problems } from '../host.js';

export const UNIT_DIRS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
];

export interface UnitFile {
  name: string;
  /** host path of the unit file */
  file: string;
  enabled: boolean;
  /** the ExecStart command, when the file could be read */
  execStart?: string;
}

export interface UnitIndex {
  /** unit name → the first file found (earlier directories override later ones, as systemd does) */
  files: Map<string, string>;
  enabled: Set<string>;
}

export function readUnitIndex(host: Host): UnitIndex {
  const files = new Map<string, string>();
  const enabled = new Set<string>();
  for (const dir of UNIT_DIRS) {
    let names: string[];
    try {
      names = fs.readdirSync(host.real(dir));
    } catch {
      continue;
    }
    for (const n of names) {
      if (n.endsWith('.wants') && dir === '/etc/systemd/system') {
        try {
          for (const w of fs.readdirSync(host.real(`${dir}/${n}`))) enabled.add(w);
        } catch {
          // unreadable wants dir: nothing enabled from it
        }
        continue;
      }
      if (!/\.(service|socket)$/.test(n) || files.has(n)) continue;
      files.set(n, `${dir}/${n}`);
    }
  }
  return { files, enabled };
}

/** A unit name pattern (`postgresql@*.service`) as a RegExp. */
export function unitPattern(glob: string): RegExp {
  const esc = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${esc}$`);
}

/** ExecStart= of a unit file (the first one; the command without its `-@:+!` prefixes). */
export function parseExecStart(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const m = /^\s*ExecStart\s*=\s*[-@:+!]*(.+)$/.exec(line);
    if (m && m[1]!.trim() !== '') return m[1]!.trim();
  }
  return undefined;
}

/** The unit files matching any of `patterns`. */
export function findUnits(host: Host, index: UnitIndex, patterns: readonly string[], problems: Problems): UnitFile[] {
  const res = patterns.map(unitPattern);
  const out: UnitFile[] = [];
  for (const [name, file] of index.files) {
    if (!res.some((r) => r.test(name))) continue;
    const text = host.readText(file, problems);
    // a link to /dev/null is a masked unit: not a sign of an installed service
    if (text === '' || isMasked(host, file)) continue;
    out.push({
      name,
      file,
      enabled: index.enabled.has(name),
      execStart: text === undefined ? undefined : parseExecStart(text),
    });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

function isMasked(host: Host, file: string): boolean {
  try {
    return fs.readlinkSync(host.real(file)) === '/dev/null';
  } catch {
    return false;
  }
}
