/**
 * uid → user name, from the passwd file of the host whose /proc is read:
 * `/etc/passwd` for the real `/proc`, `<root>/../etc/passwd` for another proc
 * root (a host's / mounted at /host gives /host/proc and /host/etc/passwd).
 * Without that file (a synthetic or recorded tree), owners stay numeric: this
 * machine's users are not that host's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const tables = new Map<string, Map<number, string>>();

function table(passwd: string): Map<number, string> {
  let users = tables.get(passwd);
  if (users) return users;
  users = new Map();
  try {
    for (const line of fs.readFileSync(passwd, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && f[0]) users.set(Number(f[2]), f[0]);
    }
  } catch {
    // no passwd: numeric owners
  }
  tables.set(passwd, users);
  return users;
}

/** The passwd file that names the users of the processes under `procRoot`. */
export function passwdFor(procRoot: string): string {
  const root = path.resolve(procRoot);
  return root === '/proc' ? '/etc/passwd' : path.join(root, '..', 'etc', 'passwd');
}

/** A uid → owner name function for the processes under `procRoot` ('' for an unknown uid, -1). */
export function ownerResolver(procRoot = '/proc'): (uid: number) => string {
  const passwd = passwdFor(procRoot);
  return (uid) => (uid < 0 ? '' : (table(passwd).get(uid) ?? String(uid)));
}

/** uid → user name of this host's processes (the real /proc). */
export const ownerName = ownerResolver('/proc');
