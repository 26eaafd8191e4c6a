import * as path from 'node:path';
import { Agent } from '../agent/agent.js';
import { deliveryReport, shutdownLine } from '../agent/delivery.js';
import { LiveConfig } from '../agent/live-config.js';
import { durationMs } from '../config/schema.js';
import { unknownProfile } from '../config/unknown-profile.js';
import { loadStartConfig, recordStartVersion } from '../control/config/startup.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { createLogger, type LogFormat } from '../core/log.js';
import type { BackendChoice } from '../sources/index.js';
import { type OpenedSource, openSource } from '../sources/recording/open.js';
import { shortfallMessage, summaryLine } from './format.js';

interface RunOpts {
  config?: string;
  profile?: string;
  procRoot?: string;
  recording?: string;
  loop?: boolean;
  once?: boolean;
  cycles?: number;
  interval?: number;
  export?: string[];
  stateDir?: string;
  queueDir?: string;
  listen?: string;
  otlpListen?: string | boolean;
  /** commander's --no-scan sets this to false */
  scan?: boolean;
  /** commander's --no-discovery sets this to false */
  discovery?: boolean;
  workers?: number;
  backend: BackendChoice;
  logLevel?: string;
  logFormat?: LogFormat;
  quiet?: boolean;
  hostName?: string;
}

