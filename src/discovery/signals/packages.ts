/**
 * Installed packages: the dpkg status database (`/var/lib/dpkg/status`) and,
 * where an `rpm` binary exists, the rpm database (`rpm -qa`, with `--root`
 * for another root). dpkg's per-package file lists tell which package owns
 * an executable, so a version can come from the package that really holds
 * the running binary.
 */
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Host, Problems } from '../host.js';

export interface InstalledPackage {
  name: string;
  version: string;
  manager: 'dpkg' | 'rpm';
  /** where the record is (dpkg: the status file and the line of its Package field) */
  source: string;
  line?: number;
}

export interface PackageDb {
  packages: Map<string, InstalledPackage>;
  /** which managers were read */
  managers: Array<'dpkg' | 'rpm'>;
}

export const DPKG_STATUS = '/var/lib/dpkg/status';

/**
 * Parse a dpkg status file. Only fully installed packages count
 * (`Status: install ok installed`). A stanza without Package, Status or
 * Version (a file cut mid-stanza, a hand edit) is reported with its line and
 * ignored; the rest of the file is still used.
 */
export function parseDpkgStatus(text: string, file: string, problems: Problems): Map<string, InstalledPackage> {
  const out = new Map<string, InstalledPackage>();
  const lines = text.split('\n');
  const endsClean = text.endsWith('\n');
  let start = -1;
  let name: string | undefined;
  let status: string | undefined;
  let version: string | undefined;
  let lastField = '';
  const flush = (endLine: number, last: boolean) => {
    if (start < 0) return;
    const missing = [!name && 'Package', !status && 'Status', !version && 'Version'].filter(Boolean) as string[];
    const installed = status !== undefined && /\binstalled$/.test(status.trim()) && /^install ok /.test(status);
    if (missing.length > 0 && (installed || !status || !name || (last && !endsClean))) {
      // a not-installed stanza may lack a Version; anything else is damage
      const what = name ? `package '${name}'` : 'a stanza';
      const cut = last && !endsClean ? ' (the file ends in the middle of it)' : '';
      problems.malformed(
        file,
        start + 1,
        `${what} (lines ${start + 1}-${endLine}) has no ${missing.join(', ')} field${cut}; ignored`,
      );
    } else if (installed && name && version) {
      out.set(name, { name, version, manager: 'dpkg', source: file, line: start + 1 });
    }
    start = -1;
    name = status = version = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') {
      flush(i, false);
      continue;
    }
    if (start < 0) start = i;
    if (line.startsWith(' ') || line.startsWith('\t')) continue; // continuation of the previous field
    const colon = line.indexOf(':');
    if (colon <= 0) {
      if (i === lines.length - 1 && !endsClean) continue; // the cut itself: reported with its stanza
      problems.malformed(file, i + 1, `expected 'Field: value' in the stanza starting at line ${start + 1}`);
      continue;
    }
    lastField = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (lastField === 'Package') name = value;
    else if (lastField === 'Status') status = value;
    else if (lastField === 'Version') version = value;
  }
  // a file cut mid-line leaves its last field value truncated: distrust the last stanza's last field
  if (start >= 0 && !endsClean) {
    if (lastField === 'Version') version = undefined;
    if (lastField === 'Status') status = undefined;
    if (lastField === 'Package') name = undefined;
  }
  flush(lines.length, true);
  return out;
}

/** The upstream part of a package version: no epoch, no Debian/RPM revision. */
export function upstreamVersion(v: string): string {
  let s = v;
  const colon = s.indexOf(':');
  if (colon >= 0 && /^\d+$/.test(s.slice(0, colon))) s = s.slice(colon + 1);
  const m = /^(\d+(?:\.\d+)*)/.exec(s);
  return m ? m[1]! : s;
}

