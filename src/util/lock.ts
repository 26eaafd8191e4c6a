/**
 * Exclusive directory locks: one agent per queue directory and per state
 * directory, for the agent's whole life.
 *
 * The lock is `<dir>/nrdot.lock`, held open by the agent. With the native
 * addon it is flock(2)'ed (native/lock.cc): the kernel releases it when the
 * agent's fds close, so also on SIGKILL or a crash, and it works across
 * containers sharing the directory. The file also holds the holder's pid,
 * its start time (from /proc/<pid>/stat) and host name, to name the holder
 * in the error and so that an agent without the addon can check it: that
 * fallback creates the file with O_EXCL and treats a file whose process is
 * gone (or is another process reusing the pid: the start time differs) as
 * stale. The fallback is best effort: two fallback agents racing to replace
 * the same stale file can both win, and a pid from another pid namespace
 * cannot be checked.
 *
 * Both kinds honour each other: a flock holder still checks the pid in the
 * file (a fallback agent may be alive behind it), and a fallback agent
 * refuses a file naming a live process.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ErrorCodes, errnoOf, NrdotError } from '../core/errors.js';
import { loadAddon } from '../sources/native/loader.js';
import { makeDirsSync } from './fs.js';

export const LOCK_FILE = 'nrdot.lock';

export interface DirLock {
  readonly dir: string;
  readonly file: string;
  /**
   * 'flock': released by the kernel when the process dies; 'pidfile': the
   * fallback; 'none': the directory cannot be created or written, so no
   * other agent can use it either (the component that needs it reports why)
   */
  readonly mode: 'flock' | 'pidfile' | 'none';
  /** why not locked (mode 'none') */
  readonly reason?: string;
  /** release (safe twice) */
  release(): void;
}

interface Holder {
  pid: number;
  start: string;
  host: string;
  since: string;
}

/** Held by this process, by real path: a second request for the same directory shares it. */
const held = new Map<string, { lock: DirLock; users: number }>();

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined when gone. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function me(): Holder {
  return {
    pid: process.pid,
    start: processStart(process.pid) ?? '',
    host: os.hostname(),
    since: new Date().toISOString(),
  };
}

function readHolder(file: string, fd?: number): Holder | undefined {
  try {
    const text = fd !== undefined ? readFd(fd) : fs.readFileSync(file, 'utf8');
    const j = JSON.parse(text) as Partial<Holder>;
    if (!Number.isSafeInteger(j.pid) || (j.pid as number) <= 0) return undefined;
    return {
      pid: j.pid as number,
      start: String(j.start ?? ''),
      host: String(j.host ?? ''),
      since: String(j.since ?? ''),
    };
  } catch {
    return undefined;
  }
}

function readFd(fd: number): string {
  const buf = Buffer.alloc(4096);
  const n = fs.readSync(fd, buf, 0, buf.length, 0);
  return buf.subarray(0, n).toString('utf8');
}

/** The holder still runs: same pid, same start time, and (when it says) this host. */
function alive(h: Holder): boolean {
  if (h.pid === process.pid) return false;
  if (h.host && h.host !== os.hostname()) return true; // cannot check another host's processes: assume it runs
  const start = processStart(h.pid);
  return start !== undefined && (h.start === '' || start === h.start);
}

/** A lock file without a readable holder may be in the middle of being written. */
function youngerThan(file: string, ms: number): boolean {
  try {
    return Date.now() - fs.statSync(file).mtimeMs < ms;
  } catch {
    return false;
  }
}

function inUse(what: string, dir: string, flag: string, h: Holder | undefined, file: string): NrdotError {
  const who = h
    ? `pid ${h.pid}${h.host && h.host !== os.hostname() ? ` on ${h.host}` : ''}${h.since ? `, since ${h.since}` : ''}`
    : 'a process that holds its lock file';
  return new NrdotError(
    ErrorCodes.DIR_IN_USE,
    `${what} ${dir} is in use by another nrdot agent (${who}; lock ${file}); give each agent its own ${flag}`,
  );
}

function writeHolder(fd: number): void {
  const text = `${JSON.stringify(me())}\n`;
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, text, 0, 'utf8');
}

