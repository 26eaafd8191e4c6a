import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import pino from 'pino';
import type { Logger } from '../../../src/core/log.js';
import type { ExportQueue, Lane, QueuedRecord } from '../../../src/exporters/queue/index.js';

/** A temp dir on the work disk (not tmpfs): the queue's files are meant for a real disk. */
export function diskTmpDir(prefix = 'nrdot-queue-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A payload that names itself, so a test can tell which record it got and whether it is intact. */
export function payload(tag: string, size = 64): Uint8Array {
  const head = Buffer.from(`${tag}|`, 'utf8');
  const out = Buffer.alloc(Math.max(size, head.length));
  head.copy(out);
  for (let i = head.length; i < out.length; i++) out[i] = (i * 31 + tag.length) & 0xff;
  return out;
}

export function tagOf(p: Uint8Array): string {
  const s = Buffer.from(p).toString('latin1');
  return s.slice(0, s.indexOf('|'));
}

export function intact(p: Uint8Array): boolean {
  const tag = tagOf(p);
  return Buffer.compare(Buffer.from(p), Buffer.from(payload(tag, p.length))) === 0;
}

/** Take and ack everything; returns the tags in the order they came out. */
export async function drain(q: ExportQueue): Promise<string[]> {
  const out: string[] = [];
  for (let r = await q.take(); r; r = await q.take()) {
    out.push(tagOf(r.payload));
    await q.ack(r);
  }
  return out;
}

export async function takeAll(q: ExportQueue): Promise<QueuedRecord[]> {
  const out: QueuedRecord[] = [];
  for (let r = await q.take(); r; r = await q.take()) out.push(r);
  return out;
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

/** A pino logger whose lines land in an array. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

export const WARN = 40;

export function segFiles(dir: string, lane: Lane): string[] {
  return fs
    .readdirSync(path.join(dir, lane))
    .filter((f) => f.endsWith('.seg'))
    .sort();
}

export function rmrf(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
