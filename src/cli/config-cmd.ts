import { loadConfig } from '../config/load.js';
import { effectiveYaml } from '../config/print.js';
import { processSecrets } from '../util/redact.js';

export function configCommand(file: string): void {
  const { config, signature } = loadConfig(file);
  if (signature.warning) process.stderr.write(`nrdot: warning: ${signature.warning}\n`);
  const signed = signature.signed ? `; signed by key ${signature.keyId}` : '';
  const rules = Object.values(config.classification.rules).reduce(
    (n, r) => n + r.names.length + r.paths.length + r.cmdlines.length,
    config.classification.protected.length,
  );
  // an export URL may hold a ${env:...} value: printed as its reference
  process.stdout.write(
    processSecrets.redact(
      `${file}: valid (profile ${config.profile}; profiles ${Object.keys(config.profiles).join(', ')}; ${rules} classification patterns; export ${config.export.join(' ')}${signed})\n`,
    ),
  );
}

/** `nrdot config print [--config F]`: the merged effective config as YAML, secrets masked. */
export function configPrintCommand(o: { config?: string }): void {
  process.stdout.write(effectiveYaml(loadConfig(o.config)));
}
