/**
 * The agent's scan history (src/sources/recording/history.ts), wired from
 * `scan.history`: the scanner wrapped so each scan is kept, and why there is
 * none when there is none (GET /api/history says it).
 */
import type { Config } from '../config/schema.js';
import { durationOrZeroMs } from '../config/schema.js';
import type { Logger } from '../core/log.js';
import { scanIsBounded } from '../sources/bounds-config.js';
import { ownerResolver } from '../sources/procfs/users.js';
import { HistoryScanner, type HistoryStats, ScanHistory } from '../sources/recording/history.js';
import { readHostFiles } from '../sources/recording/record.js';
import { ReplayScanner } from '../sources/recording/replay.js';
import type { ProcessScanner } from '../sources/scanner.js';
import type { CommandLinePrivacy } from '../util/privacy.js';

export interface AgentHistory {
  scanner: ProcessScanner;
  history?: ScanHistory;
  /** why there is no history (undefined when there is one) */
  off?: string;
}

export function withHistory(
  reader: ProcessScanner,
  config: Config,
  scanning: boolean,
  d: {
    logger: Logger;
    /** the config and privacy in effect (a hot reload replaces them) */
    config: () => Config;
    privacy: () => CommandLinePrivacy;
    intervalMs: () => number;
  },
): AgentHistory {
  if (!scanning) return { scanner: reader, off: 'this agent does not scan (--no-scan): it keeps no scan history' };
  const h = config.scan.history;
  const windowMs = durationOrZeroMs(h.window);
  if (windowMs === 0) return { scanner: reader, off: 'scan.history.window is 0: this agent keeps no scan history' };
  const history = new ScanHistory(
    { windowMs, maxBytes: h.max_mib * 1024 * 1024 },
    reader,
    ownerResolver(reader.procRoot),
    () => {
      const scan = d.config().scan;
      return { privacy: d.privacy(), detail: scan.detail, bounded: scanIsBounded(scan) };
    },
    d.intervalMs,
  );
  const hostFiles = reader instanceof ReplayScanner ? () => reader.hostFiles : () => readHostFiles(reader.procRoot);
  const scanner = new HistoryScanner(reader, history, hostFiles, (e) =>
    d.logger.warn({ err: e }, 'the scan history failed and is off until restart (scans and exports go on)'),
  );
  return { scanner, history };
}

/** The history in /api/status: times as ISO strings, what the agent holds and its limits. */
export function historyStatus(s: HistoryStats): Record<string, unknown> {
  const { fromMs, toMs, ...rest } = s;
  return {
    ...rest,
    ...(fromMs !== undefined ? { from: new Date(fromMs).toISOString() } : {}),
    ...(toMs !== undefined ? { to: new Date(toMs).toISOString() } : {}),
  };
}
