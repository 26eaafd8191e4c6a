/**
 * Recordings of a host's /proc (what the scanner reads) and their replay as
 * a scan source. See format.ts for the files, replay.ts for what a replayed
 * scan holds.
 *
 *   new Recorder({ out, scanner, intervalMs }).scanOnce() / recordHost({ ... })
 *   ReplayScanner.open(dir, { loop? })  ->  a ProcessScanner
 *   openSource({ procRoot?, recording?, ... })  ->  either, for the CLI
 */
export type { HostFiles, RecordedScan, RecordingHeader } from './format.js';
export { HEADER_FILE, RECORDING_VERSION, SCANS_FILE } from './format.js';
export { type OpenedSource, openSource, type SourceChoice } from './open.js';
export { RecordingReader, readHeader } from './reader.js';
export {
  RECORD_SCAN_OPTIONS,
  Recorder,
  type RecordHostOptions,
  type RecordSummary,
  readHostFiles,
  recordHost,
  type ScanWritten,
} from './record.js';
export { RecordingEnded, type ReplayOptions, ReplayScanner } from './replay.js';
export { RecordingWriter } from './writer.js';