function flockMode(dir: string, file: string, what: string, flag: string, flock: (fd: number) => number): DirLock {
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
  try {
    const err = flock(fd);
    if (err !== 0) {
      const name = Object.entries(os.constants.errno).find(([, v]) => v === err)?.[0] ?? `errno ${err}`;
      if (name === 'EWOULDBLOCK' || name === 'EAGAIN') throw inUse(what, dir, flag, readHolder(file, fd), file);
      throw new NrdotError(ErrorCodes.OUTPUT_UNWRITABLE, `cannot lock ${what} ${dir} (${file}: ${name})`);
    }
    // an agent on this host without the addon (pid file only) may hold it
    const h = readHolder(file, fd);
    if (h && (!h.host || h.host === os.hostname()) && alive(h)) throw inUse(what, dir, flag, h, file);
    writeHolder(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  let open = true;
  return {
    dir,
    file,
    mode: 'flock',
    release() {
      // the file stays: deleting a flock'ed file lets two agents lock two different files
      if (open) fs.closeSync(fd);
      open = false;
    },
  };
}

function pidfileMode(dir: string, file: string, what: string, flag: string): DirLock {
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
    } catch (e) {
      if (errnoOf(e) !== 'EEXIST' || attempt > 0) {
        if (errnoOf(e) === 'EEXIST') throw inUse(what, dir, flag, readHolder(file), file);
        throw new NrdotError(ErrorCodes.OUTPUT_UNWRITABLE, `cannot lock ${what} ${dir} (${file}: ${errnoOf(e) ?? e})`);
      }
      const h = readHolder(file);
      if (h ? alive(h) : youngerThan(file, 5000)) throw inUse(what, dir, flag, h, file);
      // stale: its process is gone (or a flock holder that died), or never finished writing it
      fs.rmSync(file, { force: true });
      continue;
    }
    try {
      writeHolder(fd);
    } finally {
      fs.closeSync(fd);
    }
    let open = true;
    return {
      dir,
      file,
      mode: 'pidfile',
      release() {
        if (!open) return;
        open = false;
        if (readHolder(file)?.pid === process.pid) fs.rmSync(file, { force: true });
      },
    };
  }
}

/** A directory that cannot be created or written: nothing to lock (no agent can use it). */
function unlocked(dir: string, e: unknown): DirLock {
  return {
    dir,
    file: path.join(dir, LOCK_FILE),
    mode: 'none',
    reason: e instanceof Error ? e.message : String(e),
    release() {},
  };
}

/**
 * Lock `dir` (created when missing) for this process, or throw
 * NrdotError(DIR_IN_USE) naming the directory and the holder's pid. `what`
 * and `flag` name it in the message ('queue directory', '--queue-dir').
 */
export function lockDir(dir: string, what: string, flag: string): DirLock {
  let real: string;
  try {
    makeDirsSync(dir);
    real = fs.realpathSync(dir);
  } catch (e) {
    return unlocked(dir, e);
  }
  const mine = held.get(real);
  if (mine) {
    mine.users++;
    return shared(mine);
  }
  const file = path.join(real, LOCK_FILE);
  const load = loadAddon();
  const flock = load.ok ? load.addon.flock : undefined;
  let lock: DirLock;
  try {
    lock = flock ? flockMode(dir, file, what, flag, flock) : pidfileMode(dir, file, what, flag);
  } catch (e) {
    if (e instanceof NrdotError && e.code === ErrorCodes.DIR_IN_USE) throw e;
    return unlocked(dir, e);
  }
  const entry = { lock, users: 1 };
  held.set(real, entry);
  return shared(entry);

  function shared(e: { lock: DirLock; users: number }): DirLock {
    let released = false;
    return {
      dir,
      file: e.lock.file,
      mode: e.lock.mode,
      release() {
        if (released) return;
        released = true;
        if (--e.users === 0) {
          held.delete(real);
          e.lock.release();
        }
      },
    };
  }
}

/** The agent's directories, locked in one call (released in reverse on failure). */
export function lockAgentDirs(dirs: { queueDir?: string; stateDir?: string }): DirLock[] {
  const want: [string | undefined, string, string][] = [
    [dirs.queueDir, 'queue directory', '--queue-dir (queue.dir)'],
    [dirs.stateDir, 'state directory', '--state-dir (state_dir)'],
  ];
  const locks: DirLock[] = [];
  try {
    for (const [dir, what, flag] of want) if (dir) locks.push(lockDir(path.resolve(dir), what, flag));
  } catch (e) {
    for (const l of locks.reverse()) l.release();
    throw e;
  }
  return locks;
}