export async function runCommand(o: RunOpts): Promise<void> {
  const loaded = await loadStartConfig(o.config);
  const { config, files } = loaded;
  const logger = createLogger(o.logLevel ?? config.log_level, o.logFormat ?? 'auto');
  const profile = o.profile ?? config.profile;
  if (!config.profiles[profile]) throw unknownProfile(profile, config);
  let source: OpenedSource | undefined;
  if (o.recording !== undefined || o.loop) {
    if (o.scan === false)
      throw new NrdotError(ErrorCodes.USAGE, '--recording is a scan source: it cannot go with --no-scan');
    source = openSource({
      procRoot: o.procRoot,
      defaultProcRoot: config.scan.proc_root,
      recording: o.recording,
      loop: o.loop,
      backend: o.backend,
      hostName: o.hostName ?? config.scan.host_name,
    });
  }
  const procRoot = source ? source.reader.procRoot : path.resolve(o.procRoot ?? config.scan.proc_root);
  const intervalMs = o.interval ?? durationMs(config.interval);
  const specs = o.export && o.export.length > 0 ? o.export : config.export;
  const agent = new Agent({
    config,
    profile,
    logger,
    procRoot,
    backend: o.backend,
    intervalMs,
    exportSpecs: specs,
    stateDir: o.stateDir,
    queueDir: o.queueDir,
    listen: o.listen,
    otlpListen: o.otlpListen === true ? '127.0.0.1:4318' : o.otlpListen || undefined,
    noScan: o.scan === false,
    noDiscovery: o.discovery === false,
    workers: o.workers,
    hostName: o.hostName,
    scanner: source,
    flags: {
      ...(o.export && o.export.length > 0 ? { export: o.export } : {}),
      ...(o.interval !== undefined ? { intervalMs: o.interval } : {}),
      ...(o.logLevel ? { logLevel: o.logLevel } : {}),
    },
  });
  const cycles = o.once ? 1 : o.cycles;

  logger.info(
    {
      configFiles: files,
      profile,
      procRoot,
      export: specs,
      intervalMs,
      cycles: cycles ?? 'forever',
      stateDir: o.stateDir ?? (config.state_dir || undefined),
      queueDir: agent.queueDir || '(memory)',
      workers: o.workers ?? config.scoring.workers,
      memoryLimitMib: config.memory.limit_mib,
      discovery: agent.discovery ? `on (${agent.discoveryNote})` : `off (${agent.discoveryNote})`,
    },
    agent.scannerNote,
  );

  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      // a second signal: the operator does not want to wait for the drain
      logger.warn(
        { signal },
        `second ${signal}: exiting now without draining (what is queued stays in --queue-dir, or is lost without one)`,
      );
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    logger.info({ signal }, 'stopping after the current cycle (send the signal again to exit at once)');
    wake?.();
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  // until the config lifecycle is wired (after start), a SIGHUP (`kill -HUP`) must not kill the agent
  const onHup = () => logger.info({ signal: 'SIGHUP' }, 'SIGHUP ignored: the agent is still starting');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  let live: LiveConfig | undefined;
  process.on('SIGHUP', onHup);
  // behind a Collector without a scan, a processed batch stands for a cycle:
  // the same summary line, and --once / --cycles N stop after N batches
  let batches = 0;
  // received batches are the cycles a reload's health check counts (in order, one at a time)
  let checked: Promise<unknown> = Promise.resolve();
  if (!agent.scanning) {
    agent.onReceivedCycle((host, r) => {
      checked = checked.then(() => live?.afterCycle(r.report)).catch(() => undefined);
      if (cycles !== undefined && batches >= cycles) return;
      batches++;
      if (!o.quiet) process.stdout.write(`host ${host || '(no host.name)'}: ${summaryLine(r.report)}\n`);
      if (cycles !== undefined && batches >= cycles) wake?.();
    });
  }
  try {
    await agent.start();
    const stateDir = o.stateDir ?? (config.state_dir || undefined);
    const v = await recordStartVersion(loaded, o.config, {
      stateDir,
      maxVersions: config.config_history.max_versions,
      logger,
      audit: agent.audit,
    });
    // hot reload: SIGHUP, the --config file, PUT /api/config, OpAMP (src/agent/live-config.ts)
    live = await LiveConfig.start({ agent, loaded, configFile: o.config, stateDir, startVersion: v?.version, logger });
    process.off('SIGHUP', onHup);
    if (!agent.scanning) {
      if (!agent.receiverUrl && cycles !== undefined) {
        throw new NrdotError(
          ErrorCodes.USAGE,
          `--no-scan with ${o.once ? '--once' : '--cycles'} needs an OTLP receiver (--otlp-listen): without a scan, a cycle is a received batch`,
        );
      }
      if (!agent.receiverUrl) {
        logger.warn('--no-scan without an OTLP receiver (--otlp-listen): nothing to do but serve /metrics');
      }
      // a pure OTLP processor: work happens per received request until a signal
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (stopping || (cycles !== undefined && batches >= cycles)) resolve();
      });
    }
    for (let c = 0; agent.scanning && !stopping && (cycles === undefined || c < cycles); c++) {
      const started = Date.now();
      const report = await agent.cycle();
      if (!o.quiet) process.stdout.write(`${summaryLine(report)}\n`);
      await live.afterCycle(report);
      if (logger.isLevelEnabled('debug')) {
        const stagesMs = Object.fromEntries(
          [...agent.engine.timer.stats].map(([k, v]) => [k, Number(v.lastMs.toFixed(2))]),
        );
        logger.debug({ report, stagesMs }, 'cycle');
      }
      if (cycles !== undefined && c + 1 >= cycles) break;
      if (source?.replay?.ended) {
        logger.info(
          { recording: source.replay.procRoot, scans: source.replay.scans },
          `the recording ended after ${source.replay.scans} scans: stopping (--loop replays it again)`,
        );
        break;
      }
      const wait = Math.max(0, agent.intervalMs - (Date.now() - started));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    // the handlers stay while shutting down: a second signal is the one that skips the drain
    await live?.shutdown();
    await agent.shutdown();
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    process.off('SIGHUP', onHup);
  }
  const delivery = deliveryReport(agent.sink);
  const stateDir = o.stateDir ?? (config.state_dir || undefined);
  const line = shutdownLine(delivery, {
    stateDir: stateDir && path.resolve(stateDir),
    queueDir: agent.queueDir && path.resolve(agent.queueDir),
  });
  logger.info(line.fields, line.msg);
  // a bounded run is a job: it fails (exit 3) when it could not deliver what it accepted
  if (cycles !== undefined && delivery.shortfall) {
    throw new NrdotError(ErrorCodes.UNDELIVERED, shortfallMessage(delivery));
  }
}
