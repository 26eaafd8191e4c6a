/**
 * Where the installed package is: the nearest directory up from this module
 * that holds `binding.gyp` (the package root, from src/ under vitest and from
 * dist/src/ when built). Every file nrdot loads at run time from its own
 * package (workers, the native addon, the embedded configs) is found from here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  const here = path.dirname(fileURLToPath(import.meta.url));
  let dir = here;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'binding.gyp')) && fs.existsSync(path.join(dir, 'package.json'))) break;
    const up = path.dirname(dir);
    if (up === dir) {
      dir = path.resolve(here, '../..');
      break;
    }
    dir = up;
  }
  root = dir;
  return dir;
}

/**
 * A piscina worker module: dist/workers/NAME.js (the built file also serves
 * vitest, which runs src/ but cannot start TypeScript workers).
 */
export function workerModule(name: string): string {
  const file = path.join(packageRoot(), 'dist', 'workers', `${name}.js`);
  if (!fs.existsSync(file)) throw new Error(`worker module not found: ${file}; run npm run build`);
  return file;
}
