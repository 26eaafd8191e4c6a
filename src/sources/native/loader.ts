/**
 * Finds and loads the native addon. Never throws: the result says why the
 * addon is unavailable and how to fix it, so `auto` can fall back to the
 * TypeScript reader with one line of explanation.
 */
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { packageRoot } from '../../util/package.js';
import type { Addon } from './addon.js';

export const ADDON_ABI_VERSION = 3;
export const BUILD_HINT = 'build it with `npm run build:native` (needs python3, make and g++)';

export type AddonLoad = { ok: true; addon: Addon; file: string } | { ok: false; reason: string };

/** Where the addon is expected; NRDOT_NATIVE_ADDON overrides it (tests use a missing path). */
export function addonPath(): string {
  return process.env.NRDOT_NATIVE_ADDON || path.join(packageRoot(), 'build', 'Release', 'nrdot_native.node');
}

let cached: AddonLoad | undefined;
let cachedFor: string | undefined;

export function loadAddon(): AddonLoad {
  const file = addonPath();
  if (cached && cachedFor === file) return cached;
  cachedFor = file;
  cached = tryLoad(file);
  return cached;
}

function tryLoad(file: string): AddonLoad {
  const rel = path.relative(process.cwd(), file);
  const shown = rel && !rel.startsWith('..') ? rel : file;
  if (process.platform !== 'linux')
    return { ok: false, reason: `the native scanner is Linux only (${process.platform})` };
  if (!fs.existsSync(file)) return { ok: false, reason: `${shown} is missing; ${BUILD_HINT}` };
  try {
    const addon = createRequire(import.meta.url)(file) as Addon;
    if (addon.abiVersion !== ADDON_ABI_VERSION) {
      return {
        ok: false,
        reason: `${shown} is from another version of nrdot (abi ${addon.abiVersion}, want ${ADDON_ABI_VERSION}); rebuild it with \`npm run build:native\``,
      };
    }
    return { ok: true, addon, file };
  } catch (e) {
    const first = String((e as Error)?.message ?? e).split('\n')[0];
    return { ok: false, reason: `${shown} failed to load (${first}); rebuild it with \`npm run build:native\`` };
  }
}
