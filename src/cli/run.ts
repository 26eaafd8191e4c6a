import * as path from 'node:path';
import { expandEnv, loadConfig, unknownProfile } from '../config/load.js';
import { durationMs } from '../config/schema.js';
import { Engine } from '../engine/engine.js';
import { createSink } from '../export/sink.js';
import { type BackendChoice, openScanner } from '../ingest/index.js';
import { createLogger } from '../log.js';
import { StateStore } from '../state/store.js';
import { summaryLine } from './format.js';

interface RunOpts {
  config?: string;
  profile?: string;
  procRoot?: string;
  once?: boolean;
  cycles?: number;
  interval?: number;
  export?: string[];
  stateDir?: string;
  workers?: number;
  backend: BackendChoice;
  logLevel?: string;
  quiet?: boolean;
}

export async function runCommand(o: RunOpts): Promise<void> {
  const { config, files } = loadConfig(o.config);
  const logger = createLogger(o.logLevel ?? config.log_level);
  const profile = o.profile ?? config.profile;
  if (!config.profiles[profile]) throw unknownProfile(profile, config);
  const procRoot = path.resolve(o.procRoot ?? config.scan.proc_root);
  const { reader, note } = openScanner(procRoot, o.backend);
  const intervalMs = o.interval ?? durationMs(config.interval);
  const specs = o.export && o.export.length > 0 ? o.export : config.export;
  const headers = Object.fromEntries(
    Object.entries(config.export_options.otlp.headers).map(([k, v]) => [k, expandEnv(v)]),
  );
  const sink = createSink(specs, {
    logger,
    headers,
    timeoutMs: durationMs(config.export_options.otlp.timeout),
    fileMaxBytes: config.export_options.file.max_bytes,
    fileMaxFiles: config.export_options.file.max_files,
  });
  const stateDir = o.stateDir ?? (config.state_dir || undefined);
  const state = stateDir ? new StateStore(path.resolve(stateDir), procRoot, logger) : undefined;
  const engine = new Engine({
    config,
    profile,
    scanner: reader,
    sink,
    intervalMs,
    logger,
    state,
    workers: o.workers,
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
      stateDir,
      workers: o.workers ?? config.scoring.workers,
    },
    note,
  );
  await engine.start();

  let stopping = false;
  let wake: (() => void) | undefined;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping after the current cycle');
    wake?.();
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    for (let c = 0; !stopping && (cycles === undefined || c < cycles); c++) {
      const started = Date.now();
      const report = await engine.cycle();
      if (!o.quiet) process.stdout.write(`${summaryLine(report)}\n`);
      if (logger.isLevelEnabled('debug')) {
        const stagesMs = Object.fromEntries([...engine.timer.stats].map(([k, v]) => [k, Number(v.lastMs.toFixed(2))]));
        logger.debug({ report, stagesMs }, 'cycle');
      }
      if (cycles !== undefined && c + 1 >= cycles) break;
      const wait = Math.max(0, intervalMs - (Date.now() - started));
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
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    await engine.shutdown();
    reader.close();
  }
}
