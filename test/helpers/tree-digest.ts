/**
 * A digest of a synthetic procfs tree, for "these bytes did not move" checks.
 *
 * Every entry under the root, in sorted order: its relative path, its type
 * and its content (a file's bytes, a link's target). Two things are left
 * out or normalised so trees written before and after an additive change
 * compare equal:
 *   - entries named in `skipNames` inside a pid directory (e.g. `cgroup`);
 *   - the state file is parsed and re-serialised with `stripState` applied.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface DigestOptions {
  /** names of entries directly inside a pid directory to leave out */
  skipNames?: readonly string[];
  /** the state file's name and how to normalise its parsed JSON */
  stateFile?: string;
  stripState?: (state: unknown) => void;
}

export function treeDigest(root: string, o: DigestOptions = {}): string {
  const h = createHash('sha256');
  const skip = new Set(o.skipNames ?? []);
  const walk = (rel: string): void => {
    const abs = rel ? path.join(root, rel) : root;
    const names = fs.readdirSync(abs).sort();
    const inPidDir = /^\d+$/.test(rel);
    for (const name of names) {
      if (inPidDir && skip.has(name)) continue;
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(root, r));
      if (st.isSymbolicLink()) {
        h.update(`${r}\0l\0${fs.readlinkSync(path.join(root, r))}\0`);
      } else if (st.isDirectory()) {
        h.update(`${r}\0d\0`);
        walk(r);
      } else if (!rel && o.stateFile === name) {
        const state = JSON.parse(fs.readFileSync(path.join(root, r), 'utf8')) as unknown;
        o.stripState?.(state);
        h.update(`${r}\0f\0${JSON.stringify(state)}\0`);
      } else {
        h.update(`${r}\0f\0`);
        h.update(fs.readFileSync(path.join(root, r)));
        h.update('\0');
      }
    }
  };
  walk('');
  return h.digest('hex');
}
