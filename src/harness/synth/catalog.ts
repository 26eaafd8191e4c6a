/**
 * Names, paths and ids a real Linux host shows. Pure data.
 */

/** TASK_COMM_LEN - 1: the kernel keeps at most 15 bytes of comm. */
export const COMM_MAX = 15;

/**
 * The comm the kernel would store for `name`. Workqueue workers are the one
 * exception: since Linux 4.19 their `stat`/`status` name is "kworker/..."
 * plus "-<workqueue>", which may exceed 15 bytes.
 */
export function kernelComm(name: string): string {
  if (name.startsWith('kworker/')) return name.slice(0, 63);
  return truncComm(name);
}

export function truncComm(name: string): string {
  const b = Buffer.from(name, 'utf8');
  if (b.length <= COMM_MAX) return name;
  // Cut on a byte boundary like the kernel, then drop a split UTF-8 tail.
  return b
    .subarray(0, COMM_MAX)
    .toString('utf8')
    .replace(/\uFFFD+$/, '');
}

/** comm of an exec'd program: basename of the file name, truncated. */
export function commOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return truncComm(slash >= 0 ? path.slice(slash + 1) : path);
}

/** Service accounts: [uid, gid]. */
export const UID = {
  root: [0, 0],
  messagebus: [102, 106],
  syslog: [104, 110],
  systemdNetwork: [100, 102],
  systemdResolve: [101, 103],
  www: [33, 33],
  apache: [48, 48],
  postgres: [26, 26],
  mysql: [27, 27],
  redis: [996, 993],
  mongod: [995, 992],
  kafka: [994, 991],
  rabbitmq: [993, 990],
  chrony: [998, 996],
  polkitd: [997, 995],
  svc: [999, 999],
  nobody: [65534, 65534],
  pause: [65535, 65535],
} as const satisfies Record<string, readonly [number, number]>;

export const USERS: readonly { name: string; uid: number }[] = [
  { name: 'alice', uid: 1000 },
  { name: 'bob', uid: 1001 },
  { name: 'carol', uid: 1002 },
  { name: 'deploy', uid: 1003 },
  { name: 'ci', uid: 1004 },
  { name: 'dave', uid: 1005 },
];

/** Kernel threads created once at boot (name, nice, fifo rt priority or 0). */
export const BOOT_KTHREADS: readonly [string, number, number][] = [
  ['rcu_gp', -20, 0],
  ['rcu_par_gp', -20, 0],
  ['slub_flushwq', -20, 0],
  ['netns', -20, 0],
  ['mm_percpu_wq', -20, 0],
  ['rcu_tasks_kthread', 0, 0],
  ['rcu_tasks_rude_kthread', 0, 0],
  ['rcu_tasks_trace_kthread', 0, 0],
  ['rcu_sched', 0, 0],
  ['kdevtmpfs', 0, 0],
  ['inet_frag_wq', -20, 0],
  ['kauditd', 0, 0],
  ['khungtaskd', 0, 0],
  ['oom_reaper', 0, 0],
  ['writeback', -20, 0],
  ['kcompactd0', 0, 0],
  ['ksmd', 5, 0],
  ['khugepaged', 19, 0],
  ['kintegrityd', -20, 0],
  ['kblockd', -20, 0],
  ['blkcg_punt_bio', -20, 0],
  ['tpm_dev_wq', -20, 0],
  ['ata_sff', -20, 0],
  ['md', -20, 0],
  ['edac-poller', -20, 0],
  ['devfreq_wq', -20, 0],
  ['watchdogd', 0, 99],
  ['kswapd0', 0, 0],
  ['ecryptfs-kthread', 0, 0],
  ['kthrotld', -20, 0],
  ['acpi_thermal_pm', -20, 0],
  ['scsi_eh_0', 0, 0],
  ['scsi_tmf_0', -20, 0],
  ['vfio-irqfd-cleanup', -20, 0],
  ['mld', -20, 0],
  ['ipv6_addrconf', -20, 0],
  ['kstrp', -20, 0],
  ['zswap-shrink', -20, 0],
  ['charger_manager', -20, 0],
  ['jbd2/nvme0n1p1-8', 0, 0],
  ['ext4-rsv-conversion', -20, 0],
  ['irq/122-nvme0q0', 0, 50],
  ['nvme-wq', -20, 0],
  ['nvme-reset-wq', -20, 0],
  ['nvme-delete-wq', -20, 0],
  ['cryptd', -20, 0],
  ['ttm_swap', -20, 0],
  ['card0-crtc0', 0, 50],
  ['xfsalloc', -20, 0],
  ['xfs_mru_cache', -20, 0],
  ['psimon', 0, 1],
  ['hwrng', 0, 0],
];

