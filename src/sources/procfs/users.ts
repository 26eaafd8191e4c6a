import * as fs from 'node:fs';

let users: Map<number, string> | undefined;

/** uid -> user name from /etc/passwd (of this host), numeric string when unknown. */
export function ownerName(uid: number): string {
  if (uid < 0) return '';
  if (!users) {
    users = new Map();
    try {
      for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2 && f[0]) users.set(Number(f[2]), f[0]);
      }
    } catch {
      // no passwd: numeric owners
    }
  }
  return users.get(uid) ?? String(uid);
}
