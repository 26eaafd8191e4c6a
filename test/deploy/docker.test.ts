/**
 * deploy/docker/Dockerfile, checked statically: there is no Docker daemon
 * where this suite runs, so the image is not built here. The test parses the
 * Dockerfile and checks the stages, the non-root user, that everything nrdot
 * loads at run time is copied, and that the CMD flags exist in the CLI.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { defaultConfig } from '../../src/config/load.js';
import { CLI, REPO } from '../helpers/cli.js';

interface Instruction {
  op: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[][] {
  const stages: Instruction[][] = [];
  let line = '';
  for (const raw of text.split('\n')) {
    const t = raw.trim();
    if (t.startsWith('#') && line === '') continue;
    line += t.endsWith('\\') ? `${t.slice(0, -1)} ` : t;
    if (t.endsWith('\\')) continue;
    if (line !== '') {
      const [op, ...rest] = line.split(/\s+/);
      const ins = { op: op!.toUpperCase(), args: rest.join(' ') };
      if (ins.op === 'FROM') stages.push([]);
      stages.at(-1)!.push(ins);
    }
    line = '';
  }
  return stages;
}

const text = fs.readFileSync(path.join(REPO, 'deploy/docker/Dockerfile'), 'utf8');
const stages = parseDockerfile(text);
const [build, runtime] = stages as [Instruction[], Instruction[]];
const all = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op);

describe('deploy/docker/Dockerfile (static: no Docker daemon here)', () => {
  it('has a build stage and a runtime stage, both on Node 20', () => {
    expect(stages).toHaveLength(2);
    expect(build[0]!.args).toMatch(/^node:20[\w.-]* AS build$/);
    expect(runtime[0]!.args).toMatch(/^node:20[\w.-]*$/);
    // same base: the addons built in one load in the other
    expect(runtime[0]!.args).toBe(build[0]!.args.replace(/ AS build$/, ''));
  });

  it('builds the native addon in the build stage and fails when it does not build', () => {
    const run = all(build, 'RUN')
      .map((i) => i.args)
      .join('\n');
    expect(run).toMatch(/apt-get install .*python3.*make.*g\+\+/);
    expect(run).toMatch(/npm install/);
    expect(run).toContain('test -f build/Release/nrdot_native.node');
    expect(run).toMatch(/npm prune --omit=dev/);
    // the build stage has every source the TypeScript build (tsconfig include) and node-gyp need
    const copied = all(build, 'COPY').flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    const tsconfig = JSON.parse(fs.readFileSync(path.join(REPO, 'tsconfig.json'), 'utf8')) as { include: string[] };
    for (const inc of tsconfig.include) expect(copied, inc).toContain(inc.split('/')[0]);
    for (const f of ['package.json', 'package-lock.json', 'binding.gyp', 'native', 'configs'])
      expect(copied, f).toContain(f);
    for (const f of copied) expect(fs.existsSync(path.join(REPO, f)), f).toBe(true);
  });

  it('copies into the runtime stage everything nrdot loads at run time', () => {
    const from = all(runtime, 'COPY')
      .filter((i) => i.args.startsWith('--from=build'))
      .flatMap((i) =>
        i.args
          .split(/\s+/)
          .slice(1, -1)
          .map((s) => s.replace(/^\/src\//, '')),
      );
    // packageRoot() needs package.json and binding.gyp; workers, addon and configs are found from there
    for (const f of [
      'package.json',
      'binding.gyp',
      'node_modules',
      'dist/src',
      'dist/workers',
      'build/Release/nrdot_native.node',
      'configs',
    ]) {
      expect(from, f).toContain(f);
    }
  });

  it('runs as a non-root user it creates', () => {
    const users = all(runtime, 'USER');
    expect(users).toHaveLength(1);
    const [uid] = users[0]!.args.split(':');
    expect(uid).not.toBe('0');
    expect(uid).not.toBe('root');
    expect(
      all(runtime, 'RUN')
        .map((i) => i.args)
        .join('\n'),
    ).toContain(`useradd --system --uid ${uid}`);
    // USER comes before ENTRYPOINT/CMD
    const idx = (op: string) => runtime.findIndex((i) => i.op === op);
    expect(idx('USER')).toBeLessThan(idx('ENTRYPOINT'));
  });

  it('starts the CLI with flags it has, on the /proc path the DaemonSet mounts, exposing the control port', () => {
    const entry = JSON.parse(all(runtime, 'ENTRYPOINT')[0]!.args) as string[];
    expect(entry[0]).toBe('node');
    // the same young-generation cap as the CLI's shebang (docs/BENCHMARKS.md)
    expect(entry[1]).toBe('--max-semi-space-size=8');
    expect(fs.readFileSync(path.join(REPO, 'src/cli/main.ts'), 'utf8').split('\n')[0]).toContain(entry[1]!);
    expect(entry[2]).toBe('/opt/nrdot/dist/src/cli/main.js');
    expect(fs.existsSync(path.join(REPO, 'dist/src/cli/main.js'))).toBe(true);
    const cmd = JSON.parse(all(runtime, 'CMD')[0]!.args) as string[];
    expect(cmd[0]).toBe('run');
    const help = execFileSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' });
    for (const flag of cmd.filter((a) => a.startsWith('--'))) expect(help, flag).toContain(`${flag} `);
    const procRoot = cmd[cmd.indexOf('--proc-root') + 1];
    const ds = parseAllDocuments(fs.readFileSync(path.join(REPO, 'deploy/kubernetes/nrdot.yaml'), 'utf8'))
      .map((d) => d.toJS())
      .find((d) => d?.kind === 'DaemonSet');
    const mounts = ds.spec.template.spec.containers[0].volumeMounts as { mountPath: string }[];
    expect(mounts.map((m) => m.mountPath)).toContain(procRoot);
    const port = defaultConfig().server.listen.split(':').at(-1);
    expect(all(runtime, 'EXPOSE')[0]!.args).toBe(port);
  });

  it('a .dockerignore keeps local builds and node_modules out of the context', () => {
    const ignore = fs.readFileSync(path.join(REPO, '.dockerignore'), 'utf8').split('\n');
    for (const d of ['node_modules', 'dist', 'build']) expect(ignore).toContain(d);
  });
});
