import { loadConfig } from '../config/load.js';
import { effectiveYaml } from '../config/print.js';

export function configCommand(file: string): void {
  const { config } = loadConfig(file);
  const rules = Object.values(config.classification.rules).reduce(
    (n, r) => n + r.names.length + r.paths.length + r.cmdlines.length,
    config.classification.protected.length,
  );
  process.stdout.write(
    `${file}: valid (profile ${config.profile}; profiles ${Object.keys(config.profiles).join(', ')}; ${rules} classification patterns; export ${config.export.join(' ')})\n`,
  );
}

/** `nrdot config print [--config F]`: the merged effective config as YAML, secrets masked. */
export function configPrintCommand(o: { config?: string }): void {
  process.stdout.write(effectiveYaml(loadConfig(o.config)));
}
