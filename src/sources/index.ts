/**
 * Scanner backends behind one interface. `auto` runs the native addon when
 * it loads and the TypeScript reader otherwise; `native` insists on the
 * addon (exit 2 with the reason when it cannot load); `ts` is the reader.
 */
import * as path from 'node:path';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { loadAddon } from './native/loader.js';
import { NativeScanner } from './native/scanner.js';
import { ProcfsReader } from './procfs/reader.js';
import type { ProcessScanner } from './scanner.js';

export type { ExcludedCounters, ScanBounds } from './bounds.js';
export type { BackendName, ProcessScanner, ScanFile, ScanFiles, ScanOptions } from './scanner.js';
export { resolveFiles, SCAN_FILES } from './scanner.js';

export const BACKENDS = ['auto', 'native', 'ts'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface OpenedScanner {
  reader: ProcessScanner;
  /** one line saying which backend runs and why */
  note: string;
}

/**
 * `hostName` sets host.name instead of `<procRoot>/sys/kernel/hostname`
 * (which, read from a container, names the container, not the node).
 */
export function openScanner(procRoot: string, backend: BackendChoice = 'auto', hostName?: string): OpenedScanner {
  const root = path.resolve(procRoot);
  if (backend !== 'ts') {
    const load = loadAddon();
    if (load.ok) {
      const reader = new NativeScanner(load.addon, { procRoot: root, hostName });
      reader.validateRoot();
      return { reader, note: 'scanner backend: native (the nrdot_native addon, scanning off the event loop)' };
    }
    if (backend === 'native') {
      throw new NrdotError(ErrorCodes.USAGE, `--backend native: the native scanner addon cannot load: ${load.reason}`);
    }
    const reader = new ProcfsReader({ procRoot: root, hostName });
    reader.validateRoot();
    return { reader, note: `scanner backend: ts (native addon unavailable: ${load.reason})` };
  }
  const reader = new ProcfsReader({ procRoot: root, hostName });
  reader.validateRoot();
  return { reader, note: 'scanner backend: ts' };
}