/** Per-CPU kernel threads; `%d` is the cpu number. */
export const PERCPU_KTHREADS: readonly [string, number, number][] = [
  ['cpuhp/%d', 0, 0],
  ['idle_inject/%d', 0, 50],
  ['migration/%d', 0, 99],
  ['ksoftirqd/%d', 0, 0],
  ['kworker/%d:0H-events_highpri', -20, 0],
];

export const WORKQUEUES: readonly string[] = [
  'events',
  'events',
  'events',
  'events_unbound',
  'events_power_efficient',
  'events_freezable',
  'mm_percpu_wq',
  'kblockd',
  'flush-259:0',
  'writeback',
  'ext4-rsv-conversion',
  'cgroup_destroy',
  'ipv6_addrconf',
  'rcu_gp',
  'netns',
  '',
];

export const SHELL_TOOLS: readonly { argv: string[]; exe: string }[] = [
  { argv: ['grep', '-r', '--color=auto', 'ERROR', '/var/log/app'], exe: '/usr/bin/grep' },
  { argv: ['awk', '{print $1}', '/var/log/nginx/access.log'], exe: '/usr/bin/gawk' },
  { argv: ['sed', '-n', '/timeout/p', '/var/log/syslog'], exe: '/usr/bin/sed' },
  { argv: ['cat', '/proc/meminfo'], exe: '/usr/bin/cat' },
  { argv: ['ps', 'aux'], exe: '/usr/bin/ps' },
  { argv: ['find', '/', '-name', '*.log', '-mtime', '+7'], exe: '/usr/bin/find' },
  { argv: ['tail', '-F', '/var/log/syslog'], exe: '/usr/bin/tail' },
  { argv: ['less', '/etc/nginx/nginx.conf'], exe: '/usr/bin/less' },
  { argv: ['vim', 'config.yaml'], exe: '/usr/bin/vim.basic' },
  { argv: ['top'], exe: '/usr/bin/top' },
  { argv: ['htop'], exe: '/usr/bin/htop' },
  { argv: ['journalctl', '-fu', 'kubelet'], exe: '/usr/bin/journalctl' },
  { argv: ['du', '-sh', '/var/lib/docker'], exe: '/usr/bin/du' },
  { argv: ['watch', '-n', '1', 'kubectl get pods'], exe: '/usr/bin/watch' },
];

export const CRON_JOBS: readonly { argv: string[]; exe: string }[] = [
  { argv: ['/usr/bin/python3', '/opt/jobs/rotate_reports.py', '--days', '30'], exe: '/usr/bin/python3.11' },
  { argv: ['/bin/bash', '/usr/local/bin/backup.sh'], exe: '/usr/bin/bash' },
  { argv: ['logrotate', '/etc/logrotate.conf'], exe: '/usr/sbin/logrotate' },
  { argv: ['run-parts', '--report', '/etc/cron.hourly'], exe: '/usr/bin/run-parts' },
  { argv: ['rsync', '-a', '--delete', '/srv/data/', 'backup:/srv/data/'], exe: '/usr/bin/rsync' },
];

export const PG_BACKEND_STATES: readonly string[] = [
  'idle',
  'idle',
  'idle',
  'idle',
  'idle in transaction',
  'SELECT',
  'UPDATE',
  'INSERT',
  'COMMIT',
];
