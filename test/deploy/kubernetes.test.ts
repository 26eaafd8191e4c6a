/**
 * deploy/kubernetes/nrdot.yaml: the manifests parse, and every flag, path,
 * port, probe and config key they use exists in nrdot: the flags in
 * `nrdot run --help`, the ConfigMap through the config loader, the probe
 * paths on a real control server.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { request } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { startControlServer } from '../../src/server/http.js';
import { Registry } from '../../src/server/registry.js';
import { fastTmpDir } from '../../src/util/tmp.js';
import { VERSION } from '../../src/util/version.js';
import { CLI, REPO } from '../helpers/cli.js';
import { FakeAgent } from '../server/fake-agent.js';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes manifests are checked field by field below
type Manifest = any;
const docs = parseAllDocuments(fs.readFileSync(path.join(REPO, 'deploy/kubernetes/nrdot.yaml'), 'utf8'));
const manifests = docs.map((d) => {
  if (d.errors.length > 0) throw new Error(d.errors[0]!.message);
  return d.toJS() as Manifest;
});
const byKind = (kind: string) => manifests.find((m) => m?.kind === kind);
const ds = byKind('DaemonSet');
const cm = byKind('ConfigMap');
const pod = ds.spec.template.spec;
const c = pod.containers[0];
const args: string[] = c.args;
const arg = (flag: string) => args[args.indexOf(flag) + 1];
const mount = (name: string) => c.volumeMounts.find((m: Manifest) => m.name === name);
const volume = (name: string) => pod.volumes.find((v: Manifest) => v.name === name);

const tmp = fastTmpDir('nrdot-k8s-');
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const cfgFile = path.join(tmp, 'config.yaml');
fs.writeFileSync(cfgFile, cm.data['config.yaml']);
const config = loadConfig(cfgFile, { env: { ...process.env, NEW_RELIC_LICENSE_KEY: 'test-key' } }).config;

describe('deploy/kubernetes/nrdot.yaml', () => {
  it('parses into a ConfigMap and a DaemonSet in one namespace, with matching labels', () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(['ConfigMap', 'DaemonSet']);
    expect(ds.apiVersion).toBe('apps/v1');
    expect(cm.metadata.namespace).toBe(ds.metadata.namespace);
    expect(ds.spec.selector.matchLabels).toEqual(ds.spec.template.metadata.labels);
  });

  it('runs `nrdot run` with flags the CLI has, the image of this version', () => {
    expect(args[0]).toBe('run');
    const help = execFileSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' });
    for (const flag of args.filter((a) => a.startsWith('--'))) expect(help, flag).toContain(`${flag} `);
    expect(c.image).toBe(`nrdot:${VERSION}`);
  });

  it('sees the host: host PID namespace, the host /proc read-only as --proc-root', () => {
    expect(pod.hostPID).toBe(true);
    expect(volume('proc').hostPath.path).toBe('/proc');
    expect(mount('proc').readOnly).toBe(true);
    expect(arg('--proc-root')).toBe(mount('proc').mountPath);
  });

  it('host.name is the node name, from the downward API', () => {
    expect(arg('--host-name')).toBe('$(NODE_NAME)');
    const env = c.env.find((e: Manifest) => e.name === 'NODE_NAME');
    expect(env.valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: nrdot's ${env:VAR} syntax
  it('reads its config from the ConfigMap, valid for nrdot, with every ${env:VAR} it uses defined', () => {
    expect(arg('--config')).toBe(`${mount('config').mountPath}/config.yaml`);
    expect(volume('config').configMap.name).toBe(cm.metadata.name);
    const env = new Set(c.env.map((e: Manifest) => e.name));
    for (const m of cm.data['config.yaml'].matchAll(/\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)\}/g)) {
      expect(env, m[1]).toContain(m[1]);
    }
  });

  it('keeps state, queue and audit log on a hostPath, so they survive the pod', () => {
    const state = mount('state').mountPath;
    expect(volume('state').hostPath.path).toBe(state);
    for (const p of [config.state_dir, config.queue.dir, config.server.audit_log]) {
      expect(p.startsWith(`${state}/`), p).toBe(true);
    }
  });

  it("probes /health and /health/ready on the control server's port, paths the server answers", async () => {
    const port = c.ports.find((p: Manifest) => p.name === c.livenessProbe.httpGet.port);
    expect(String(port.containerPort)).toBe(config.server.listen.split(':').at(-1));
    expect(config.server.listen.startsWith('0.0.0.0:')).toBe(true); // reachable by the kubelet
    expect(c.livenessProbe.httpGet.path).toBe('/health');
    expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
    expect(c.readinessProbe.httpGet.port).toBe(port.name);
    expect(ds.spec.template.metadata.annotations['prometheus.io/port']).toBe(String(port.containerPort));
    const server = await startControlServer({
      listen: '127.0.0.1:0',
      control: new FakeAgent(),
      registry: new Registry(),
    });
    try {
      for (const p of [
        c.livenessProbe.httpGet.path,
        c.readinessProbe.httpGet.path,
        ds.spec.template.metadata.annotations['prometheus.io/path'],
      ]) {
        const res = await request(`${server.url}${p}`);
        await res.body.dump();
        expect([200, 503], p).toContain(res.statusCode);
      }
    } finally {
      await server.close();
    }
  });

  it('has resource requests and limits, the memory limit 1.25 x memory.limit_mib', () => {
    expect(c.resources.requests.cpu).toBeDefined();
    expect(c.resources.requests.memory).toBeDefined();
    const limit = /^(\d+)Mi$/.exec(c.resources.limits.memory);
    expect(Number(limit?.[1])).toBe(config.memory.limit_mib * 1.25);
  });

  it("holds only the two capabilities for other users' /proc/PID/io and fd/, on a read-only root", () => {
    const sc = c.securityContext;
    expect(sc.capabilities.drop).toEqual(['ALL']);
    expect([...sc.capabilities.add].sort()).toEqual(['DAC_READ_SEARCH', 'SYS_PTRACE']);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.readOnlyRootFilesystem).toBe(true);
  });
});
