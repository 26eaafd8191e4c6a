import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import { Classifier } from '../../../src/stages/classify/classifier.js';
import { TIERS } from '../../../src/telemetry/names.js';
import { StageRunner, TINY_HOST } from '../../helpers/stages.js';

const { config } = loadConfig();
const c = new Classifier(config.classification);
const tierOf = (name: string, cmdline = '', exe = '', kernel = false) =>
  TIERS[c.classify(name, exe, cmdline, kernel).tier];

describe('default classification rules', () => {
  it.each([
    ['postgres', '/usr/lib/postgresql/16/bin/postgres -D /var/lib/postgresql/16/main'],
    ['postgres', 'postgres: checkpointer'],
    ['mysqld', '/usr/sbin/mysqld'],
    ['redis-server', '/usr/bin/redis-server 127.0.0.1:6379'],
    ['mongod', '/usr/bin/mongod --config /etc/mongod.conf'],
    ['nginx', 'nginx: worker process'],
    ['containerd', '/usr/bin/containerd'],
    ['kubelet', '/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml'],
    ['dockerd', '/usr/bin/dockerd -H fd://'],
    ['java', 'java -Xmx1G -cp /opt/kafka/libs/* kafka.Kafka /opt/kafka/config/server.properties'],
    [
      'beam.smp',
      '/usr/lib/erlang/erts-13/bin/beam.smp -- -root /usr/lib/erlang -progname erl -- -home /var/lib/rabbitmq',
    ],
  ])('%s (%s) is critical', (name, cmd) => {
    expect(tierOf(name, cmd)).toBe('critical');
  });

  it.each([
    ['java', 'java -jar /srv/app/orders.jar'],
    ['node', 'node /srv/api/server.js'],
    ['python3', '/usr/bin/python3 /srv/venv/bin/gunicorn app:app -w 4'],
    ['sshd', 'sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'],
    ['systemd-journal', '/usr/lib/systemd/systemd-journald'],
    ['cron', '/usr/sbin/cron -f'],
  ])('%s (%s) is important', (name, cmd) => {
    expect(tierOf(name, cmd)).toBe('important');
  });

  it.each([
    ['bash', '-bash'],
    ['sleep', 'sleep 3600'],
    ['grep', 'grep -r foo /etc'],
    ['tmux: server', 'tmux new -s main'],
    ['(sd-pam)', '(sd-pam)'],
  ])('%s (%s) is noise', (name, cmd) => {
    expect(tierOf(name, cmd)).toBe('noise');
  });

  it('kernel threads are noise by default', () => {
    expect(tierOf('kworker/0:1-events', '', '', true)).toBe('noise');
    expect(tierOf('ksoftirqd/0', '', '', true)).toBe('noise');
  });

  it('an unmatched process gets the default tier', () => {
    expect(tierOf('myapp', '/opt/myapp/bin/myapp --serve')).toBe('standard');
  });

  it('when rules of two tiers match, the more important tier wins', () => {
    // a shell whose command line runs a gunicorn service
    expect(tierOf('bash', 'bash -c exec gunicorn app:app')).toBe('important');
  });
});

describe('protected patterns', () => {
  it('make a process critical whatever else matches, including kernel threads', () => {
    const cfg = structuredClone(config.classification);
    cfg.protected = ['^sleep$', 'billing-batch'];
    const p = new Classifier(cfg);
    expect(p.classify('sleep', '', 'sleep 5', false)).toEqual({ tier: 0, protected: true });
    expect(p.classify('python3', '', 'python3 /opt/billing-batch/run.py', false)).toEqual({ tier: 0, protected: true });
    expect(p.classify('grep', '', 'grep x', false).protected).toBe(false);
  });
});

describe('pool workers', () => {
  it('a worker with its parent executable name is one tier below; the master keeps the tier', async () => {
    const { allocBatch, FLAG_NEW_IDENTITY } = await import('../../../src/sources/batch.js');
    const b = allocBatch(3, TINY_HOST);
    const rows: [number, number, string, string][] = [
      [10, 1, 'nginx', 'nginx: master process /usr/sbin/nginx'],
      [11, 10, 'nginx', 'nginx: worker process'],
      [12, 11, 'bash', 'bash'],
    ];
    rows.forEach(([pid, ppid, name, cmd], i) => {
      b.pid[i] = pid;
      b.ppid[i] = ppid;
      b.startTicks[i] = 100 + i;
      b.flags[i] = FLAG_NEW_IDENTITY;
      b.freshName.push(name);
      b.freshCmdline.push(cmd);
      b.freshExe.push('');
    });
    b.count = 3;
    b.freshRows = Int32Array.from([0, 1, 2]);
    const tiersOf = (demote: boolean) =>
      Array.from(
        new StageRunner({ ...config, classification: { ...config.classification, demote_pool_workers: demote } }).step(
          b,
        ).tier,
        (t) => TIERS[t],
      );
    expect(tiersOf(true)).toEqual(['critical', 'important', 'noise']);
    expect(tiersOf(false)).toEqual(['critical', 'critical', 'noise']);
  });
});
