/**
 * File exporter: OTLP JSON lines, one ExportMetricsServiceRequest per line,
 * appended, with size-bounded rotation.
 *
 * Rotation: before a line would take the file past `maxBytes`, `x.jsonl`
 * becomes `x.jsonl.1`, `x.jsonl.1` becomes `x.jsonl.2`, ... and the oldest is
 * deleted, so at most `maxFiles` files exist including the live one (disk use
 * stays within about maxBytes × maxFiles). A single line larger than
 * `maxBytes` still gets written, alone in a fresh file. Paths that are not
 * regular files (/dev/stdout, a FIFO) are appended to and never rotated.
 *
 * Every write opens the path in append mode, so a file moved or deleted by an
 * outside tool is simply recreated; writes are serialized and run in libuv's
 * thread pool (Node writes large buffers in chunks), so the event loop is not
 * held. A runtime write error resolves to `{ ok: false }` and is logged; a
 * partially written line is truncated away so the file stays valid JSON lines.
 */

import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ErrorCodes, errnoOf, NrdotError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/log.js';
import { makeDirs } from '../util/fs.js';
import {
  describeError,
  type Exporter,
  type ExportPayload,
  type ExportResult,
  encodingsFor,
  Lifecycle,
} from './exporter.js';

export { makeDirs };

export interface FileExporterOptions {
  path: string;
  logger?: Logger;
  /** rotate before the live file would exceed this many bytes (`export_options.file.max_bytes`) */
  maxBytes: number;
  /** files kept including the live one (`export_options.file.max_files`); 1 = truncate on rotation */
  maxFiles: number;
}

export class FileExporter implements Exporter {
  readonly name: string;
  /** absolute path of the live file */
  readonly path: string;
  readonly maxBytes: number;
  readonly maxFiles: number;
  private readonly logger: Logger;
  private readonly lifecycle: Lifecycle;
  /** tail of the serialized write queue; never rejects */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: FileExporterOptions) {
    this.path = resolve(options.path);
    this.name = `file:${this.path}`;
    this.logger = options.logger ?? silentLogger;
    this.maxBytes = options.maxBytes;
    this.maxFiles = options.maxFiles;
    if (!Number.isFinite(this.maxBytes) || this.maxBytes < 1) {
      throw new RangeError(`file exporter maxBytes must be a positive number, got ${options.maxBytes}`);
    }
    if (!Number.isInteger(this.maxFiles) || this.maxFiles < 1) {
      throw new RangeError(`file exporter maxFiles must be a positive integer, got ${options.maxFiles}`);
    }
    this.lifecycle = new Lifecycle(this.name);
  }

  /** Create the parent directory and open the file for appending once; OUTPUT_UNWRITABLE (exit 2) if that fails. */
  async start(): Promise<void> {
    this.lifecycle.assertStartable();
    if (this.lifecycle.started) return;
    try {
      await makeDirs(dirname(this.path));
      const fh = await open(this.path, 'a');
      await fh.close();
    } catch (e) {
      const code = errnoOf(e);
      throw new NrdotError(
        ErrorCodes.OUTPUT_UNWRITABLE,
        `export file ${this.path} is not writable${code ? ` (${code})` : ''}: ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
    this.lifecycle.markStarted();
  }

  async export(payload: ExportPayload): Promise<ExportResult> {
    this.lifecycle.assertExportable();
    let data: Buffer;
    try {
      data = Buffer.from(`${encodingsFor(payload).json()}\n`, 'utf8');
    } catch (e) {
      return this.failed(`encoding failed: ${describeError(e)}`);
    }
    const p = this.queue.then(() => this.append(data));
    this.queue = p.catch(() => {});
    return p;
  }

  private async append(data: Buffer): Promise<ExportResult> {
    let fh: FileHandle | undefined;
    let sizeBefore = -1;
    try {
      fh = await open(this.path, 'a');
      const st = await fh.stat();
      if (st.isFile()) {
        sizeBefore = st.size;
        if (st.size > 0 && st.size + data.length > this.maxBytes) {
          await fh.close();
          fh = undefined;
          try {
            await this.rotate();
          } catch (e) {
            // keep the data even if that overshoots the bound; rotation is retried next time
            this.logger.warn({ exporter: this.name, err: describeError(e) }, 'export file rotation failed');
          }
          fh = await open(this.path, 'a');
          sizeBefore = (await fh.stat()).size;
        }
      }
      await fh.appendFile(data);
      return { ok: true, bytes: data.length };
    } catch (e) {
      if (fh && sizeBefore >= 0) await fh.truncate(sizeBefore).catch(() => {});
      return this.failed(describeError(e));
    } finally {
      await fh?.close().catch(() => {});
    }
  }

  private async rotate(): Promise<void> {
    const p = this.path;
    if (this.maxFiles === 1) {
      await rm(p, { force: true });
      return;
    }
    await rm(`${p}.${this.maxFiles - 1}`, { force: true });
    for (let i = this.maxFiles - 2; i >= 1; i--) {
      try {
        await rename(`${p}.${i}`, `${p}.${i + 1}`);
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT') throw e;
      }
    }
    await rename(p, `${p}.1`);
  }

  private failed(error: string): ExportResult {
    this.logger.warn({ exporter: this.name, error }, 'export file write failed');
    return { ok: false, bytes: 0, error };
  }

  /** Wait for queued writes, then refuse further exports. */
  shutdown(): Promise<void> {
    return this.lifecycle.shutdown(async () => {
      await this.queue;
    });
  }
}
