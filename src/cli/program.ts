import { Command, Option } from 'commander';
import { SHAPES } from '../harness/synth/types.js';
import { BACKENDS } from '../sources/index.js';
import { VERSION } from '../util/version.js';
import {
  collect,
  durationArg,
  fraction,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  scanFilesArg,
} from './options.js';

/**
 * A command's module is loaded only when that command runs: start-up stays
 * quick, and `nrdot scan` works under a tiny fd limit (ulimit -n 40) because
 * it does not open the agent's whole module graph first.
 */
// biome-ignore lint/suspicious/noExplicitAny: commander passes each action its own argument list
function lazy(load: () => Promise<(...args: any[]) => unknown>) {
  // biome-ignore lint/suspicious/noExplicitAny: see above
  return async (...args: any[]): Promise<void> => {
    await (await load())(...args);
  };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The synthetic host's flags of simulate and optimize suggest (fresh Options for each command). */
function withSynthFlags(c: Command): Command {
  c.addOption(new Option('--shape <name>', `synthetic host shape: ${SHAPES.join(', ')} (default mixed)`));
  c.addOption(
    new Option('--processes <n>', 'processes on the synthetic host (default 2000)').argParser(
      positiveInt('--processes'),
    ),
  );
  c.addOption(
    new Option('--seed <s>', 'random seed of the synthetic host (default 1)').argParser(nonNegativeInt('--seed')),
  );
  c.addOption(
    new Option('--swing <x>', 'peak / trough of the daily CPU load, at least 1 (default 4)').argParser(
      positiveNumber('--swing', 1),
    ),
  );
  c.addOption(
    new Option('--anomalies-per-day <n>', 'anomalies injected per simulated day (default 24)').argParser(
      nonNegativeInt('--anomalies-per-day'),
    ),
  );
  return c;
}

export function buildProgram(): Command {
  const program = new Command('nrdot')
    .description(
      'Linux process-telemetry optimizer: full-resolution series for the processes that matter, roll-ups for the rest, OTLP out.',
    )
    .version(VERSION)
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('run')
    .description('scan /proc every interval, apply the cost profile and export OTLP')
    .option('--config <file>', 'YAML config merged over the embedded default')
    .option(
      '--profile <name>',
      'cost profile: conservative, balanced, aggressive, emergency (or one defined in the config)',
    )
    .option('--proc-root <dir>', 'procfs tree to read (default /proc, or scan.proc_root)')
    .option('--recording <dir>', 'replay a recording made by nrdot record instead of scanning (stops at its end)')
    .option('--loop', 'with --recording: start the recording again at its end instead of stopping')
    .option('--once', 'run a single cycle and exit (with --no-scan: after one received batch)')
    .option('--cycles <n>', 'run N cycles and exit (with --no-scan: N received batches)', positiveInt('--cycles'))
    .option(
      '--interval <duration>',
      'time between cycles, e.g. 10s (default: config interval)',
      durationArg('--interval'),
    )
    .option(
      '--export <spec>',
      'file:PATH | otlp:URL | stdout | none; repeat for several (replaces the config list)',
      collect,
    )
    .option(
      '--state-dir <dir>',
      'keep counters and anomaly baselines between runs here (two --once runs continue CPU rates and baselines)',
    )
    .option(
      '--queue-dir <dir>',
      'persistent export queue for OTLP endpoints: what was accepted survives restarts and kill -9 (default: config queue.dir; none = in memory)',
    )
    .option(
      '--listen <host:port>',
      'control server for /metrics, /health and /api (default: config server.listen, 127.0.0.1:9464); off disables, port 0 picks a free port',
    )
    .option(
      '--otlp-listen [host:port]',
      'accept OTLP/HTTP metrics (e.g. from a Collector) at http://HOST:PORT/v1/metrics; without a value 127.0.0.1:4318 (default: config receiver.listen, off)',
    )
    .option('--no-scan', 'do not scan /proc: only optimize and forward what the OTLP receiver gets')
    .option(
      '--no-discovery',
      'do not run service discovery (default: config discovery.enabled; auto = on when scanning the live /proc)',
    )
    .option(
      '--host-name <name>',
      'host.name of the scanned processes (default: config scan.host_name, else PROC_ROOT/sys/kernel/hostname); in a container, the node name',
    )
    .option(
      '--workers <n>',
      'anomaly-scoring worker threads, 0 = inline (default: config scoring.workers)',
      nonNegativeInt('--workers'),
    )
    .addOption(new Option('--backend <backend>', 'scanner backend').choices(BACKENDS).default('auto'))
    .addOption(new Option('--log-level <level>', 'log level (default: config log_level)').choices(LOG_LEVELS))
    .addOption(
      new Option(
        '--log-format <format>',
        'logs on stderr: readable lines (pretty) or one JSON object per line (json); auto = pretty on a terminal, else json',
      )
        .choices(['auto', 'json', 'pretty'])
        .default('auto'),
    )
    .option('--quiet', 'no per-cycle summary line on stdout')
    .action(lazy(async () => (await import('./run.js')).runCommand));

  program
    .command('scan')
    .description('scan the process table and report how long it took')
    .option('--proc-root <dir>', 'procfs tree to read (default /proc)')
    .option('--recording <dir>', 'replay a recording made by nrdot record instead (--repeat at most its scans)')
    .option(
      '--repeat <n>',
      'scan N times (the first scan reads command lines; later ones are steady state)',
      positiveInt('--repeat'),
      1,
    )
    .addOption(new Option('--backend <backend>', 'scanner backend').choices(BACKENDS).default('auto'))
    .option(
      '--full',
      'read status, io and the fd count of every process on every scan (default: stat only after the first)',
    )
    .option(
      '--files <list>',
      'which of status, io, fds (the fd/ directory) detail rows read: the first scan, and every scan with --full; `none` for none (default: all)',
      scanFilesArg('--files'),
    )
    .option('--no-cgroup', 'do not read /proc/<pid>/cgroup of new processes')
    .option('--json', 'print one JSON object per scan: {"backend","processes","durationMs","usPerProcess"}')
    .action(lazy(async () => (await import('./scan.js')).scanCommand));

  program
    .command('top')
    .description('the busiest processes with their tier')
    .option('--proc-root <dir>', 'procfs tree to read (default /proc)')
    .option('--recording <dir>', 'read the first scans of a recording made by nrdot record instead (no waiting)')
    .option('--config <file>', 'YAML config (for classification rules)')
    .option('-n, --count <n>', 'rows to show', positiveInt('-n'), 20)
    .addOption(new Option('--sort <key>', 'sort by').choices(['cpu', 'rss']).default('cpu'))
    .option(
      '--delay <duration>',
      'measure CPU over this long (0 = lifetime average from one scan)',
      (v: string) => (v === '0' ? 0 : durationArg('--delay')(v)),
      1000,
    )
    .option('--json', 'print JSON rows')
    .action(lazy(async () => (await import('./top.js')).topCommand));

  program
    .command('record')
    .description(
      'record what the scanner reads of a host (every process, every file, host files), compactly, for --recording DIR to replay',
    )
    .option('--out <dir>', 'directory to create for the recording (must not exist, or be empty)')
    .option('--proc-root <dir>', 'procfs tree to read', '/proc')
    .option(
      '--duration <duration>',
      'how long to record, e.g. 10m (default 10m): scans at 0, I, 2I, ... up to it',
      durationArg('--duration'),
    )
    .option('--interval <duration>', 'time between scans', durationArg('--interval'), 10_000)
    .option('--scans <n>', 'take N scans instead of recording for --duration', positiveInt('--scans'))
    .addOption(new Option('--backend <backend>', 'scanner backend').choices(BACKENDS).default('auto'))
    .option('--host-name <name>', 'host.name to record (default: PROC_ROOT/sys/kernel/hostname)')
    .action(lazy(async () => (await import('./record.js')).recordCommand));

  const synth = program
    .command('synth')
    .description('write a synthetic host as a procfs tree (use it with --proc-root)')
    .option('--out <dir>', 'directory to write (created; a previous synthetic tree there is replaced)')
    .option('--processes <n>', 'number of processes', positiveInt('--processes'))
    .option('--seed <s>', 'random seed (same seed, same host)', nonNegativeInt('--seed'), 1)
    .option('--cpus <n>', 'CPU count of the synthetic host', positiveInt('--cpus'))
    .addOption(
      new Option(
        '--shape <name>',
        'kind of host: mixed (a bit of everything), web (php-fpm/celery/gunicorn/uwsgi pools), k8s (pods and shims), ci (short-lived builds), db (postgres backends), idle (shells and sleepers)',
      )
        .choices(SHAPES)
        .default('mixed'),
    )
    .addOption(new Option('--cgroup <version>', '/proc/<pid>/cgroup format').choices(['v1', 'v2']).default('v2'))
    .option(
      '--cgroup-unreadable <share>',
      'share of processes whose cgroup file cannot be read (written as a directory: reading it fails with EISDIR)',
      fraction('--cgroup-unreadable'),
      0,
    )
    .action(lazy(async () => (await import('./synth.js')).synthCommand));
  synth
    .command('advance')
    .description(
      'move a synthetic host forward in time: CPU and I/O accrue, processes come and go, anomalies on request',
    )
    .requiredOption('--dir <dir>', 'a tree written by nrdot synth')
    .option('--seconds <s>', 'seconds to advance', positiveInt('--seconds'), 10)
    .option(
      '--anomalies <k>',
      'inject K anomalies (CPU spikes, memory balloons, busy new processes)',
      nonNegativeInt('--anomalies'),
      0,
    )
    .option(
      '--churn <share>',
      'share of processes that exit and are replaced (default per shape: mixed 0.01, web 0.03, k8s 0.03, ci 0.35, db 0.01, idle 0.002)',
      fraction('--churn'),
    )
    .option('--json', 'print what changed as JSON')
    .action(lazy(async () => (await import('./synth.js')).synthAdvanceCommand));

  withSynthFlags(
    program
      .command('simulate')
      .description(
        'run the real pipeline over a simulated clock and a synthetic host in memory, or a recording: cost, reduction, coverage, visibility per profile or budget',
      )
      .option('--duration <d>', 'simulated time (7d, 36h, 90m; default 7d, or the length of the --recording)')
      .option('--step <d>', 'simulated time between cycles (default: the interval, or duration/2016 when longer)')
      .option(
        '--recording <dir>',
        'replay a recording made by nrdot record instead of a synthetic host (looped when --duration is longer)',
      )
      .option('--profile <names>', 'profiles to run, comma-separated (default: the four standard ones)')
      .option('--config <file>', 'config file (its profiles, interval, cost.price_per_gb, control.loop)')
      .option(
        '--budget <b>',
        'also run the control loop toward this budget: USD per hour, or usd_per_hour=X,points_per_minute=Y',
      ),
  )
    .option('--json', 'print the results as JSON')
    .action(lazy(async () => (await import('./simulate.js')).simulateCommand));

  const optimize = program.command('optimize').description('find the cheapest configuration that meets your targets');
  withSynthFlags(
    optimize
      .command('suggest')
      .description(
        'search the profiles and the knob by running the real pipeline over a recording or a synthetic host: the cheapest that meets the cost or points target and the visibility floor, with the runners-up',
      )
      .option(
        '--target-cost <usd>',
        'USD per hour the configuration may cost (OTLP bytes x cost.price_per_gb)',
        positiveNumber('--target-cost'),
      )
      .option('--target-points <n>', 'data points per minute it may export', positiveNumber('--target-points'))
      .option(
        '--min-visibility <share>',
        'least visibility (CPU and memory exported by name) in every cycle, 0-1 (default 0.95)',
        fraction('--min-visibility'),
      )
      .option('--profiles <names>', 'profiles to search, comma-separated (default: every profile of the config)')
      .option(
        '--config <file>',
        'config file (its profiles, interval, cost.price_per_gb, control.loop.min_knob); --write starts from it',
      )
      .option('--recording <dir>', 'evaluate over a recording made by nrdot record (default: a synthetic host)')
      .option(
        '--url <url>',
        "evaluate over the recent scans a running agent keeps (scan.history; GET /api/history on its control server, e.g. http://127.0.0.1:9464; needs the agent's token)",
      )
      .option(
        '--token-file <file>',
        "with --url: file holding the agent's token (mode 600); default: the NRDOT_TOKEN environment variable",
      )
      .option(
        '--duration <d>',
        'simulated time per candidate (default 1d, or the length of the --recording or history)',
      )
      .option('--step <d>', 'simulated time between cycles of a synthetic host (default duration/144)'),
  )
    .option('--write <file>', 'write the suggestion as a config file (a new file; nrdot config validate accepts it)')
    .option('--json', 'print the search as JSON')
    .action(lazy(async () => (await import('./optimize.js')).optimizeSuggestCommand));

  program
    .command('discover')
    .description(
      'find the services on this host (processes, listening sockets, config files, packages, units) and render the Collector config for them',
    )
    .option('--json', 'print the discovery as JSON: services with confidence and evidence, other listeners, problems')
    .addOption(
      new Option('--render <what>', 'render a config for the discovered services (to stdout, or --out)').choices([
        'collector',
      ]),
    )
    .option('--out <file>', 'write the rendered config here (the only file discover ever writes)')
    .option('--diff <file>', 'show what the rendered config changes against an existing one')
    .option('--root <dir>', 'read every host path (/proc, /etc, /var/lib/dpkg...) under this directory')
    .option('--proc-root <dir>', 'procfs tree to read (default: <root>/proc)')
    .option('--config <file>', 'YAML config (for the discovery: section: template_dir, min_confidence, collector)')
    .option('--template-dir <dir>', 'your own service templates (default: config discovery.template_dir)')
    .addOption(
      new Option(
        '--sockets <source>',
        'listening sockets from netlink sock_diag (the native addon, live host) or the /proc/net tables',
      )
        .choices(['auto', 'procfs', 'sock_diag'])
        .default('auto'),
    )
    .option(
      '--owners',
      'tie every listening socket to its process, not only those a template could claim (walks every open fd)',
    )
    .action(lazy(async () => (await import('./discover.js')).discoverCommand));

  const config = program.command('config').description('config files');
  config
    .command('validate')
    .description('load FILE merged over the default and check everything `run` checks in a config')
    .argument('<file>', 'YAML config file')
    .action(lazy(async () => (await import('./config-cmd.js')).configCommand));
  config
    .command('print')
    .description(
      'print the effective config (the embedded default merged with --config FILE) as YAML, secrets masked; docs/CONFIG.md explains every key',
    )
    .option('--config <file>', 'YAML config merged over the embedded default')
    .action(lazy(async () => (await import('./config-cmd.js')).configPrintCommand));
  config
    .command('sign')
    .description(
      "sign FILE: writes FILE.sig, base64 of the DER ECDSA P-256 signature over SHA-256 of FILE's bytes (what openssl dgst -sha256 -sign makes)",
    )
    .argument('<file>', 'config file')
    .requiredOption('--key <key.pem>', 'ECDSA P-256 private key, PEM (openssl ecparam -name prime256v1 -genkey -noout)')
    .action(lazy(async () => (await import('./config-sign.js')).configSignCommand));
  config
    .command('verify')
    .description('check FILE.sig against FILE with a public key (default: the trusted_keys the file names)')
    .argument('<file>', 'config file')
    .option('--pubkey <pub.pem>', 'ECDSA P-256 public key, PEM; repeat for several', collect)
    .action(lazy(async () => (await import('./config-sign.js')).configVerifyCommand));

  // ---- talking to a running agent (its control server, `nrdot run --listen`) ----
  const urlOption = () =>
    new Option(
      '--url <url>',
      "the agent's control server (nrdot run --listen; default: server.listen of the embedded config, http://127.0.0.1:9464)",
    );
  const tokenOption = () =>
    new Option(
      '--token-file <file>',
      'file holding the token (mode 600); default: the NRDOT_TOKEN environment variable',
    );
  const stateDirOption = () =>
    new Option('--state-dir <dir>', "the agent's state dir (default: state_dir of --config, or of the default config)");

  config
    .command('history')
    .description(
      'the configs the agent applied, newest last: version, time, source, who, signing key, hash, result, why',
    )
    .addOption(stateDirOption())
    .option('--config <file>', 'find the state dir from this config file')
    .option('--json', 'print the versions as JSON')
    .action(lazy(async () => (await import('./config-history.js')).configHistoryCommand));
  config
    .command('diff')
    .description('unified diff of two kept versions, as written (references unexpanded)')
    .argument('<v1>', 'version, e.g. 3 or v3')
    .argument('<v2>', 'version')
    .addOption(stateDirOption())
    .option('--config <file>', 'find the state dir from this config file')
    .action(lazy(async () => (await import('./config-history.js')).configDiffCommand));
  config
    .command('apply')
    .description("apply FILE on the running agent (checked apply; FILE.sig goes with it; needs the agent's token)")
    .argument('<file>', 'YAML config file')
    .addOption(urlOption())
    .option('--reason <text>', 'why, for the history and the audit log')
    .addOption(tokenOption())
    .action(lazy(async () => (await import('./config-apply.js')).configApplyCommand));

  program
    .command('rollback')
    .description(
      "restore a kept config version on the running agent, by version or by the time it was in effect (needs the agent's token)",
    )
    .option('--to-version <v>', 'a version from nrdot config history', positiveInt('--to-version'))
    .option(
      '--to-timestamp <time>',
      'the version in effect then: "2026-12-01 10:30:00" (local time) or with a zone (Z, +02:00)',
    )
    .option('--reason <text>', 'why, for the history and the audit log')
    .option('--dry-run', 'only print which kept version that is (reads the history under --state-dir)')
    .addOption(stateDirOption())
    .option('--config <file>', 'with --dry-run: find the state dir from this config file')
    .addOption(urlOption())
    .addOption(tokenOption())
    .action(lazy(async () => (await import('./config-apply.js')).rollbackCommand));

  program
    .command('status')
    .description("the running agent's status: profile, counts, cost, coverage, queue, breaker, memory tier")
    .addOption(urlOption())
    .option('--json', 'print the status JSON as the agent sends it')
    .action(lazy(async () => (await import('./status.js')).statusCommand));

  program
    .command('metrics')
    .description("the running agent's /metrics (Prometheus text format)")
    .addOption(urlOption())
    .option('--json', 'the same metrics as JSON, with p50/p90/p99/max for histograms')
    .action(lazy(async () => (await import('./metrics-cmd.js')).metricsCommand));

  const profile = program.command('profile').description("read or switch the running agent's cost profile");
  profile
    .command('get')
    .description('print the active profile and the ones available')
    .addOption(urlOption())
    .option('--json', 'print {"active","available"}')
    .action(lazy(async () => (await import('./profile-cmd.js')).profileGetCommand));
  profile
    .command('set')
    .description("switch the running agent to profile NAME (needs the agent's token; recorded in its audit log)")
    .argument('<name>', 'profile name')
    .addOption(urlOption())
    .option('--reason <text>', 'why, for the audit log')
    .option(
      '--for <duration>',
      'a manual override that expires after this long (30m, 2h); then schedules and the budget loop decide again',
      durationArg('--for'),
    )
    .option(
      '--token-file <file>',
      'file holding the token (mode 600); default: the environment variable named by server.token_env (NRDOT_TOKEN)',
    )
    .action(lazy(async () => (await import('./profile-cmd.js')).profileSetCommand));

  program
    .command('loadgen')
    .description(
      'post hostmetrics-shaped OTLP requests for one synthetic host at a fixed rate (to load an nrdot receiver or any OTLP endpoint)',
    )
    .requiredOption('--target <url>', 'OTLP/HTTP metrics URL, e.g. http://127.0.0.1:4318/v1/metrics')
    .option('--rate <n>', 'requests per second (fractions allowed)', positiveNumber('--rate'), 1)
    .option('--processes <k>', 'processes per request (15 data points each)', positiveInt('--processes'), 1000)
    .option(
      '--duration <s>',
      'how long to run, seconds or a duration like 2m',
      (v: string) => durationArg('--duration')(v) / 1000,
      10,
    )
    .addOption(new Option('--encoding <encoding>', 'body encoding').choices(['protobuf', 'json']).default('protobuf'))
    .option('--gzip', 'gzip the bodies (level 1)')
    .option('--concurrency <c>', 'connections and most requests in flight', positiveInt('--concurrency'), 4)
    .option('--host-name <name>', 'host.name of the synthetic host', 'loadgen-host')
    .option('--seed <s>', 'seed of the synthetic processes', nonNegativeInt('--seed'), 1)
    .option(
      '--critical-share <f>',
      'share of processes named as the default rules make critical (postgres, containerd, redis-server, nginx); the rest get non-critical names',
      fraction('--critical-share'),
    )
    .option('--json', 'print only the summary, as one JSON object')
    .action(lazy(async () => (await import('./loadgen.js')).loadgenCommand));

  return program;
}
