import { mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NrdotError } from '../../src/core/errors.js';
import { FileExporter } from '../../src/exporters/file.js';
import type { ExportMetricsServiceRequest } from '../../src/otlp/model.js';
import { FILE } from '../helpers/defaults.js';
import { processResource, richRequest } from './fixture.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'nrdot-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function lines(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((l) => JSON.parse(l));
}

/** A request whose JSON line is distinguishable by pid. */
const req = (pid: number): ExportMetricsServiceRequest => ({
  resourceMetrics: [processResource(pid, `p${pid}`, 'standard', 0.5, 1024)],
});

describe('FileExporter', () => {
  it('creates the parent directory and appends one JSON line per request, equal to the request', async () => {
    const path = join(dir, 'a', 'b', 'out.jsonl');
    const e = new FileExporter({ ...FILE, path });
    await e.start();
    expect((await stat(path)).size).toBe(0);
    const r1 = richRequest();
    const r2 = req(7);
    const res1 = await e.export(r1);
    const res2 = await e.export(r2);
    await e.shutdown();
    expect(res1).toEqual({ ok: true, bytes: Buffer.byteLength(`${JSON.stringify(r1)}\n`) });
    expect(res2.ok).toBe(true);
    expect(await lines(path)).toStrictEqual([r1, r2]);
    expect((await stat(path)).size).toBe(res1.bytes + res2.bytes);
  });

  it('appends to an existing file and serializes concurrent exports', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, `${JSON.stringify(req(1))}\n`);
    const e = new FileExporter({ ...FILE, path });
    await e.start();
    const results = await Promise.all([2, 3, 4, 5, 6].map((pid) => e.export(req(pid))));
    expect(results.every((r) => r.ok)).toBe(true);
    await e.shutdown();
    expect(await lines(path)).toStrictEqual([1, 2, 3, 4, 5, 6].map(req));
  });

  it('rotates before maxBytes would be exceeded and keeps maxFiles files in all', async () => {
    const path = join(dir, 'm.jsonl');
    const lineBytes = Buffer.byteLength(`${JSON.stringify(req(100))}\n`);
    // every request line has the same length (pids 100..129); 2 lines fit in a file, a third does not
    const e = new FileExporter({ ...FILE, path, maxBytes: lineBytes * 2 + lineBytes / 2, maxFiles: 3 });
    await e.start();
    for (let pid = 100; pid < 130; pid++) expect((await e.export(req(pid))).ok).toBe(true);
    await e.shutdown();

    expect((await readdir(dir)).sort()).toEqual(['m.jsonl', 'm.jsonl.1', 'm.jsonl.2']);
    for (const f of ['m.jsonl', 'm.jsonl.1', 'm.jsonl.2']) {
      expect((await stat(join(dir, f))).size).toBeLessThanOrEqual(lineBytes * 2.5);
    }
    // newest data in the live file, older in .1, oldest kept in .2
    expect(await lines(path)).toStrictEqual([req(128), req(129)]);
    expect(await lines(`${path}.1`)).toStrictEqual([req(126), req(127)]);
    expect(await lines(`${path}.2`)).toStrictEqual([req(124), req(125)]);
  });

  it('writes a line larger than maxBytes alone in a fresh file; maxFiles 1 keeps only the live file', async () => {
    const path = join(dir, 'one.jsonl');
    const e = new FileExporter({ ...FILE, path, maxBytes: 10, maxFiles: 1 });
    await e.start();
    await e.export(req(1));
    await e.export(req(2));
    await e.shutdown();
    expect(await readdir(dir)).toEqual(['one.jsonl']);
    expect(await lines(path)).toStrictEqual([req(2)]);
  });

  it('recreates the file when it is deleted underneath', async () => {
    const path = join(dir, 'gone.jsonl');
    const e = new FileExporter({ ...FILE, path });
    await e.start();
    await e.export(req(1));
    await rm(path);
    expect((await e.export(req(2))).ok).toBe(true);
    await e.shutdown();
    expect(await lines(path)).toStrictEqual([req(2)]);
  });

  it('reports a runtime write failure as ok:false instead of throwing', async () => {
    const path = join(dir, 'sub', 'x.jsonl');
    const e = new FileExporter({ ...FILE, path });
    await e.start();
    // the directory disappears and a regular file takes its place
    await rm(join(dir, 'sub'), { recursive: true });
    await writeFile(join(dir, 'sub'), 'not a dir');
    const res = await e.export(req(1));
    expect(res.ok).toBe(false);
    expect(res.bytes).toBe(0);
    expect(res.error).toMatch(/ENOTDIR/);
    await e.shutdown();
  });

  it.each([
    [
      'a path under a regular file',
      async () => {
        await writeFile(join(dir, 'xyz-file'), 'x');
        return join(dir, 'xyz-file', 'out.jsonl');
      },
    ],
    ['a path inside /proc', async () => '/proc/nrdot-nope/out.jsonl'],
    ['a deeper path inside /proc', async () => '/proc/nrdot-nope/a/b/out.jsonl'],
    [
      'a path through a dangling symlink',
      async () => {
        await symlink(join(dir, 'missing-target'), join(dir, 'dangling'));
        return join(dir, 'dangling', 'sub', 'out.jsonl');
      },
    ],
    ['a directory', async () => dir],
  ])('start() on %s throws OUTPUT_UNWRITABLE (exit 2) naming the path', async (_what, mkPath) => {
    const path = await mkPath();
    const e = new FileExporter({ ...FILE, path });
    const err = await e.start().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(err).toBeInstanceOf(NrdotError);
    expect((err as NrdotError).code).toBe('NRDOT_ERR_OUTPUT_UNWRITABLE');
    expect((err as NrdotError).exitCode).toBe(2);
    expect((err as Error).message).toContain(path);
    await expect(e.export(req(1))).rejects.toThrow(/before start\(\)/);
  });

  it('lifecycle: shutdown twice is fine, export after shutdown rejects clearly', async () => {
    const e = new FileExporter({ ...FILE, path: join(dir, 'l.jsonl') });
    await e.start();
    await e.start();
    await e.shutdown();
    await e.shutdown();
    await expect(e.export(req(1))).rejects.toThrow(/file:.*l\.jsonl: export\(\) called after shutdown\(\)/);
  });

  it('validates its options', () => {
    expect(() => new FileExporter({ ...FILE, path: join(dir, 'x'), maxBytes: 0 })).toThrow(RangeError);
    expect(() => new FileExporter({ ...FILE, path: join(dir, 'x'), maxFiles: 0 })).toThrow(RangeError);
  });
});
