/**
 * The scan source of a command that accepts `--proc-root DIR` and
 * `--recording DIR`: a live scanner over a procfs tree, or the replay of a
 * recording. The two flags exclude each other (exit 2 naming both).
 */
import { ErrorCodes, NrdotError } from '../../core/errors.js';
import { type BackendChoice, type OpenedScanner, openScanner } from '../index.js';
import { ReplayScanner } from './replay.js';

export interface SourceChoice {
  /** --proc-root as given (undefined: not given) */
  procRoot?: string;
  /** the proc root when neither flag is given */
  defaultProcRoot: string;
  recording?: string;
  /** replay from the start again at the end (--loop) */
  loop?: boolean;
  backend: BackendChoice;
  hostName?: string;
}

export type OpenedSource = OpenedScanner & { replay?: ReplayScanner };

export function openSource(o: SourceChoice): OpenedSource {
  if (o.recording === undefined) {
    if (o.loop) throw new NrdotError(ErrorCodes.USAGE, '--loop replays a recording: it needs --recording DIR');
    return openScanner(o.procRoot ?? o.defaultProcRoot, o.backend, o.hostName);
  }
  if (o.procRoot !== undefined) {
    throw new NrdotError(
      ErrorCodes.USAGE,
      '--recording and --proc-root exclude each other: a recording is its own scan source',
    );
  }
  const replay = ReplayScanner.open(o.recording, { loop: o.loop, hostName: o.hostName });
  const h = replay.reader.header;
  const note =
    `scanner backend: replay of ${replay.procRoot} (${replay.scans} scans of ${h.hostname || 'an unnamed host'}, ` +
    `recorded with the ${h.backend} scanner by nrdot ${h.nrdot} from ${h.createdAt}` +
    `${h.complete ? '' : '; the recorder did not finish, the scans written are replayed'}${o.loop ? '; looping' : ''})`;
  return { reader: replay, note, replay };
}
