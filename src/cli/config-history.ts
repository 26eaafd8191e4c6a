/**
 * nrdot config history [--state-dir D | --config F] [--json]
 * nrdot config diff V1 V2 [--state-dir D | --config F]
 *
 * Read the config history the agent keeps under its state dir
 * (src/control/config/history/store.ts). Texts are shown as stored: as the
 * files were written, references unexpanded.
 */
import { unifiedDiff } from '../control/config/history/diff.js';
import { locateStateDir } from '../control/config/history/locate.js';
import { ConfigHistory, type VersionMeta } from '../control/config/history/store.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { createLogger } from '../core/log.js';

interface HistoryOpts {
  stateDir?: string;
  config?: string;
  json?: boolean;
}

function open(o: HistoryOpts): ConfigHistory {
  return ConfigHistory.inStateDir(locateStateDir(o), { logger: createLogger('warn') });
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** Local time with its offset, "2026-12-01 10:30:00+01:00": what --to-timestamp reads back. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const zone = `${sign}${pad2(Math.floor(Math.abs(off) / 60))}:${pad2(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}${zone}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function resultText(v: VersionMeta): string {
  return v.result === 'applied' ? 'applied' : `${v.result}${v.error ? `: ${v.error}` : ''}`;
}

export function configHistoryCommand(o: HistoryOpts): void {
  const h = open(o);
  const versions = h.list();
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify(versions.map((v) => ({ ...v, time: new Date(v.timeMs).toISOString() })))}\n`,
    );
    return;
  }
  if (versions.length === 0) {
    process.stdout.write(`no config versions in ${h.dir}\n`);
    return;
  }
  const current = h.current()?.version;
  const rows = [['', 'VERSION', 'APPLIED', 'SOURCE', 'WHO', 'KEY', 'HASH', 'RESULT', 'WHY']];
  for (const v of versions) {
    rows.push([
      v.version === current ? '*' : '',
      `v${v.version}`,
      localTime(v.timeMs),
      v.restoredFrom !== undefined ? `${v.source} (of v${v.restoredFrom})` : v.source,
      v.who,
      v.keyId ?? '-',
      v.hash.slice(0, 12),
      resultText(v),
      v.why ?? '',
    ]);
  }
  process.stdout.write(`${table(rows)}\n(* = in effect; ${versions.length} kept in ${h.dir})\n`);
}

function versionArg(v: string, which: string): number {
  const m = /^v?(\d+)$/i.exec(v.trim());
  if (!m || Number(m[1]) < 1)
    throw new NrdotError(ErrorCodes.USAGE, `${which} expects a version like 3 or v3, got '${v}'`);
  return Number(m[1]);
}

function label(v: VersionMeta): string {
  return `v${v.version}\t${localTime(v.timeMs)} ${v.source} by ${v.who} sha256:${v.hash.slice(0, 12)}`;
}

export function configDiffCommand(v1: string, v2: string, o: HistoryOpts): void {
  const h = open(o);
  const a = h.get(versionArg(v1, 'V1'));
  const b = h.get(versionArg(v2, 'V2'));
  const d = unifiedDiff(a.bytes.toString('utf8'), b.bytes.toString('utf8'), label(a), label(b));
  process.stdout.write(d || `v${a.version} and v${b.version} are identical (sha256:${a.hash.slice(0, 12)})\n`);
}
