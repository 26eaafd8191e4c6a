import * as fs from 'node:fs';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type ConfigChange, ConfigWatcher, onReloadSignal } from '../../../src/control/config/watcher.js';
import { fastTmpDir } from '../../../src/util/tmp.js';
import { until } from '../../helpers/until.js';

const tmp = fastTmpDir('nrdot-watch-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const running: ConfigWatcher[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((w) => w.shutdown()));
});

let n = 0;
function watched(content = 'profile: balanced\n', opts: { pollMs?: number; useEvents?: boolean } = {}) {
  const dir = path.join(tmp, `d${n++}`);
  fs.mkdirSync(dir);
  const file = path.join(dir, 'nrdot.yaml');
  fs.writeFileSync(file, content);
  const changes: ConfigChange[] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(c, _e, cb) {
        for (const l of c.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(l));
        cb();
      },
    }),
  );
  const w = new ConfigWatcher({
    files: [file],
    debounceMs: 100,
    logger,
    onChange: (c) => void changes.push(c),
    ...opts,
  });
  running.push(w);
  w.start();
  return { dir, file, w, changes, logs };
}

describe('ConfigWatcher', () => {
  it('calls back once for a burst of writes, with the file that changed', async () => {
    const s = watched();
    for (let i = 0; i < 5; i++) fs.writeFileSync(s.file, `profile: aggressive # ${i}\n`);
    await until('the change', () => s.changes.length > 0);
    // the writes were done before any event was read: one debounced re-read for them all
    expect(s.w.checks).toBe(1);
    expect(s.changes).toEqual([{ files: [s.file] }]);
  });

  it('follows a write-and-rename (how editors and deploy tools save) and a ConfigMap-style symlink swap', async () => {
    const s = watched();
    const tmpFile = path.join(s.dir, '.nrdot.yaml.swp');
    fs.writeFileSync(tmpFile, 'profile: emergency\n');
    fs.renameSync(tmpFile, s.file);
    await until('the rename', () => s.changes.length === 1);

    const k = path.join(tmp, `k8s${n++}`);
    fs.mkdirSync(path.join(k, 'v1'), { recursive: true });
    fs.mkdirSync(path.join(k, 'v2'));
    fs.writeFileSync(path.join(k, 'v1', 'nrdot.yaml'), 'profile: balanced\n');
    fs.writeFileSync(path.join(k, 'v2', 'nrdot.yaml'), 'profile: aggressive\n');
    fs.symlinkSync('v1', path.join(k, '..data'));
    fs.symlinkSync('..data/nrdot.yaml', path.join(k, 'nrdot.yaml'));
    const changes: ConfigChange[] = [];
    const w = new ConfigWatcher({
      files: [path.join(k, 'nrdot.yaml')],
      debounceMs: 50,
      onChange: (c) => void changes.push(c),
    });
    running.push(w);
    w.start();
    fs.symlinkSync('v2', path.join(k, '..data_tmp'));
    fs.renameSync(path.join(k, '..data_tmp'), path.join(k, '..data'));
    await until('the symlink swap', () => changes.length === 1);
  });

  it('does nothing for a touch, an unrelated file, or the same bytes written again', async () => {
    const s = watched();
    const t = new Date(Date.now() + 5000);
    fs.utimesSync(s.file, t, t);
    fs.writeFileSync(path.join(s.dir, 'other.txt'), 'x');
    fs.writeFileSync(s.file, 'profile: balanced\n');
    // every re-read after the writes sees their end state: the first one must find nothing
    await until('re-read after the events', () => s.w.checks >= 1);
    expect(s.changes).toEqual([]);
  });

  it('a removed file is logged, not a change; its return with new bytes is', async () => {
    const s = watched();
    fs.rmSync(s.file);
    await until('the log line', () => s.logs.some((l) => l.msg === 'config file is gone; the running config stays'));
    expect(s.changes).toEqual([]);
    fs.writeFileSync(s.file, 'profile: conservative\n');
    await until('the new file', () => s.changes.length === 1);
  });

  it('polls when asked, for filesystems without events', async () => {
    const s = watched('a: 1\n', { pollMs: 50, useEvents: false });
    fs.writeFileSync(s.file, 'a: 2\n');
    await until('the polled change', () => s.changes.length === 1);
  });

  it('start and shutdown are safe twice; nothing is called after shutdown', async () => {
    const s = watched();
    s.w.start();
    await s.w.shutdown();
    await s.w.shutdown();
    // A witness on the same directory with a longer debounce: once it has read the
    // change, the stopped watcher (100 ms) would have read and reported it before.
    const seen: ConfigChange[] = [];
    const witness = new ConfigWatcher({ files: [s.file], debounceMs: 200, onChange: (c) => void seen.push(c) });
    running.push(witness);
    witness.start();
    fs.writeFileSync(s.file, 'profile: aggressive\n');
    await until("the witness's re-read", () => seen.length === 1);
    expect(s.w.checks).toBe(0);
    expect(s.changes).toEqual([]);
  });
});

describe('onReloadSignal', () => {
  it('calls the handler on SIGHUP, folds signals that arrive during it into one more call, and unhooks', async () => {
    let calls = 0;
    let release: (() => void) | undefined;
    const off = onReloadSignal(async () => {
      calls++;
      if (calls === 1) await new Promise<void>((r) => (release = r));
    });
    // listens after the hook, so it hears each signal once the hook has
    let delivered = 0;
    const witness = () => void delivered++;
    process.on('SIGHUP', witness);
    try {
      process.kill(process.pid, 'SIGHUP');
      await until('the first call', () => calls === 1);
      // one at a time, so the kernel cannot merge them into one
      process.kill(process.pid, 'SIGHUP');
      await until('the second signal', () => delivered === 2);
      process.kill(process.pid, 'SIGHUP');
      await until('the third signal', () => delivered === 3);
      expect(calls).toBe(1);
      release?.();
      // the folded call and the loop's end are one run of promise callbacks: over before `until` looks
      await until('the folded call', () => calls >= 2);
      expect(calls).toBe(2);
    } finally {
      process.off('SIGHUP', witness);
      off();
    }
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });
});
