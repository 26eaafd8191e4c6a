/**
 * A state save that fails (a full disk, an I/O error) is tried again at the
 * next checkpoint: one warning when saving starts failing, one info line
 * when it works again, never "running without persistence" for good.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { IdentityTable } from '../../src/core/identity.js';
import { RatesStage } from '../../src/stages/rates/index.js';
import { STATE_FILE, StateStore } from '../../src/state/store.js';
import { fastTmpDir } from '../../src/util/tmp.js';

const tmp = fastTmpDir('nrdot-state-retry-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('state saving after a failed write', () => {
  it('retries at the next checkpoint and says once that it works again', () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'debug' }, { write: (s: string) => lines.push(JSON.parse(s)) });
    const dir = path.join(tmp, 'state');
    const store = new StateStore(dir, '/proc', logger);
    store.prepare();
    // the temp file's name is taken by a directory: every write fails (EISDIR), as a full disk would
    const blocker = path.join(dir, `${STATE_FILE}.tmp-${process.pid}`);
    fs.mkdirSync(blocker);
    const ids = new IdentityTable();
    const rates = new RatesStage(ids);
    const save = () => store.save(ids, [rates], 1);
    expect(save()).toBe(false);
    expect(save()).toBe(false);
    expect(lines.map((l) => l.msg)).toEqual(['cannot write state: trying again at the next checkpoint']);
    fs.rmdirSync(blocker);
    expect(save()).toBe(true);
    expect(fs.existsSync(path.join(dir, STATE_FILE))).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual([
      'cannot write state: trying again at the next checkpoint',
      'state saving works again',
    ]);
    expect(save()).toBe(true);
    expect(lines).toHaveLength(2);
  });
});