/** Find an executable on PATH (live host only). */
export function which(bin: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    if (!dir) continue;
    const p = path.join(dir, bin);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

const RPM_DB_DIRS = ['/var/lib/rpm', '/usr/lib/sysimage/rpm'];
const RPM_DB_FILES = ['Packages', 'Packages.db', 'rpmdb.sqlite'];
let rpmDbPath: string | undefined;

/** Where this rpm keeps its database (`%_dbpath`; Debian's rpm uses ~/.rpmdb), asked once. */
function rpmDbDirs(rpmBin: string): string[] {
  if (rpmDbPath === undefined) {
    try {
      rpmDbPath = execFileSync(rpmBin, ['-E', '%_dbpath'], { encoding: 'utf8', timeout: 10_000 }).trim();
    } catch {
      rpmDbPath = '';
    }
  }
  return rpmDbPath && !RPM_DB_DIRS.includes(rpmDbPath) ? [...RPM_DB_DIRS, rpmDbPath] : RPM_DB_DIRS;
}

function hasRpmDb(host: Host, dirs: readonly string[]): string | undefined {
  return dirs.find((d) => RPM_DB_FILES.some((f) => host.exists(`${d}/${f}`)));
}

/**
 * `rpm -qa` (with `--root` for another root) when an rpm database exists
 * under the root; nothing (and no process spawned) on hosts without one.
 */
export async function readRpm(host: Host, problems: Problems, rpmBin = which('rpm')): Promise<InstalledPackage[]> {
  if (!rpmBin) {
    const db = hasRpmDb(host, RPM_DB_DIRS);
    if (db) {
      problems.add({
        kind: 'unavailable',
        file: db,
        message: 'an rpm database is present but no rpm binary is on PATH; rpm packages not read',
      });
    }
    return [];
  }
  const db = hasRpmDb(host, rpmDbDirs(rpmBin));
  if (!db) return [];
  // a re-discovery does not spawn rpm again while the database is unchanged
  const key = `${host.root}\0${db}`;
  const stamp = dbStamp(host, db);
  const hit = rpmCache.get(key);
  if (hit && stamp !== undefined && hit.stamp === stamp) return hit.packages;
  const packages = await queryRpm(host, problems, rpmBin, db);
  if (stamp !== undefined) rpmCache.set(key, { stamp, packages });
  return packages;
}

const rpmCache = new Map<string, { stamp: string; packages: InstalledPackage[] }>();

function dbStamp(host: Host, db: string): string | undefined {
  try {
    return [...RPM_DB_FILES, 'rpmdb.sqlite-wal']
      .map((f) => {
        const st = fs.statSync(host.real(`${db}/${f}`), { throwIfNoEntry: false });
        return st ? `${st.mtimeMs}/${st.size}` : '-';
      })
      .join(',');
  } catch {
    return undefined;
  }
}

function queryRpm(host: Host, problems: Problems, rpmBin: string, db: string): Promise<InstalledPackage[]> {
  const args = [...(host.live ? [] : ['--root', host.root]), '-qa', '--qf', '%{NAME}\\t%{VERSION}-%{RELEASE}\\n'];
  return new Promise((resolve) => {
    execFile(rpmBin, args, { timeout: 20_000, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      if (err) {
        problems.add({
          kind: 'unreadable',
          file: db,
          message: `rpm -qa failed: ${(stderr || err.message).trim().split('\n')[0]}`,
        });
        resolve([]);
        return;
      }
      const out: InstalledPackage[] = [];
      for (const line of stdout.split('\n')) {
        const [name, version] = line.split('\t');
        if (name && version) out.push({ name, version, manager: 'rpm', source: `rpm -qa (${db})` });
      }
      resolve(out);
    });
  });
}

export async function readPackages(host: Host, problems: Problems): Promise<PackageDb> {
  const packages = new Map<string, InstalledPackage>();
  const managers: PackageDb['managers'] = [];
  const text = host.readText(DPKG_STATUS, problems);
  if (text !== undefined) {
    managers.push('dpkg');
    for (const [k, v] of parseDpkgStatus(text, DPKG_STATUS, problems)) packages.set(k, v);
  }
  const rpm = await readRpm(host, problems);
  if (rpm.length > 0) managers.push('rpm');
  for (const p of rpm) if (!packages.has(p.name)) packages.set(p.name, p);
  return { packages, managers };
}

/** Does dpkg's file list of `pkg` name `file`? (`/var/lib/dpkg/info/<pkg>[:arch].list`) */
export function dpkgOwns(host: Host, pkg: string, file: string, problems: Problems): boolean {
  const dir = '/var/lib/dpkg/info';
  let names = [`${pkg}.list`];
  if (!host.exists(`${dir}/${names[0]}`)) {
    try {
      names = fs.readdirSync(host.real(dir)).filter((n) => n.startsWith(`${pkg}:`) && n.endsWith('.list'));
    } catch {
      return false;
    }
  }
  for (const n of names) {
    const text = host.readText(`${dir}/${n}`, problems);
    if (text?.split('\n').includes(file)) return true;
  }
  return false;
}
