/**
 * The file operations the disk queue uses, as one injectable object, so a
 * test can make a write fail with ENOSPC or EIO. The default runs on node:fs
 * callbacks (libuv's thread pool), so a slow disk or an fsync never blocks
 * the event loop.
 */
import * as fs from 'node:fs';

export interface QueueIo {
  /** flags as for fs.open ('r+', 'wx+', ...) */
  open(path: string, flags: string): Promise<number>;
  close(fd: number): Promise<void>;
  /** positional gather write; may write fewer bytes than asked (the caller loops) */
  writev(fd: number, buffers: Uint8Array[], position: number): Promise<number>;
  read(fd: number, buf: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  fsync(fd: number): Promise<void>;
  ftruncate(fd: number, length: number): Promise<void>;
  fstatSize(fd: number): Promise<number>;
  readdir(dir: string): Promise<string[]>;
  mkdir(dir: string): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** write a whole file, fsync it and close it (used for the tmp file of an atomic replace) */
  writeFileSync(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** fsync a directory (makes creations, renames and deletions in it durable) */
  syncDir(dir: string): Promise<void>;
}

function cb<T>(run: (done: (err: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, v) => (err ? reject(err) : resolve(v))));
}

const voidCb = (run: (done: (err: NodeJS.ErrnoException | null) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => run((err) => (err ? reject(err) : resolve())));

export const nodeIo: QueueIo = {
  open: (path, flags) => cb<number>((d) => fs.open(path, flags, 0o644, d)),
  close: (fd) => voidCb((d) => fs.close(fd, d)),
  writev: (fd, buffers, position) =>
    buffers.length === 1
      ? cb<number>((d) => fs.write(fd, buffers[0]!, 0, buffers[0]!.length, position, d))
      : cb<number>((d) => fs.writev(fd, buffers as NodeJS.ArrayBufferView[], position, d)),
  read: (fd, buf, offset, length, position) => cb<number>((d) => fs.read(fd, buf, offset, length, position, d)),
  fsync: (fd) => voidCb((d) => fs.fdatasync(fd, d)),
  ftruncate: (fd, length) => voidCb((d) => fs.ftruncate(fd, length, d)),
  fstatSize: (fd) => cb<fs.Stats>((d) => fs.fstat(fd, d)).then((st) => st.size),
  readdir: (dir) => cb<string[]>((d) => fs.readdir(dir, d)),
  mkdir: (dir) => voidCb((d) => fs.mkdir(dir, d)),
  readFile: (path) => cb<Buffer>((d) => fs.readFile(path, d)),
  writeFileSync: async (path, data) => {
    const fd = await cb<number>((d) => fs.open(path, 'w', 0o644, d));
    try {
      let off = 0;
      while (off < data.length) off += await cb<number>((d) => fs.write(fd, data, off, data.length - off, off, d));
      await voidCb((d) => fs.fsync(fd, d));
    } finally {
      await voidCb((d) => fs.close(fd, d));
    }
  },
  rename: (from, to) => voidCb((d) => fs.rename(from, to, d)),
  unlink: (path) => voidCb((d) => fs.unlink(path, d)),
  syncDir: async (dir) => {
    const fd = await cb<number>((d) => fs.open(dir, 'r', d));
    try {
      await voidCb((d) => fs.fsync(fd, d));
    } finally {
      await voidCb((d) => fs.close(fd, d));
    }
  },
};
