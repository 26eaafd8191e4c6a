/**
 * Every file discovery reads goes through a Host: paths are host paths
 * (`/etc/redis/redis.conf`) resolved under `root`, so a recorded or
 * synthetic host runs through the same code as the live one. Nothing here
 * writes. What cannot be read becomes a Problem, and discovery goes on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoOf } from '../core/errors.js';
import type { Problem } from './types.js';

export interface HostOptions {
  /** the host's root directory (default '/') */
  root?: string;
  /** the procfs tree (default `<root>/proc`) */
  procRoot?: string;
}

const DENIED = new Set(['EACCES', 'EPERM']);
const GONE = new Set(['ENOENT', 'ESRCH', 'ENOTDIR']);

export function isDenied(e: unknown): boolean {
  return DENIED.has(errnoOf(e) ?? '');
}
export function isGone(e: unknown): boolean {
  return GONE.has(errnoOf(e) ?? '');
}

/** The problems of one discovery; one entry per file and kind. */
export class Problems {
  readonly list: Problem[] = [];
  private readonly seen = new Set<string>();

  add(p: Problem): void {
    const key = `${p.kind}\0${p.file}\0${p.line ?? ''}\0${p.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.push(p);
  }

  unreadable(file: string, e: unknown, hint?: string): void {
    const code = errnoOf(e);
    const why =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code
            ? code
            : (e as Error)?.message;
    this.add({ kind: 'unreadable', file, message: `cannot read: ${why}${hint ? ` (${hint})` : ''}` });
  }

  malformed(file: string, line: number | undefined, message: string): void {
    this.add({ kind: 'malformed', file, line, message });
  }
}

export class Host {
  readonly root: string;
  readonly procRoot: string;

  constructor(opts: HostOptions = {}) {
    this.root = path.resolve(opts.root ?? '/');
    this.procRoot = opts.procRoot ? path.resolve(opts.procRoot) : path.join(this.root, 'proc');
  }

  get live(): boolean {
    return this.root === '/';
  }

  /** A host path under the root. Relative paths are taken as relative to `cwd` (a host path). */
  real(hostPath: string, cwd = '/'): string {
    const abs = path.posix.resolve(cwd, hostPath);
    return this.root === '/' ? abs : path.join(this.root, abs);
  }

  /** A path under the procfs tree: proc('net/tcp'), proc(`${pid}/fd`). */
  proc(rel: string): string {
    return `${this.procRoot}/${rel}`;
  }

  /** The host path of a real path under the root (for messages and results). */
  hostPath(real: string): string {
    if (this.root === '/') return real;
    const rel = path.relative(this.root, real);
    return rel.startsWith('..') ? real : `/${rel}`;
  }

  /** Read a host file as text; undefined (and a problem, unless it is simply absent) when it cannot be read. */
  readText(hostPath: string, problems: Problems, opts: { maxBytes?: number; quietMissing?: boolean } = {}) {
    return this.readReal(this.real(hostPath), hostPath, problems, opts);
  }

  readReal(
    real: string,
    shown: string,
    problems: Problems,
    opts: { maxBytes?: number; quietMissing?: boolean } = {},
  ): string | undefined {
    try {
      if (opts.maxBytes !== undefined) {
        const fd = fs.openSync(real, 'r');
        try {
          const st = fs.fstatSync(fd);
          const size = st.size;
          if (st.isFile() && size === 0 && !real.startsWith(this.procRoot)) return '';
          // procfs files report size 0: they are read up to maxBytes below
          if (size > 0 && size <= opts.maxBytes) return fs.readFileSync(fd, 'utf8');
          const buf = Buffer.allocUnsafe(Math.min(opts.maxBytes, size > 0 ? size : opts.maxBytes));
          const n = fs.readSync(fd, buf, 0, buf.length, 0);
          return buf.toString('utf8', 0, n);
        } finally {
          fs.closeSync(fd);
        }
      }
      return fs.readFileSync(real, 'utf8');
    } catch (e) {
      if (isGone(e) && opts.quietMissing !== false) return undefined;
      problems.unreadable(shown, e);
      return undefined;
    }
  }

  exists(hostPath: string): boolean {
    return fs.existsSync(this.real(hostPath));
  }
}
