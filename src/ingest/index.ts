/**
 * Scanner backends behind one interface. Today only the TypeScript procfs
 * reader exists; the native addon plugs in here and `auto` will prefer it.
 */
import { ErrorCodes, NrdotError } from '../errors.js';
import { ProcfsReader } from './procfs/reader.js';

export const BACKENDS = ['auto', 'native', 'ts'] as const;
export type BackendChoice = (typeof BACKENDS)[number];

export interface OpenedScanner {
  reader: ProcfsReader;
  /** one line saying which backend runs and why */
  note: string;
}

export function openScanner(procRoot: string, backend: BackendChoice = 'auto'): OpenedScanner {
  if (backend === 'native') {
    throw new NrdotError(
      ErrorCodes.USAGE,
      '--backend native: the native scanner addon is not part of this build yet; use --backend ts (or auto)',
    );
  }
  const reader = new ProcfsReader({ procRoot });
  reader.validateRoot();
  return {
    reader,
    note:
      backend === 'auto'
        ? 'scanner backend: ts (TypeScript procfs reader; no native addon in this build)'
        : 'scanner backend: ts',
  };
}
