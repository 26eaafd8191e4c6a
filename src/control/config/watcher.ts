/**
 * ConfigWatcher: notices when a config file given with --config changes and
 * calls back once the writes have settled (debounced), with the files whose
 * bytes changed. It watches each file's DIRECTORY (fs.watch), so it follows
 * editors that write a temp file and rename it over the original, and
 * Kubernetes ConfigMap mounts that swap a `..data` symlink; every event only
 * triggers a re-read, and only a change of the bytes (SHA-256) calls back, so
 * a touch or an unrelated file in the same directory does nothing.
 *
 * A file that disappears is logged once and does not call back (the running
 * config stays); when it comes back with other bytes, that is a change. An
 * optional poll covers filesystems where inotify says nothing (NFS, some
 * overlay mounts). Callbacks never overlap: a change seen during one is
 * delivered after it.
 *
 * Also here: the SIGHUP hook (`onReloadSignal`).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Logger, silentLogger } from '../../core/log.js';

export interface ConfigChange {
  /** absolute paths of the files whose bytes changed */
  files: string[];
}

export interface ConfigWatcherOptions {
  files: string[];
  onChange: (change: ConfigChange) => void | Promise<void>;
  /** quiet time after the last event before the files are read (reload.debounce) */
  debounceMs: number;
  /** also re-read every pollMs; 0 = events only (default) */
  pollMs?: number;
  /** false: no fs.watch, poll only (filesystems whose events cannot be trusted); default true */
  useEvents?: boolean;
  logger?: Logger;
}

const MISSING = 'missing';

function digest(file: string): string {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return MISSING;
  }
}

export class ConfigWatcher {
  private readonly files: string[];
  private readonly logger: Logger;
  private readonly known = new Map<string, string>();
  private watchers: fs.FSWatcher[] = [];
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private running = false;
  private busy: Promise<void> | undefined;
  private again = false;
  private reads = 0;

  constructor(private readonly o: ConfigWatcherOptions) {
    this.files = [...new Set(o.files.map((f) => path.resolve(f)))];
    this.logger = o.logger ?? silentLogger;
  }

  /** Start watching (the current bytes are the baseline). Safe to call twice. */
  start(): void {
    if (this.running) return;
    this.running = true;
    for (const f of this.files) this.known.set(f, digest(f));
    const dirs = this.o.useEvents === false ? [] : new Set(this.files.map((f) => path.dirname(f)));
    for (const dir of dirs) {
      try {
        const w = fs.watch(dir, { persistent: false }, () => this.schedule());
        w.on('error', (err) => this.logger.warn({ dir, err: err.message }, 'config watch stopped for this directory'));
        this.watchers.push(w);
      } catch (e) {
        this.logger.warn({ dir, err: (e as Error).message }, 'cannot watch the config directory; changes need SIGHUP');
      }
    }
    if (this.o.pollMs && this.o.pollMs > 0) {
      this.poll = setInterval(() => void this.check(), this.o.pollMs);
      this.poll.unref();
    }
  }

  /** Passes over the files so far (each re-read, changed or not): a test waits for one instead of sleeping. */
  get checks(): number {
    return this.reads;
  }

  private schedule(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.check();
    }, this.o.debounceMs);
    this.timer.unref();
  }

  /** Re-read every file; call back with the changed ones. */
  private async check(): Promise<void> {
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = (async () => {
      do {
        this.again = false;
        const changed: string[] = [];
        for (const f of this.files) {
          const now = digest(f);
          const before = this.known.get(f);
          if (now === before) continue;
          this.known.set(f, now);
          if (now === MISSING) {
            this.logger.warn({ file: f }, 'config file is gone; the running config stays');
            continue;
          }
          changed.push(f);
        }
        this.reads++;
        if (changed.length > 0 && this.running) {
          this.logger.info({ files: changed }, 'config file changed');
          try {
            await this.o.onChange({ files: changed });
          } catch (e) {
            this.logger.error({ err: (e as Error).message }, 'config change handler failed');
          }
        }
      } while (this.again && this.running);
    })();
    try {
      await this.busy;
    } finally {
      this.busy = undefined;
    }
  }

  /** Stop watching; waits for a callback in progress. Safe to call twice. */
  async shutdown(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    this.timer = undefined;
    this.poll = undefined;
    for (const w of this.watchers.splice(0)) w.close();
    await this.busy;
  }
}

/**
 * Call `handler` on SIGHUP (the conventional "reload your config"). Signals
 * that arrive while the handler runs are folded into one more call after it.
 * Returns the function that removes the hook. Note: with a SIGHUP listener
 * installed, Node no longer exits on SIGHUP.
 */
export function onReloadSignal(handler: () => void | Promise<void>, logger: Logger = silentLogger): () => void {
  let running = false;
  let pending = false;
  const fire = async (): Promise<void> => {
    if (running) {
      pending = true;
      return;
    }
    running = true;
    try {
      do {
        pending = false;
        logger.info('SIGHUP: reloading the config');
        try {
          await handler();
        } catch (e) {
          logger.error({ err: (e as Error).message }, 'SIGHUP reload failed');
        }
      } while (pending);
    } finally {
      running = false;
    }
  };
  const listener = () => void fire();
  process.on('SIGHUP', listener);
  return () => {
    process.off('SIGHUP', listener);
  };
}
