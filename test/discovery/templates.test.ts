/**
 * Service templates: the embedded library loads cleanly and names only
 * documented receiver keys; broken templates (unknown variable, invalid
 * YAML, a literal password) are reported with file and line and skipped
 * while the others load; a user directory adds and replaces templates.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { discover } from '../../src/discovery/discover.js';
import { Problems } from '../../src/discovery/host.js';
import { embeddedTemplateDir, loadTemplates } from '../../src/discovery/templates/load.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { RECEIVER_KEYS, unknownKeys } from './collector-keys.js';
import { HostFixture } from './fixture.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function userDir(files: Record<string, string>): string {
  const dir = fastTmpDir('nrdot-tpl-');
  dirs.push(dir);
  for (const [n, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), t);
  return dir;
}

const GOOD = `service: myapp
display_name: My App
match:
  names: ['^myapp$']
  ports: [9555]
receiver:
  nginx:
    endpoint: 'http://\${host_port}/status'
    collection_interval: '\${collection_interval}'
`;

describe('the embedded template library', () => {
  const problems = new Problems();
  const templates = loadTemplates({}, problems);

  it('loads every file of configs/discovery without a problem', () => {
    expect(problems.list).toEqual([]);
    const files = fs.readdirSync(embeddedTemplateDir()).filter((f) => f.endsWith('.yaml'));
    expect(templates.map((t) => path.basename(t.file)).sort()).toEqual(files.sort());
    expect(templates.map((t) => t.service).sort()).toEqual([
      'apache',
      'haproxy',
      'memcached',
      'mongodb',
      'mysql',
      'nginx',
      'postgresql',
      'rabbitmq',
      'redis',
    ]);
  });

  it.each(templates.map((t) => [t.service, t] as const))('%s names only documented receiver keys', (_, t) => {
    expect(RECEIVER_KEYS[t.receiver.type], `a key table for ${t.receiver.type}`).toBeDefined();
    expect(unknownKeys(t.receiver.body, RECEIVER_KEYS[t.receiver.type]!)).toEqual([]);
    if (t.logs) expect(unknownKeys(t.logs.body, RECEIVER_KEYS[t.logs.type]!)).toEqual([]);
  });
});

describe('bad templates', () => {
  it('names the file and line of an unknown variable, skips that template and loads the rest', () => {
    const dir = userDir({
      'a-good.yaml': GOOD,
      'b-typo.yaml': GOOD.replace('service: myapp', 'service: other').replace('${host_port}', '${hostport}'),
    });
    const problems = new Problems();
    const templates = loadTemplates({ userDir: dir }, problems);
    expect(problems.list).toEqual([
      {
        kind: 'template',
        file: path.join(dir, 'b-typo.yaml'),
        line: 8,
        message: expect.stringMatching(
          /^'receiver\.nginx\.endpoint': unknown variable '\$\{hostport\}' \(known: .*host_port.*\); template skipped$/,
        ),
      },
    ]);
    expect(templates.map((t) => t.service)).toContain('myapp');
    expect(templates.map((t) => t.service)).not.toContain('other');
    expect(templates.map((t) => t.service)).toContain('redis');
  });

  it('names the file, line and column of invalid YAML in the user directory', () => {
    const dir = userDir({
      'broken.yaml': 'service: broken\nmatch:\n  names: [unclosed\nreceiver: {}\n',
      'fine.yaml': GOOD,
    });
    const problems = new Problems();
    const templates = loadTemplates({ userDir: dir }, problems);
    expect(problems.list).toHaveLength(1);
    expect(problems.list[0]).toMatchObject({ kind: 'template', file: path.join(dir, 'broken.yaml') });
    expect(problems.list[0]!.line).toBeGreaterThanOrEqual(3);
    expect(problems.list[0]!.message).toMatch(/^invalid YAML at column \d+: /);
    expect(templates.map((t) => t.service)).toContain('myapp');
  });

  it('refuses a literal password: credentials are only ${env:VAR} references', () => {
    const dir = userDir({ 'pw.yaml': `${GOOD}    password: hunter2\n` });
    const problems = new Problems();
    loadTemplates({ userDir: dir }, problems);
    expect(problems.list[0]).toMatchObject({
      line: 10,
      message:
        "'receiver.nginx.password': credentials must be an ${env:VAR} reference, never a value; template skipped",
    });
  });

  it('asks for a default when a variable comes only from the config file', () => {
    const dir = userDir({
      'x.yaml': GOOD.replace('receiver:', "config:\n  extract:\n    status: '^status (\\S+)'\nreceiver:").replace(
        '/status',
        '${status}',
      ),
    });
    const problems = new Problems();
    loadTemplates({ userDir: dir }, problems);
    expect(problems.list[0]!.message).toMatch(
      /'\$\{status\}' may be absent from the config: give it a value under defaults/,
    );
  });

  it('names an unknown key and a bad pattern with their lines', () => {
    const problems = new Problems();
    const dir = userDir({
      'k.yaml': GOOD.replace('display_name', 'dispaly_name'),
      'p.yaml': GOOD.replace("names: ['^myapp$']", () => "names: ['(unclosed']").replace('myapp', 'p'),
    });
    loadTemplates({ userDir: dir }, problems);
    expect(problems.list).toEqual([
      expect.objectContaining({
        file: path.join(dir, 'k.yaml'),
        line: 2,
        message: expect.stringMatching(/^'dispaly_name': unknown key/),
      }),
      expect.objectContaining({
        file: path.join(dir, 'p.yaml'),
        line: 4,
        message: expect.stringMatching(/invalid RE2 pattern/),
      }),
    ]);
  });
});

describe('user templates', () => {
  let fx: HostFixture | undefined;
  afterEach(() => fx?.remove());

  it('adds a service of its own and replaces an embedded one; discovery uses both', async () => {
    fx = new HostFixture();
    fx.proc({ pid: 77, comm: 'myapp', argv: ['/opt/myapp/bin/myapp'], exe: '/opt/myapp/bin/myapp', sockets: [1] })
      .listen({ transport: 'tcp', address: '127.0.0.1', port: 9555, inode: 1 })
      .proc({
        pid: 78,
        comm: 'redis-server',
        argv: ['redis-server *:6379'],
        exe: '/usr/bin/redis-server',
        sockets: [2],
      })
      .listen({ transport: 'tcp', address: '0.0.0.0', port: 6379, inode: 2 });
    const dir = userDir({
      'myapp.yaml': GOOD,
      'redis.yaml': GOOD.replace('service: myapp', 'service: redis').replace("'^myapp$'", () => "'^redis-server$'"),
    });
    const r = await discover({ root: fx.root, templateDir: dir });
    expect(r.problems).toEqual([]);
    const myapp = r.services.find((s) => s.service === 'myapp')!;
    expect(myapp).toMatchObject({ id: 'myapp/9555', displayName: 'My App', template: path.join(dir, 'myapp.yaml') });
    expect(r.services.find((s) => s.service === 'redis')!.template).toBe(path.join(dir, 'redis.yaml'));
  });

  it('reports a template directory it cannot read and goes on with the embedded library', async () => {
    fx = new HostFixture();
    const r = await discover({ root: fx.root, templateDir: path.join(fx.root, 'no-such-dir') });
    expect(r.problems).toContainEqual({
      kind: 'unreadable',
      file: path.join(fx.root, 'no-such-dir'),
      message: 'cannot read: ENOENT (template directory)',
    });
  });
});
