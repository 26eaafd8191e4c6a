/**
 * The checks beyond the schema: everything `nrdot run` would refuse in a
 * config that the schema alone lets through. `loadConfig` runs them, so
 * `run`, `config validate` and `config print` agree. Each error names the
 * file and the key, and exits 2.
 */
import RE2 from 're2';
import { checkSchedules } from '../control/schedule/check.js';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { normalizeHeaders } from '../exporters/otlp/endpoint.js';
import { parseExportSpecs } from '../exporters/spec-parse.js';
import { parseListen } from '../server/listen.js';
import { type Config, durationMs } from './schema.js';
import { unknownProfile } from './unknown-profile.js';

function invalid(file: string, key: string, message: string): NrdotError {
  return new NrdotError(ErrorCodes.CONFIG_INVALID, `${file}: '${key}' ${message}`);
}

/** Re-throw an error of a shared parser with the file and key in front. */
function within(file: string, key: string, e: unknown): never {
  if (e instanceof NrdotError) throw new NrdotError(e.code, `${file}: '${key}': ${e.message}`);
  throw e;
}

/** control.loop names profiles the config defines. */
function checkLoop(config: Config, file: string): void {
  const known = Object.keys(config.profiles);
  const l = config.control.loop;
  const bad = (key: string, name: string) => unknownProfile(name, known, `${file}: '${key}'`);
  l.profiles.forEach((p, i) => {
    if (!known.includes(p)) throw bad(`control.loop.profiles.${i}`, p);
  });
  if (!known.includes(l.emergency_profile)) throw bad('control.loop.emergency_profile', l.emergency_profile);
}

export function checkSemantics(config: Config, file: string): void {
  if (!config.profiles[config.profile]) throw unknownProfile(config.profile, config, `${file}: 'profile'`);
  for (const [name, p] of Object.entries(config.profiles)) {
    if (!p.full_resolution_tiers.includes('critical')) {
      throw invalid(
        file,
        `profiles.${name}.full_resolution_tiers`,
        'must include critical (critical processes are exported by every profile)',
      );
    }
  }
  checkPatterns(config, file);
  checkExport(config, file);
  checkSchedules(config.control.schedules, Object.keys(config.profiles), file, Date.now());
  checkLoop(config, file);
  checkListen(config, file);
  const p = config.privacy;
  if (p.command_line === 'hash' && !p.salt_file && !p.salt_env) {
    throw invalid(
      file,
      'privacy.command_line',
      'is hash: set privacy.salt_file or privacy.salt_env (the secret key of the hash)',
    );
  }
}

function checkPatterns(config: Config, file: string): void {
  const check = (key: string, list: string[]) => {
    list.forEach((p, i) => {
      try {
        new RE2(p);
      } catch (e) {
        throw new NrdotError(
          ErrorCodes.BAD_PATTERN,
          `${file}: '${key}[${i}]': invalid RE2 pattern /${p}/: ${(e as Error).message}`,
        );
      }
    });
  };
  check('classification.protected', config.classification.protected);
  for (const [t, rules] of Object.entries(config.classification.rules)) {
    check(`classification.rules.${t}.names`, rules.names);
    check(`classification.rules.${t}.paths`, rules.paths);
    check(`classification.rules.${t}.cmdlines`, rules.cmdlines);
  }
}

/** What the exporters refuse when they are built: specs, duplicates, headers, retry and breaker bounds. */
function checkExport(config: Config, file: string): void {
  parseExportSpecs(config.export, (i) => `${file}: 'export[${i}]'`);
  const otlp = config.export_options.otlp;
  try {
    normalizeHeaders(otlp.headers);
  } catch (e) {
    within(file, 'export_options.otlp.headers', e);
  }
  const r = otlp.retry;
  if (durationMs(r.max_interval) < durationMs(r.initial_interval)) {
    throw invalid(
      file,
      'export_options.otlp.retry.max_interval',
      `(${r.max_interval}) must be at least 'initial_interval' (${r.initial_interval})`,
    );
  }
  const b = otlp.breaker;
  if (durationMs(b.max_open_time) < durationMs(b.open_time)) {
    throw invalid(
      file,
      'export_options.otlp.breaker.max_open_time',
      `(${b.max_open_time}) must be at least 'open_time' (${b.open_time})`,
    );
  }
}

/** The control server and the OTLP receiver cannot share a fixed port. */
function checkListen(config: Config, file: string): void {
  const server = parseListen(config.server.listen, 'server.listen');
  const receiver = parseListen(config.receiver.listen, 'receiver.listen');
  if (!server || !receiver || server.port === 0 || server.port !== receiver.port) return;
  const wild = (h: string) => h === '0.0.0.0' || h === '::';
  if (server.host === receiver.host || wild(server.host) || wild(receiver.host)) {
    throw invalid(
      file,
      'receiver.listen',
      `(${config.receiver.listen}) uses the port of 'server.listen' (${config.server.listen}); give each its own port`,
    );
  }
}
