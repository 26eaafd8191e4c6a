/**
 * Which state dir a history command reads: --state-dir, else the state_dir
 * a --config file (merged over the default) names, else the default's.
 */
import * as path from 'node:path';
import { configsDir, DEFAULT_CONFIG_FILE, mergeConfig, readYamlFile } from '../../../config/load.js';
import { ErrorCodes, NrdotError } from '../../../core/errors.js';
import { resolveReferences } from '../secrets.js';

export function locateStateDir(o: { stateDir?: string; config?: string }): string {
  if (o.stateDir) return path.resolve(o.stateDir);
  let merged = readYamlFile(path.join(configsDir(), DEFAULT_CONFIG_FILE)) as { state_dir?: unknown };
  if (o.config) merged = mergeConfig(merged, readYamlFile(path.resolve(o.config))) as { state_dir?: unknown };
  const raw = merged.state_dir;
  if (typeof raw !== 'string' || raw === '') {
    throw new NrdotError(
      ErrorCodes.USAGE,
      `no state dir to read the config history from: give --state-dir DIR (the agent's --state-dir)${o.config ? `; ${o.config} sets no state_dir` : ', or --config FILE with state_dir set'}`,
    );
  }
  const { data } = resolveReferences({ state_dir: raw }, { source: o.config ?? DEFAULT_CONFIG_FILE });
  return path.resolve((data as { state_dir: string }).state_dir);
}
